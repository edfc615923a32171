using System.Diagnostics;
using Cis490.Protocols.Jobs;
using Xunit;
using Xunit.Abstractions;

namespace Cis490.Cluster.Tests;

/// <summary>Failures a fleet meets, made with real processes and real signals: a hung trainer, a job that always fails,
/// and a worker that is asked to stop (SIGTERM) mid-job.</summary>
[Collection(ClusterCollection.Name)]
public sealed class FailureTests(DataFixture data, ITestOutputHelper output)
{
    /// <summary>A job that trains for minutes (500 epochs of a transformer), so it is still running whatever the machine.</summary>
    private const string LongJob = "[[jobs]]\nmodel = \"transformer\"\nmode = \"realistic\"\nhyper = { max_epochs = 500, patience = 200 }\n";

    private static string Write(ClusterHarness h, string name, string text)
    {
        var path = Path.Combine(h.DataDir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static void Signal(int pid, string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", pid.ToString()]);
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }

    [Fact]
    public async Task A_stopped_trainer_stops_heartbeating_its_lease_expires_and_the_job_is_leased_again()
    {
        await using var h = new ClusterHarness(data.Small);
        // A short deadline and backoff so the test takes seconds; production: 30 s and 10 s (hocon/coordinator.conf).
        await h.StartCoordinator("--config", h.WriteConfig("coordinator-test.conf",
            "cis490.coordinator { heartbeat-deadline = 5s, lease-check-interval = 500ms, retry-backoff-base = 1s }"));
        await h.StartWorker("worker-a", "--config", h.WriteConfig("worker-test.conf", "cis490.worker.trainer-silence-limit = 3s"));
        Assert.Equal(0, (await h.RunShellAsOperator("manifest", "submit", Write(h, "long.toml", LongJob), "--coordinator", h.Address)).Exit);

        var running = (await h.WaitFor(j => j.Single() is { Status: JobStatus.Running }, TimeSpan.FromMinutes(2), "job running")).Single();
        var jobDir = h.JobDir("worker-a", running);
        var trainer = Assert.Single(ClusterHarness.TrainerProcesses(jobDir));
        Signal(trainer, "STOP"); // the process is alive but says nothing: a wedged trainer
        var stoppedAt = Stopwatch.StartNew();

        var expired = (await h.WaitFor(j => j.Single().FailedAttempts == 1, TimeSpan.FromSeconds(45), "lease expired")).Single();
        output.WriteLine($"trainer SIGSTOPped → lease expired after {stoppedAt.Elapsed.TotalSeconds:F1} s: {expired.LastError}");
        Assert.Contains("no heartbeat for 5 s", expired.LastError);
        // The worker was told its lease is gone and killed the stopped process; then the job is leased again after the backoff.
        var clock = Stopwatch.StartNew();
        while (ClusterHarness.TrainerProcesses(jobDir).Contains(trainer) && clock.Elapsed < TimeSpan.FromSeconds(20)) await Task.Delay(200);
        Assert.DoesNotContain(trainer, ClusterHarness.TrainerProcesses(jobDir));
        var again = (await h.WaitFor(j => j.Single() is { Status: JobStatus.Running } r && r.LeaseId > running.LeaseId,
            TimeSpan.FromMinutes(1), "job running again")).Single();
        Assert.Equal("worker-a", again.WorkerId);
    }

    [Fact]
    public async Task A_job_that_always_fails_is_retried_with_backoff_up_to_max_attempts_then_failed_with_its_last_error()
    {
        await using var h = new ClusterHarness(data.Small);
        await h.StartCoordinator("--config", h.WriteConfig("coordinator-test.conf", "cis490.coordinator.retry-backoff-base = 1s"));
        await h.StartWorker("worker-a");
        // Training on a host the data does not have: every attempt fails in the trainer process.
        var failing = "[[jobs]]\nmodel = \"knn\"\nmode = \"oracle\"\ntrain_hosts = [\"no-such-host\"]\nmax_attempts = 3\n";
        var clock = Stopwatch.StartNew();
        Assert.Equal(0, (await h.RunShellAsOperator("manifest", "submit", Write(h, "failing.toml", failing), "--coordinator", h.Address)).Exit);

        var failed = (await h.WaitFor(j => j.Single().Status == JobStatus.Failed, TimeSpan.FromMinutes(2), "job failed")).Single();
        output.WriteLine($"failed after {clock.Elapsed.TotalSeconds:F1} s: {failed.LastError}");

        Assert.Equal(3, failed.FailedAttempts);
        Assert.Equal(3, failed.LeaseId); // exactly three leases, no more
        Assert.Contains("trainer process exited with code", failed.LastError);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(3), "two backoffs (1 s, then 2 s) lie between the three attempts");
        Assert.Null(failed.RetryAt);
    }

    [Fact]
    public async Task SIGTERM_drains_a_worker_finished_jobs_complete_the_rest_is_handed_back_and_the_node_leaves_cleanly()
    {
        await using var h = new ClusterHarness(data.Small);
        await h.StartCoordinator();
        var worker = await h.StartWorker("worker-a", "--slots", "2",
            "--config", h.WriteConfig("worker-test.conf", "cis490.worker.drain-grace = 20s"));
        var jobs = LongJob + "[[jobs]]\nmodel = \"knn\"\nmode = \"oracle\"\nhyper = { k = 3 }\n";
        Assert.Equal(0, (await h.RunShellAsOperator("manifest", "submit", Write(h, "two.toml", jobs), "--coordinator", h.Address)).Exit);
        var before = await h.WaitFor(j => j.Count == 2 && j.Single(x => x.Model == "transformer").Status == JobStatus.Running,
            TimeSpan.FromMinutes(2), "long job running");
        var longJob = before.Single(x => x.Model == "transformer");
        var longDir = h.JobDir("worker-a", longJob);

        worker.Terminate(); // SIGTERM, as systemd or Ctrl-C sends it
        var stopping = Stopwatch.StartNew();
        Assert.True(await worker.WaitExit(TimeSpan.FromSeconds(60)), "the worker did not exit within the grace\n" + h.LogTails());
        output.WriteLine($"worker exited {stopping.Elapsed.TotalSeconds:F1} s after SIGTERM with code {worker.ExitCode}");

        Assert.Equal(0, worker.ExitCode);
        Assert.True(stopping.Elapsed >= TimeSpan.FromSeconds(19), "the long job was given its grace before being handed back");
        Assert.Empty(ClusterHarness.TrainerProcesses(longDir));
        var after = await h.WaitFor(j => j.All(x => x.Status is JobStatus.Pending or JobStatus.Completed), TimeSpan.FromSeconds(30), "leases ended");
        var handedBack = after.Single(x => x.Model == "transformer");
        Assert.Equal((JobStatus.Pending, 0), (handedBack.Status, handedBack.FailedAttempts)); // handed back: not a failed attempt
        Assert.Equal(JobStatus.Completed, after.Single(x => x.Model == "knn").Status);     // finished before or during the drain
        var log = await File.ReadAllTextAsync(worker.LogPath);
        Assert.Contains("1 handed back", log);
        Assert.Contains("Drained", log);

        // The job is not lost: the next worker takes it up.
        await h.StartWorker("worker-b");
        await h.WaitFor(j => j.Single(x => x.Model == "transformer") is { Status: JobStatus.Running, WorkerId: "worker-b" },
            TimeSpan.FromMinutes(2), "handed-back job running on worker-b");
    }
}
