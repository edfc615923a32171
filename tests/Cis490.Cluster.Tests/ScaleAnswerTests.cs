using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Cis490.Shell.Demo;
using Xunit;
using Xunit.Abstractions;

namespace Cis490.Cluster.Tests;

/// <summary>Answers of any size through real processes (issue 17): a 100 000-job manifest goes in through `manifest submit` (a
/// stream, past the 128 000-byte frame), every job comes back through `jobs list --all --json` (paged) and through the HTTP API's
/// cursor, an answer that cannot fit one message says "too large" (never "is it running?"), and a garbage manifest's rejection
/// is summarised. No workers: nothing trains. CIS490_TEST_SCALE_JOBS sets the size (default 100 000).</summary>
[Collection(ClusterCollection.Name)]
public sealed class ScaleAnswerTests(DataFixture data, ITestOutputHelper output)
{
    private static int Jobs => int.TryParse(Environment.GetEnvironmentVariable("CIS490_TEST_SCALE_JOBS"), out var n) && n > 0 ? n : 100_000;

    private static Task<(int Exit, string Stdout, string Stderr)> Operator(ClusterHarness h, params string[] args) =>
        h.RunShellAsOperator(["shell", "--coordinator", h.Address, .. args]);

    private static Task<(int Exit, string Stdout, string Stderr)> Shell(ClusterHarness h, params string[] args) =>
        ClusterHarness.RunShell(["shell", "--coordinator", h.Address, .. args]);

    [Fact]
    public async Task A_100000_job_manifest_goes_in_through_manifest_submit_and_comes_back_whole_through_the_shell_and_http()
    {
        var n = Jobs;
        await using var h = new ClusterHarness(data.Small);
        var httpPort = NodeProcess.FreePort();
        await h.StartCoordinator("--http-port", httpPort.ToString());

        var manifest = Path.Combine(h.DataDir, "many.toml");
        var text = new StringBuilder();
        for (var i = 1; i <= n; i++) text.Append($"[[jobs]]\nmodel = \"knn\"\nmode = \"oracle\"\nseed = {i}\n\n");
        await File.WriteAllTextAsync(manifest, text.ToString());

        var clock = Stopwatch.StartNew();
        var submitted = await Operator(h, "manifest", "submit", manifest);
        var submitTime = clock.Elapsed;
        Assert.True(submitted.Exit == 0, submitted.Stderr + submitted.Stdout);
        Assert.Contains($"{n} new job(s) pending, 0 already known", submitted.Stdout);

        clock.Restart();
        var listed = await Shell(h, "jobs", "list", "--all", "--json");
        var listTime = clock.Elapsed;
        Assert.True(listed.Exit == 0, listed.Stderr);
        var rows = JsonDocument.Parse(listed.Stdout).RootElement.GetProperty("jobs");
        Assert.Equal(n, rows.GetArrayLength());
        Assert.Equal(n, rows.EnumerateArray().Select(j => j.GetProperty("job_id").GetString()).Distinct().Count());

        // HTTP: the same cursor, page by page.
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}/") };
        clock.Restart();
        var ids = new HashSet<string>();
        string? after = null;
        var pages = 0;
        do
        {
            var page = JsonDocument.Parse(await http.GetStringAsync($"api/jobs?limit=5000{(after is null ? "" : $"&after={after}")}")).RootElement;
            pages++;
            foreach (var j in page.GetProperty("jobs").EnumerateArray()) Assert.True(ids.Add(j.GetProperty("job_id").GetString()!), "a job listed twice");
            Assert.Equal(n, page.GetProperty("total").GetInt32());
            after = page.GetProperty("next").ValueKind == JsonValueKind.Null ? null : page.GetProperty("next").GetInt64().ToString();
        } while (after is not null);
        var httpTime = clock.Elapsed;
        Assert.Equal(n, ids.Count);
        Assert.Equal((n + 4999) / 5000, pages);

        // One page too big for one message: "too large" and what to do, never "is it running?".
        var tooBig = await Shell(h, "jobs", "list", "--limit", n.ToString(), "--json");
        Assert.Equal(1, tooBig.Exit);
        Assert.Contains("too large", tooBig.Stderr);
        Assert.Contains("--limit", tooBig.Stderr);
        Assert.DoesNotContain("is it running", tooBig.Stderr);

        output.WriteLine($"{n} jobs ({new FileInfo(manifest).Length} bytes): manifest submit {submitTime.TotalSeconds:F1} s, " +
                         $"jobs list --all --json {listTime.TotalSeconds:F1} s, HTTP {pages} pages of 5000 {httpTime.TotalSeconds:F1} s");
        await File.AppendAllTextAsync(Path.Combine(Path.GetTempPath(), "cis490-scale-answers.txt"),
            $"{DateTimeOffset.UtcNow:u} {n} jobs: submit {submitTime.TotalSeconds:F1} s, list --all {listTime.TotalSeconds:F1} s, http {httpTime.TotalSeconds:F1} s\n");
    }

    [Fact]
    public async Task A_garbage_manifests_rejection_is_summarised_and_an_unpaged_page_too_large_for_a_message_says_so()
    {
        await using var h = new ClusterHarness(data.Small);
        await h.StartCoordinator();

        // ~60 KB of jobs without a mode: one error each, thousands of them.
        var garbage = Path.Combine(h.DataDir, "garbage.toml");
        var text = new StringBuilder();
        for (var i = 0; text.Length < 60_000; i++) text.Append($"[[jobs]]\nmodel = \"knn\"\nseed = {i}\n\n");
        await File.WriteAllTextAsync(garbage, text.ToString());

        var rejected = await Operator(h, "manifest", "submit", garbage);
        Assert.Equal(1, rejected.Exit);
        Assert.Contains("rejected, nothing changed", rejected.Stderr);
        Assert.Contains("more (all of them: --all-errors); by kind:", rejected.Stderr);
        Assert.DoesNotContain("is it running", rejected.Stderr);
        var every = await Operator(h, "manifest", "submit", garbage, "--all-errors");
        Assert.Equal(1, every.Exit);
        var errorLines = every.Stderr.Split('\n').Count(l => l.StartsWith("  ") && l.Contains("garbage.toml:"));
        Assert.True(errorLines > 1000, $"{errorLines} error lines with --all-errors:\n{every.Stderr[..Math.Min(2000, every.Stderr.Length)]}");
        Assert.Contains("no jobs", (await Shell(h, "jobs", "list")).Stdout);

        // 2 000 jobs listed with one request for all of them (an older client's unpaged shape does the same) do not fit a frame.
        var manifest = Path.Combine(h.DataDir, "two-thousand.toml");
        text.Clear();
        for (var i = 1; i <= 2000; i++) text.Append($"[[jobs]]\nmodel = \"knn\"\nmode = \"oracle\"\nseed = {i}\n\n");
        await File.WriteAllTextAsync(manifest, text.ToString());
        Assert.Equal(0, (await Operator(h, "manifest", "submit", manifest)).Exit);
        var tooBig = await Shell(h, "jobs", "list", "--limit", "2000");
        Assert.Equal(1, tooBig.Exit);
        Assert.Contains("too large", tooBig.Stderr);
        Assert.DoesNotContain("is it running", tooBig.Stderr);

        // The default page fits and says how to see the rest.
        var first = await Shell(h, "jobs", "list");
        Assert.True(first.Exit == 0, first.Stderr);
        Assert.Contains("of 2000 job(s) shown; more: jobs list --after", first.Stderr);
    }
}
