using System.Diagnostics;
using System.Net;
using Cis490.Protocols.Jobs;
using Cis490.Shell.Demo;
using Xunit;
using Xunit.Abstractions;

namespace Cis490.Cluster.Tests;

/// <summary>Faults are loud and bounded, and the artifact index is whole, with real processes: a damaged journal stops the node
/// with a message instead of READY; a hostile manifest is one logged rejection, not a restart loop; a coordinator that dies
/// between a bundle's rename and its index row finds the row there after its restart, and reads go on past a garbage line.</summary>
[Collection(ClusterCollection.Name)]
public sealed class LoudFaultTests(DataFixture data, ITestOutputHelper output)
{
    private static string Write(ClusterHarness h, string name, string text)
    {
        var path = Path.Combine(h.DataDir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static string[] LogLines(NodeProcess node) => File.ReadAllLines(node.LogPath);

    [Fact]
    public async Task A_coordinator_on_a_journal_with_damaged_pages_exits_non_zero_naming_the_file_and_never_says_ready()
    {
        await using var h = new ClusterHarness(data.Small);
        var first = await h.StartCoordinator();
        Assert.Equal(0, (await h.RunShellAsOperator("manifest", "submit", Write(h, "m.toml", "[[jobs]]\nmodel = \"knn\"\nmode = \"realistic\"\n"),
            "--coordinator", h.Address)).Exit);
        first.Terminate(); // a clean stop: the journal's log is checkpointed into the file
        Assert.True(await first.WaitExit(TimeSpan.FromSeconds(30)), "the first coordinator did not stop");
        var journal = Path.Combine(h.DataDir, "journal.db");
        var bytes = File.ReadAllBytes(journal);
        Assert.True(bytes.Length > 4096, $"the journal has {bytes.Length} bytes");
        var garbage = new Random(490);
        for (var i = 4096; i < bytes.Length; i++) bytes[i] = (byte)garbage.Next(256); // every page after the header page
        File.WriteAllBytes(journal, bytes);

        var clock = Stopwatch.StartNew();
        var second = h.LaunchCoordinator(null);
        Assert.True(await second.WaitExit(TimeSpan.FromSeconds(30)), "the coordinator on a damaged journal did not exit\n" + h.LogTails());
        output.WriteLine($"exited with {second.ExitCode} after {clock.Elapsed.TotalSeconds:F1} s");

        Assert.NotEqual(0, second.ExitCode);
        var lines = LogLines(second);
        Assert.DoesNotContain(lines, l => l.StartsWith("READY", StringComparison.Ordinal));
        var message = Assert.Single(lines, l => l.StartsWith("[stderr] cis490 coordinator: the SQLite journal", StringComparison.Ordinal));
        output.WriteLine(message);
        Assert.Contains(journal, message);
        Assert.Contains("damaged", message);
        Assert.Contains("restore a backup", message);
        Assert.Contains("move it aside", message);
    }

    [Fact]
    public async Task A_hostile_manifest_given_at_start_is_rejected_once_with_its_line_and_the_coordinator_stays_healthy()
    {
        await using var h = new ClusterHarness(data.Small);
        var nested = string.Concat(Enumerable.Repeat("[", 100)) + "1" + string.Concat(Enumerable.Repeat("]", 100));
        var manifest = Write(h, "hostile.toml", $"[[jobs]]\nmodel = \"knn\"\nmode = \"realistic\"\nhyper = {{ k = {nested} }}\n");
        var httpPort = NodeProcess.FreePort();
        var node = await h.StartCoordinator("--manifest", manifest, "--http-port", httpPort.ToString());
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}"), Timeout = TimeSpan.FromSeconds(15) };

        // Healthy throughout: ten probes over five seconds, every one a 200 from the coordinator itself.
        for (var probe = 0; probe < 10; probe++)
        {
            using var response = await http.GetAsync("/api/health");
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"probe {probe}: {response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            await Task.Delay(500);
        }
        // A reload of the same file through the shell: a clear refusal with the line, and still no restart.
        var reload = await h.RunShellAsOperator("manifest", "reload", "--coordinator", h.Address);
        using var after = await http.GetAsync("/api/health");
        var health = await ClusterHarness.RunShell("shell", "--coordinator", h.Address, "health");

        Assert.NotEqual(0, reload.Exit);
        Assert.Contains("hostile.toml:4", reload.Stdout + reload.Stderr);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.True(health.Exit == 0, health.Stdout + health.Stderr); // the shell's view of the same: serving, never restarted
        Assert.Contains("coordinator: serving", health.Stdout);
        Assert.Contains("restarts:    0 since its node started", health.Stdout);
        var lines = LogLines(node);
        var rejection = Assert.Single(lines, l => l.Contains("given at start was rejected", StringComparison.Ordinal));
        Assert.Contains($"{manifest}:4:", rejection);
        Assert.Contains("nested more than 64 levels", rejection);
        Assert.Single(lines, l => l.Contains("JobCoordinator recovered", StringComparison.Ordinal)); // started once, never again
        Assert.False(node.HasExited);
    }

    [Fact]
    public async Task A_coordinator_killed_between_a_bundles_rename_and_its_index_row_has_exactly_one_row_after_restart_and_the_job_completes()
    {
        await using var h = new ClusterHarness(data.Small);
        var crashing = h.LaunchCoordinator(new Dictionary<string, string> { ["CIS490_FAULT"] = "store-crash-after-rename" } /* Coordinator/Artifacts/FaultInjection.cs */);
        await crashing.WaitReady(TimeSpan.FromSeconds(60));
        // The trainer offers its bundle again 10 s after an unanswered upload (production 120 s: worker.conf), so the test
        // does not wait out a long transfer's allowance for an upload that died with the coordinator.
        await h.StartWorker("worker-a", "--config", h.WriteConfig("worker-test.conf", "cis490.worker.upload-ack-timeout = 10s"));
        Assert.Equal(0, (await h.RunShellAsOperator("manifest", "submit", Write(h, "m.toml", "[[jobs]]\nmodel = \"knn\"\nmode = \"realistic\"\n"),
            "--coordinator", h.Address)).Exit);

        Assert.True(await crashing.WaitExit(TimeSpan.FromMinutes(3)), "the coordinator never reached the fault point\n" + h.LogTails());
        var models = Path.Combine(h.DataDir, "models");
        var bundle = Assert.Single(Directory.GetFiles(models, "bundle.tar.zst", SearchOption.AllDirectories));
        var sha = Path.GetFileName(Path.GetDirectoryName(bundle)!);
        var index = Path.Combine(models, "index.jsonl");
        Assert.False(File.Exists(index) && File.ReadAllText(index).Contains(sha, StringComparison.Ordinal), "the row was written before the crash");

        var restarted = await h.StartCoordinator();
        var job = (await h.WaitFor(j => j.Single().Status == JobStatus.Completed, TimeSpan.FromMinutes(4), "job completed after the restart")).Single();

        // The bundle renamed before the crash has its row (written from the bundle at the restart); the job completed either with
        // that bundle offered again by its trainer, or with a new attempt's bundle (its ckpt.json names another lease, so other
        // bytes): either way every artifact has exactly one row.
        output.WriteLine(job.ArtifactSha256 == sha ? "completed with the bundle stored before the crash" : $"completed by lease {job.LeaseId} with a new bundle");
        var lines = File.ReadAllLines(index);
        var row = Assert.Single(lines, l => l.Contains(sha, StringComparison.Ordinal));
        Assert.Contains($"\"job_id\":\"{job.JobId}\"", row);
        Assert.Single(lines, l => l.Contains(job.ArtifactSha256!, StringComparison.Ordinal));
        Assert.Equal(lines.Length, lines.Select(l => l[..80]).Distinct().Count()); // {"sha256":"<64 hex>"… : no artifact twice
        Assert.Contains(LogLines(restarted), l => l.Contains($"wrote the missing row of {sha}", StringComparison.Ordinal));

        // A garbage line in the index: reads still work, and the bad line is reported.
        File.AppendAllText(index, "this is not a row\n{}\n");
        var list = await ClusterHarness.RunShell("shell", "--coordinator", h.Address, "artifacts", "list");
        Assert.True(list.Exit == 0, list.Stdout + list.Stderr);
        Assert.Contains(sha[..12], list.Stdout);
        var get = await ClusterHarness.RunShell("shell", "--coordinator", h.Address, "artifacts", "get", sha, Path.Combine(h.DataDir, "fetched"));
        Assert.True(get.Exit == 0, get.Stdout + get.Stderr);
        Assert.Single(Directory.GetFiles(Path.Combine(h.DataDir, "fetched"), "*", SearchOption.AllDirectories));
    }
}
