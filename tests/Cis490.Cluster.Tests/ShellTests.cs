using System.Diagnostics;
using System.Text.Json;
using Cis490.Protocols.Jobs;
using Cis490.Shared.Artifacts;
using Cis490.Shell.Demo;
using Xunit;

namespace Cis490.Cluster.Tests;

/// <summary>Every shell command one-shot, as a script runs it, against real coordinator and worker processes: output, JSON,
/// refusals and exit statuses (0 done, 1 refused or failed, 2 usage).</summary>
[Collection(ClusterCollection.Name)]
public sealed class ShellTests(DataFixture data)
{
    private static string Knn(params (string Mode, int K)[] jobs) =>
        string.Join("\n", jobs.Select(j => $"[[jobs]]\nmodel = \"knn\"\nmode = \"{j.Mode}\"\nhyper = {{ k = {j.K} }}\n"));

    private static string Write(ClusterHarness h, string name, string text)
    {
        var path = Path.Combine(h.DataDir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static Task<(int Exit, string Stdout, string Stderr)> Shell(ClusterHarness h, params string[] args) =>
        ClusterHarness.RunShell(["shell", "--coordinator", h.Address, .. args]);

    private static Task<(int Exit, string Stdout, string Stderr)> Operator(ClusterHarness h, params string[] args) =>
        h.RunShellAsOperator(["shell", "--coordinator", h.Address, .. args]);

    private static JsonElement Json(string stdout) => JsonDocument.Parse(stdout).RootElement;

    [Fact]
    public async Task Every_read_command_answers_for_people_and_scripts_and_an_artifact_downloads_with_its_hash_verified()
    {
        await using var h = new ClusterHarness(data.Small);
        await h.StartCoordinator();
        await h.StartWorker("worker-a");

        var unauthorised = await Shell(h, "manifest", "reload", Write(h, "jobs.toml", Knn(("realistic", 3), ("oracle", 3))));
        Assert.Equal(1, unauthorised.Exit);
        Assert.Contains("needs the operator token", unauthorised.Stderr);
        var loaded = await Operator(h, "manifest", "reload", Path.Combine(h.DataDir, "jobs.toml"));
        Assert.True(loaded.Exit == 0, loaded.Stderr);
        Assert.Contains("2 new job(s) pending", loaded.Stdout);
        var first = (await h.Jobs()).First();

        // Follow a job from wherever it is to its end: lines (not a redrawn bar) when stdout is not a terminal; exit 0 = completed.
        var follow = await Shell(h, "jobs", "show", first.JobId[..12], "--follow");
        Assert.True(follow.Exit == 0, follow.Stderr + follow.Stdout);
        Assert.Contains($"job {first.JobId[..12]} completed: artifact", follow.Stdout);
        var jobs = await h.WaitFor(j => j.All(x => x.Status == JobStatus.Completed), TimeSpan.FromMinutes(2), "both jobs completed");
        first = jobs.Single(j => j.JobId == first.JobId);

        var status = await Shell(h, "status");
        Assert.True(status.Exit == 0, status.Stderr);
        Assert.Contains("workers:  1 registered, 1 free slot(s)", status.Stdout);
        Assert.Contains("jobs:     2 completed", status.Stdout);
        var statusJson = Json((await Shell(h, "status", "--json")).Stdout);
        Assert.Equal(2, statusJson.GetProperty("job_counts").GetProperty("completed").GetInt32());
        Assert.Equal(2, statusJson.GetProperty("members").GetArrayLength());

        var listed = Json((await Shell(h, "jobs", "list", "--status", "completed", "--model", "knn", "--json")).Stdout);
        Assert.Equal(2, listed.GetProperty("jobs").GetArrayLength());
        Assert.Contains("no jobs", (await Shell(h, "jobs", "list", "--status", "failed")).Stdout);

        var show = await Shell(h, "jobs", "show", first.JobId);
        Assert.Contains("status:   completed", show.Stdout);
        Assert.Contains("OUTCOME", show.Stdout);
        Assert.Contains("worker-a", show.Stdout);
        var detail = Json((await Shell(h, "jobs", "show", first.JobId[..8], "--json")).Stdout);
        Assert.Equal("completed", detail.GetProperty("attempts")[0].GetProperty("outcome").GetString());
        Assert.Equal(first.JobId, detail.GetProperty("spec").GetProperty("job_id").GetString());

        // Logs: every progress line the trainer printed, including the last ones before it exited; --follow ends with the job.
        var logs = await Shell(h, "jobs", "logs", first.JobId);
        Assert.True(logs.Exit == 0, logs.Stderr);
        Assert.Contains("#1 ", logs.Stdout);
        Assert.Contains("checkpoint written", logs.Stdout);
        var followed = await Shell(h, "jobs", "logs", first.JobId, "--follow", "--json");
        Assert.Equal(0, followed.Exit);
        var lines = followed.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(Enumerable.Range(1, lines.Count).Select(i => (long)i), lines.Select(l => l.GetProperty("number").GetInt64()));

        var workers = await Shell(h, "workers");
        Assert.Contains("worker-a", workers.Stdout);
        Assert.Contains("0/1", workers.Stdout);
        Assert.Equal("worker-a", Json((await Shell(h, "workers", "--json")).Stdout).GetProperty("workers")[0].GetProperty("worker_id").GetString());

        var artifacts = Json((await Shell(h, "artifacts", "list", "--json")).Stdout).GetProperty("artifacts");
        Assert.Equal(jobs.Select(j => j.ArtifactSha256).Order(), artifacts.EnumerateArray().Select(a => a.GetProperty("sha256").GetString()).Order());
        Assert.Contains(first.ArtifactSha256![..16], (await Shell(h, "artifacts", "list")).Stdout);
        var into = Path.Combine(h.DataDir, "downloads");
        var get = await Shell(h, "artifacts", "get", first.ArtifactSha256[..10], into);
        Assert.True(get.Exit == 0, get.Stderr);
        Assert.Contains("sha256 verified", get.Stdout);
        Assert.Equal(first.ArtifactSha256, ArtifactBundle.HashFile(Path.Combine(into, first.ArtifactSha256 + ".tar.zst")));
        Assert.Empty(Directory.GetFiles(into, "*.part"));

        var cluster = await Shell(h, "cluster", "show");
        Assert.Contains(h.Seed, cluster.Stdout);
        Assert.Contains("coordinator", cluster.Stdout);
        Assert.Contains("worker", Json((await Shell(h, "cluster", "show", "--json")).Stdout).GetProperty("members").ToString());

        // Piped into the interactive form, lines run like one-shot commands; the exit status is the worst of them.
        var piped = await RunWithInput(["shell", "--coordinator", h.Address], "status\njobs list\nwrkers\n");
        Assert.Equal(2, piped.Exit);
        Assert.Contains("jobs:     2 completed", piped.Stdout);
        Assert.Contains("did you mean 'workers'?", piped.Stderr);
    }

    [Fact]
    public async Task Refusals_and_usage_errors_say_what_is_wrong_and_exit_one_or_two()
    {
        await using var h = new ClusterHarness(data.Small);
        await h.StartCoordinator();
        var loaded = await Operator(h, "manifest", "reload", Write(h, "one.toml", Knn(("oracle", 1))));
        Assert.True(loaded.Exit == 0, loaded.Stderr);
        var job = (await h.Jobs()).Single();

        (string[] Args, int Exit, string Says)[] cases =
        [
            (["jbos", "list"], 2, "did you mean 'jobs'?"),
            (["jobs", "show"], 2, "missing ID"),
            (["jobs", "list", "--colour", "red"], 2, "unknown option: --colour"),
            (["jobs", "list", "--status", "sleeping"], 2, "--status must be one of"),
            (["jobs", "show", "deadbeefdeadbeef"], 1, "no job id starts with 'deadbeefdeadbeef'"),
            (["jobs", "logs", "abc"], 1, "is not a job id"),
            (["jobs", "cancel", job.JobId, "--token", "not-the-token"], 1, "wrong operator token"),
            (["jobs", "requeue", job.JobId, "--token", "not-the-token"], 1, "wrong operator token"),
            (["cluster", "down", h.Seed, "--token", "not-the-token"], 1, "wrong operator token"),
            (["manifest", "reload"], 1, "needs the operator token"),
            (["artifacts", "get", "0123456789abcdef", h.DataDir], 1, "no stored artifact's sha256 starts with"),
            (["artifacts", "get", "xyz", h.DataDir], 1, "is not an artifact sha256"),
        ];
        foreach (var (args, exit, says) in cases)
        {
            var r = await Shell(h, args);
            Assert.True(r.Exit == exit && r.Stderr.Contains(says), $"{string.Join(' ', args)} → exit {r.Exit}, stderr: {r.Stderr}");
        }

        (string[] Args, int Exit, string Says)[] asOperator =
        [
            (["jobs", "requeue", job.JobId], 1, "only failed or cancelled jobs can be requeued"),
            (["cluster", "leave", "127.0.0.1:1"], 1, "no cluster member at 127.0.0.1:1; members: " + h.Seed),
            (["cluster", "down", "not-an-address"], 1, "is not a member address"),
            (["manifest", "reload"], 1, "started without --manifest"),
            (["manifest", "reload", Path.Combine(h.DataDir, "missing.toml")], 1, "no such file"),
        ];
        foreach (var (args, exit, says) in asOperator)
        {
            var r = await Operator(h, args);
            Assert.True(r.Exit == exit && r.Stderr.Contains(says), $"{string.Join(' ', args)} → exit {r.Exit}, stderr: {r.Stderr}");
        }

        // Nothing above changed the job; cancel and requeue with the token do.
        Assert.Equal(JobStatus.Pending, (await h.Jobs()).Single().Status);
        var cancel = await Operator(h, "jobs", "cancel", job.JobId[..12], "--reason", "test");
        Assert.True(cancel.Exit == 0, cancel.Stderr);
        var followCancelled = await Shell(h, "jobs", "show", job.JobId, "--follow");
        Assert.Equal(1, followCancelled.Exit); // a followed job that did not complete is a failure for a script
        Assert.Contains("cancelled: test", followCancelled.Stdout);
        var requeue = await Operator(h, "jobs", "requeue", job.JobId);
        Assert.True(requeue.Exit == 0, requeue.Stderr);
        Assert.Contains("requeued: pending", requeue.Stdout);
        Assert.Equal(JobStatus.Pending, (await h.Jobs()).Single().Status);
    }

    [Fact]
    public async Task A_coordinator_started_with_a_manifest_loads_it_and_reloads_it_and_members_can_be_asked_to_leave_or_be_downed()
    {
        await using var h = new ClusterHarness(data.Small);
        var manifest = Write(h, "fleet.toml", Knn(("realistic", 5)));
        using var coordinator = NodeProcess.Start("coordinator-m", "Cis490.Coordinator",
            ["--port", h.Port.ToString(), "--data-dir", h.DataDir, "--manifest", manifest], h.Logs);
        await coordinator.WaitReady(TimeSpan.FromSeconds(60));
        await h.WaitFor(j => j.Count == 1, TimeSpan.FromSeconds(30), "the --manifest job loaded at start");

        File.WriteAllText(manifest, Knn(("realistic", 5), ("oracle", 5), ("oracle", 9)));
        var reload = await Operator(h, "manifest", "reload");
        Assert.True(reload.Exit == 0, reload.Stderr);
        Assert.Contains("2 new job(s) pending, 1 already known", reload.Stdout);

        var a = await h.StartWorker("worker-a");
        var b = await h.StartWorker("worker-b");
        var addresses = await WaitForWorkers(h, 2);
        var leave = await Operator(h, "cluster", "leave", addresses["worker-a"].Replace("akka.tcp://cis490@", ""));
        Assert.True(leave.Exit == 0, leave.Stderr);
        Assert.Contains("asked to leave", leave.Stdout);
        var down = await Operator(h, "cluster", "down", addresses["worker-b"]);
        Assert.True(down.Exit == 0, down.Stderr);
        Assert.Contains("marked down", down.Stdout);

        // Both old incarnations leave the membership (a worker process may join again later under a new address).
        var clock = Stopwatch.StartNew();
        string members = "";
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            members = (await Shell(h, "cluster", "show")).Stdout;
            if (!members.Contains(addresses["worker-a"]) && !members.Contains(addresses["worker-b"])) break;
            await Task.Delay(250);
        }
        Assert.DoesNotContain(addresses["worker-a"], members);
        Assert.DoesNotContain(addresses["worker-b"], members);
        Assert.Contains(h.Seed, members);
        GC.KeepAlive((a, b));
    }

    /// <summary>Polls <c>workers --json</c> until <paramref name="count"/> workers are registered; their addresses by id.</summary>
    private static async Task<Dictionary<string, string>> WaitForWorkers(ClusterHarness h, int count)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            var r = await Shell(h, "workers", "--json");
            if (r.Exit == 0 && Json(r.Stdout).GetProperty("workers") is { } w && w.GetArrayLength() == count)
                return w.EnumerateArray().ToDictionary(x => x.GetProperty("worker_id").GetString()!, x => x.GetProperty("address").GetString()!);
            await Task.Delay(250);
        }
        throw new TimeoutException($"{count} workers did not register within 60 s\n{h.LogTails()}");
    }

    /// <summary>Runs the shell program with <paramref name="input"/> on its standard input (not a terminal).</summary>
    private static async Task<(int Exit, string Stdout, string Stderr)> RunWithInput(string[] args, string input)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(NodeProcess.ProgramPath("Cis490.Shell"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.StandardInput.WriteAsync(input);
        p.StandardInput.Close();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await p.WaitForExitAsync(cts.Token);
        return (p.ExitCode, await stdout, await stderr);
    }
}
