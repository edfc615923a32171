using System.Diagnostics;
using System.Text.Json;
using Cis490.Protocols.Jobs;
using Cis490.Protocols.Operator;
using Xunit;
using Xunit.Abstractions;

namespace Cis490.Cluster.Tests;

/// <summary>The walking skeleton as a user runs it: real coordinator and worker processes on loopback, the shell as a process,
/// and failures made by killing real processes.</summary>
[Collection(ClusterCollection.Name)]
public sealed class ClusterTests(DataFixture data, ITestOutputHelper output)
{
    private static string Manifest(params (string Mode, int K)[] jobs) =>
        string.Join("\n", jobs.Select(j => $"[[jobs]]\nmodel = \"knn\"\nmode = \"{j.Mode}\"\nhyper = {{ k = {j.K} }}\n"));

    private static string WriteManifest(ClusterHarness h, string name, string text)
    {
        var path = Path.Combine(h.DataDir, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public async Task A_three_process_cluster_trains_every_job_stores_each_artifact_once_and_a_restarted_coordinator_recovers_it()
    {
        await using var h = new ClusterHarness(data.Small);
        await h.StartCoordinator();
        await h.StartWorker("worker-a");
        await h.StartWorker("worker-b");

        var manifest = WriteManifest(h, "jobs.toml", Manifest(("realistic", 1), ("realistic", 7), ("oracle", 1), ("oracle", 7)));
        var submit = await h.RunShellAsOperator("manifest", "submit", manifest, "--coordinator", h.Address);
        Assert.True(submit.Exit == 0, submit.Stderr);
        Assert.Contains("4 new job(s)", submit.Stdout);

        var jobs = await h.WaitFor(j => j.Count == 4 && j.All(x => x.Status == JobStatus.Completed), TimeSpan.FromMinutes(3), "all jobs completed");

        // Both workers took part, every job has an artifact, and the store holds exactly one bundle and one index row per job.
        Assert.Equal(["worker-a", "worker-b"], jobs.Select(j => j.WorkerId!).Distinct().Order());
        var rows = File.ReadAllLines(Path.Combine(h.DataDir, "models", "index.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(jobs.Select(j => j.JobId).Order(), rows.Select(r => r.GetProperty("job_id").GetString()!).Order());
        foreach (var job in jobs)
        {
            var bundle = Path.Combine(h.DataDir, "models", $"knn_{job.Mode}", job.ArtifactSha256!, "bundle.tar.zst");
            Assert.True(File.Exists(bundle), bundle);
            Assert.Equal(job.ArtifactSha256, Shared.Artifacts.ArtifactBundle.HashFile(bundle));
            Assert.True(job.Metrics["val_macro_f1"] > 0.3, $"val macro F1 {job.Metrics["val_macro_f1"]}");
        }

        // The one-shot shell, for scripts and for people.
        var json = await ClusterHarness.RunShell("shell", "--coordinator", h.Address, "jobs", "list", "--json");
        Assert.True(json.Exit == 0, json.Stderr);
        var listed = JsonDocument.Parse(json.Stdout).RootElement.GetProperty("jobs");
        Assert.Equal(4, listed.GetArrayLength());
        Assert.All(listed.EnumerateArray(), j => Assert.Equal("completed", j.GetProperty("status").GetString()));
        var text = await ClusterHarness.RunShell("shell", "--coordinator", h.Address, "jobs", "list");
        Assert.Contains("completed", text.Stdout);
        Assert.Contains(jobs[0].JobId[..12], text.Stdout);

        // Restart the coordinator process on the same data directory: the same job states come back from the journal.
        h.Coordinator!.Terminate();
        Assert.True(await h.Coordinator.WaitExit(TimeSpan.FromSeconds(30)), "the coordinator did not exit on SIGTERM\n" + h.LogTails());
        await h.StartCoordinator();
        var recovered = await h.WaitFor(j => j.Count == 4, TimeSpan.FromSeconds(60), "recovered job table");
        Assert.Equal(jobs.Select(j => (j.JobId, j.Status, j.ArtifactSha256, j.LeaseId)).Order(),
            recovered.Select(j => (j.JobId, j.Status, j.ArtifactSha256, j.LeaseId)).Order());

        // Submitting the same manifest again is idempotent.
        var again = await h.RunShellAsOperator("manifest", "submit", manifest, "--coordinator", h.Address);
        Assert.Contains("0 new job(s) pending, 4 already known", again.Stdout);
    }

    [Fact]
    public async Task A_worker_killed_mid_job_loses_its_lease_and_the_other_worker_completes_the_job_with_one_artifact()
    {
        await using var h = new ClusterHarness(data.Large);
        await h.StartCoordinator();
        var workers = new Dictionary<string, Shell.Demo.NodeProcess>
        {
            ["worker-a"] = await h.StartWorker("worker-a"),
            ["worker-b"] = await h.StartWorker("worker-b"),
        };
        // A gbt job of 200 rounds (about 10 s here) at a tiny eta (the loss falls every round, so early stopping does not cut it short): seconds of training whatever the machine.
        // (A knn job was used until its scoring got fast enough to finish before the kill.)
        var slow = "[[jobs]]\nmodel = \"gbt\"\nmode = \"oracle\"\nhyper = { num_boost_round = 200, early_stopping_rounds = 200, eta = 0.001 }\n";
        var submit = await h.RunShellAsOperator("manifest", "submit", WriteManifest(h, "one.toml", slow), "--coordinator", h.Address);
        Assert.True(submit.Exit == 0, submit.Stderr);

        // Kill the worker while its trainer is mid-job: running means its trainer process has started, and the job needs
        // seconds more.
        var running = (await h.WaitFor(j => j.Single() is { Status: JobStatus.Running }, TimeSpan.FromMinutes(2), "job running")).Single();
        var victim = running.WorkerId!;
        var firstLease = running.LeaseId;
        workers[victim].Kill();
        var killedAt = Stopwatch.StartNew();

        var releasedAt = (await h.WaitFor(j => j.Single().LeaseId > firstLease, TimeSpan.FromMinutes(1), "job re-leased")).Single();
        var toReLease = killedAt.Elapsed;
        var done = (await h.WaitFor(j => j.Single().Status == JobStatus.Completed, TimeSpan.FromMinutes(4), "job completed")).Single();
        output.WriteLine($"SIGKILL of {victim} → job re-leased to {releasedAt.WorkerId} in {toReLease.TotalSeconds:F1} s; completed {killedAt.Elapsed.TotalSeconds:F1} s after the kill");

        Assert.NotEqual(victim, done.WorkerId);
        Assert.Equal(0, done.FailedAttempts); // the node failed, not the job: not an attempt
        var rows = File.ReadAllLines(Path.Combine(h.DataDir, "models", "index.jsonl"));
        Assert.Single(rows);
        Assert.Single(Directory.GetDirectories(Path.Combine(h.DataDir, "models", "gbt_oracle")));
        Assert.False(workers[done.WorkerId!].HasExited);
    }

    [Fact]
    public async Task A_bad_manifest_from_the_command_line_names_the_file_and_line_and_changes_nothing()
    {
        await using var h = new ClusterHarness(data.Small);
        await h.StartCoordinator();
        var good = await h.RunShellAsOperator("manifest", "submit", WriteManifest(h, "good.toml", Manifest(("realistic", 3))), "--coordinator", h.Address);
        Assert.True(good.Exit == 0, good.Stderr);

        var bad = WriteManifest(h, "bad.toml", "[[jobs]]\nmodel = \"knn\"\nmode = \"realistic\"\nhyper = { k = 2 }\n\n[[jobs]]\nmodel = \"gbt-turbo\"\nmode = \"oracle\"\n");
        var rejected = await h.RunShellAsOperator("manifest", "submit", bad, "--coordinator", h.Address);
        var broken = WriteManifest(h, "broken.toml", "[[jobs]]\nmodel = \"knn\nmode = \"oracle\"\n");
        var unparsable = await h.RunShellAsOperator("manifest", "submit", broken, "--coordinator", h.Address);

        Assert.Equal(1, rejected.Exit);
        Assert.Contains("bad.toml:7:", rejected.Stderr);
        Assert.Contains("gbt-turbo", rejected.Stderr);
        Assert.Contains("nothing changed", rejected.Stderr);
        Assert.Equal(1, unparsable.Exit);
        Assert.Contains("broken.toml:2:", unparsable.Stderr);
        Assert.Contains("TOML syntax", unparsable.Stderr);
        var jobs = await h.Jobs();
        Assert.Single(jobs); // the valid job in bad.toml was not added either: all or nothing
    }

    [Fact]
    public async Task Cancelling_a_running_job_from_the_shell_stops_its_trainer_process_on_the_worker()
    {
        await using var h = new ClusterHarness(data.Large);
        await h.StartCoordinator();
        await h.StartWorker("worker-a");
        // A job far longer than the test: a transformer allowed 500 epochs and 200 without improvement (minutes per run on 2 cores),
        // so the cancel always lands mid-job, however fast the machine.
        var longJob = "[[jobs]]\nmodel = \"transformer\"\nmode = \"realistic\"\nhyper = { max_epochs = 500, patience = 200 }\n";
        var submit = await h.RunShellAsOperator("manifest", "submit", WriteManifest(h, "one.toml", longJob), "--coordinator", h.Address);
        Assert.True(submit.Exit == 0, submit.Stderr);
        // Running means the trainer process has started (the worker reports it right after starting it).
        var running = (await h.WaitFor(j => j.Single() is { Status: JobStatus.Running }, TimeSpan.FromMinutes(2), "job running")).Single();
        var jobDir = Path.Combine(h.DataDir, "work", "worker-a", $"{running.JobId[..12]}-lease{running.LeaseId}");
        Assert.NotEmpty(ClusterHarness.TrainerProcesses(jobDir));

        var forged = await ClusterHarness.RunShell("shell", "--coordinator", h.Address, "jobs", "cancel", running.JobId, "--token", "not-the-token");
        Assert.Equal(1, forged.Exit);
        Assert.Contains("wrong operator token", forged.Stderr);
        Assert.Equal(JobStatus.Running, (await h.Jobs()).Single().Status);

        var cancel = await h.RunShellAsOperator("shell", "--coordinator", h.Address, "jobs", "cancel", running.JobId[..12], "--reason", "test");
        Assert.True(cancel.Exit == 0, cancel.Stderr);
        Assert.Contains("was told to stop", cancel.Stdout);

        var clock = Stopwatch.StartNew();
        while ((ClusterHarness.TrainerProcesses(jobDir).Count > 0 || Directory.Exists(jobDir)) && clock.Elapsed < TimeSpan.FromSeconds(20)) await Task.Delay(200);
        Assert.Empty(ClusterHarness.TrainerProcesses(jobDir));
        Assert.False(Directory.Exists(jobDir), "the trainer's folder should be gone\n" + h.LogTails());
        Assert.Equal(JobStatus.Cancelled, (await h.Jobs()).Single().Status);
        var again = await h.RunShellAsOperator("shell", "--coordinator", h.Address, "jobs", "cancel", running.JobId, "--reason", "twice");
        Assert.Equal(1, again.Exit);
        Assert.Contains("already cancelled", again.Stderr);
    }


    [Fact]
    public async Task The_shell_says_clearly_when_no_coordinator_answers()
    {
        var result = await ClusterHarness.RunShell("shell", "--coordinator", $"127.0.0.1:{Shell.Demo.NodeProcess.FreePort()}", "jobs", "list");

        Assert.NotEqual(0, result.Exit);
        Assert.Contains("no answer from a coordinator", result.Stderr);
    }
}
