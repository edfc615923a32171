using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Cis490.Protocols.Jobs;
using Cis490.Protocols.Operator;
using Cis490.Shell.Client;
using Cis490.Shell.Demo;
using Cis490.Testing;
using Xunit;
using Xunit.Abstractions;

namespace Cis490.Cluster.Tests;

/// <summary>Training outlives the coordinator and the worker's own membership: a coordinator SIGKILLed and restarted loses no running
/// trainer, and a worker paused past its lease learns, when it resumes, that the lease was given away, kills that trainer and rejoins
/// without a restart.</summary>
[Collection(ClusterCollection.Name)]
public sealed class SurvivalTests(DataFixture data, ITestOutputHelper output)
{
    /// <summary>A transformer for <paramref name="epochs"/> epochs (no early stop): ~0.6 s an epoch alone on the small data, so tens
    /// of seconds to a couple of minutes with two trainers on two shared cores: still running across a restart, done within the test.</summary>
    private static string Transformer(int epochs) =>
        $"[[jobs]]\nmodel = \"transformer\"\nmode = \"realistic\"\nhyper = {{ max_epochs = {epochs}, patience = 200 }}\n";

    private static void Signal(int pid, string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", pid.ToString()]);
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }

    private static async Task<OperatorQueries.JobDetail> Show(ClusterHarness h, string jobId) =>
        Assert.IsType<OperatorQueries.JobDetail>(await h.Client.Ask(new OperatorQueries.ShowJob(jobId)));

    private static async Task<IReadOnlyList<string>> Workers(ClusterHarness h)
    {
        try
        {
            return await h.Client.Ask(OperatorQueries.ListWorkers.Instance) is OperatorQueries.WorkerList l ? l.Workers.Select(w => w.WorkerId).ToList() : [];
        }
        catch (Shared.Cli.CliException) { return []; } // the coordinator is restarting: none yet
    }

    private static async Task<TimeSpan> Until(Func<Task<bool>> done, TimeSpan timeout, string what, ClusterHarness h)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (await done()) return clock.Elapsed;
            await Task.Delay(250);
        }
        throw new TimeoutException($"{what}: not within {timeout.TotalSeconds:F0} s\n{h.LogTails()}");
    }

    [Fact]
    public async Task A_coordinator_SIGKILLed_and_restarted_while_two_trainers_run_loses_no_training_and_counts_no_attempt()
    {
        await using var h = new ClusterHarness(data.Small);
        await h.StartCoordinator();
        await h.StartWorker("worker-a");
        await h.StartWorker("worker-b");
        var manifest = Path.Combine(h.DataDir, "two.toml");
        File.WriteAllText(manifest, Transformer(60) + Transformer(61));
        var submit = await h.RunShellAsOperator("manifest", "submit", manifest, "--coordinator", h.Address);
        Assert.True(submit.Exit == 0, submit.Stderr + submit.Stdout);

        // Both train, one per worker, and have printed progress: the processes are well under way.
        var before = await h.WaitFor(j => j.Count == 2 && j.All(x => x is { Status: JobStatus.Running, Progress.Epoch: >= 2 }),
            TimeSpan.FromMinutes(2), "both jobs training");
        var trainers = before.ToDictionary(j => j.JobId, j => Assert.Single(ClusterHarness.TrainerProcesses(h.JobDir(j.WorkerId!, j))));

        output.WriteLine($"coordinator SIGKILL at {DateTime.UtcNow:HH:mm:ss.fff} UTC");
        h.Coordinator!.Kill();
        var down = Stopwatch.StartNew();
        Assert.True(await h.Coordinator.WaitExit(TimeSpan.FromSeconds(10)));
        await h.StartCoordinator(); // same port, same data directory (SQLite journal)
        var ready = down.Elapsed;

        // Workers find the restarted coordinator (their membership leaves and joins again, the trainers do not notice), report the
        // leases they hold, and the heartbeats of the same trainer processes resume.
        var rejoined = await Until(async () => (await Workers(h)).Order().SequenceEqual(["worker-a", "worker-b"]), TimeSpan.FromSeconds(90),
            "both workers registered with the restarted coordinator", h);
        var resumed = await Until(async () => (await h.Jobs()).All(j => j.Progress is not null), TimeSpan.FromSeconds(60),
            "heartbeats resumed for both jobs", h);
        var stillTraining = before.Count(j => ClusterHarness.TrainerProcesses(h.JobDir(j.WorkerId!, j)).SequenceEqual([trainers[j.JobId]]));
        output.WriteLine($"coordinator SIGKILL → READY again {ready.TotalSeconds:F1} s; → both workers registered {(ready + rejoined).TotalSeconds:F1} s; " +
                         $"→ heartbeats resumed {(ready + rejoined + resumed).TotalSeconds:F1} s; {stillTraining} of 2 original trainer processes still training then");

        // How worker-a got there, with timestamps (the kill's is above).
        foreach (var line in File.ReadLines(Path.Combine(h.Logs, "worker-a.log")).Where(l => Regex.IsMatch(l, "UNREACHABLE|No coordinator|No reachable|left the cluster|Welcome|adopted the")))
            output.WriteLine(line.Length > 200 ? line[..200] : line);
        var after = await h.WaitFor(j => j.All(x => x.Status == JobStatus.Completed), TimeSpan.FromMinutes(5), "both jobs completed");
        output.WriteLine($"both completed {down.Elapsed.TotalSeconds:F0} s after the SIGKILL");
        foreach (var j in after)
        {
            var was = before.Single(b => b.JobId == j.JobId);
            Assert.Equal((0, was.LeaseId, was.WorkerId), (j.FailedAttempts, j.LeaseId, j.WorkerId)); // the same lease completed
            var attempt = Assert.Single((await Show(h, j.JobId)).Attempts);                        // one attempt in the history
            Assert.Equal(was.LeaseId, attempt.LeaseId);
            Assert.Null(attempt.Error);
        }
        // No trainer was restarted: two processes were ever started, and each job's was adopted by its worker's next membership.
        var log = string.Join("\n", new[] { "worker-a", "worker-b" }.Select(w => File.ReadAllText(Path.Combine(h.Logs, w + ".log"))));
        Assert.Equal(2, Regex.Matches(log, @"trainer process \d+ started in").Count);
        Assert.All(before, b => Assert.Contains($"Lease {b.LeaseId}: adopted the running trainer of job {b.JobId}", log));
        var rows = File.ReadAllLines(Path.Combine(h.DataDir, "models", "index.jsonl"))
            .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("job_id").GetString()!).Order().ToList();
        Assert.Equal(after.Select(j => j.JobId).Order(), rows);
    }

    [Fact]
    public async Task A_worker_paused_until_its_job_is_re_leased_kills_that_trainer_when_resumed_and_registers_again_without_a_restart()
    {
        await using var h = new ClusterHarness(data.Small);
        await h.StartCoordinator();
        var a = await h.StartWorker("worker-a");
        var manifest = Path.Combine(h.DataDir, "one.toml");
        File.WriteAllText(manifest, Transformer(60));
        var submit = await h.RunShellAsOperator("manifest", "submit", manifest, "--coordinator", h.Address);
        Assert.True(submit.Exit == 0, submit.Stderr + submit.Stdout);
        var first = (await h.WaitFor(j => j.Single() is { Status: JobStatus.Running, WorkerId: "worker-a", Progress.Epoch: >= 1 },
            TimeSpan.FromMinutes(2), "job training on worker-a")).Single();
        var trainer = Assert.Single(ClusterHarness.TrainerProcesses(h.JobDir("worker-a", first)));
        await h.StartWorker("worker-b");

        Signal(a.Pid, "STOP"); // the worker node freezes; its trainer child goes on
        var paused = Stopwatch.StartNew();
        var second = (await h.WaitFor(j => j.Single() is { Status: JobStatus.Running, WorkerId: "worker-b" } r && r.LeaseId > first.LeaseId,
            TimeSpan.FromSeconds(60), "job re-leased to worker-b")).Single();
        var releasedAfter = paused.Elapsed;
        Assert.DoesNotContain("worker-a", await Workers(h)); // the coordinator let go of the unreachable worker with its lease
        // Paused past the split-brain resolver too (unreachable ~4 s + stable-after 3 s + removal), so the coordinator's side has
        // downed and removed it: on SIGCONT its membership ends, its trainer is detached (not killed) and adopted by the next
        // membership, whose registration the coordinator answers with a revoke. (A shorter pause takes the same-membership path:
        // its next registration or heartbeat is refused.)
        await Task.Delay(TimeSpan.FromSeconds(15) - paused.Elapsed is { Ticks: > 0 } rest ? rest : TimeSpan.Zero);
        Signal(a.Pid, "CONT");

        // The resumed worker learns its lease is gone (its heartbeat is refused, or its next membership's registration is
        // answered with a revoke) and kills the trainer; it registers again as the same process.
        var killed = await Until(() => Task.FromResult(!ClusterHarness.TrainerProcesses(h.JobDir("worker-a", first)).Contains(trainer)),
            TimeSpan.FromSeconds(60), "worker-a's stale trainer killed", h);
        var back = await Until(async () => (await Workers(h)).Contains("worker-a"), TimeSpan.FromSeconds(60), "worker-a registered again", h);
        output.WriteLine($"SIGSTOP → re-leased to worker-b {releasedAfter.TotalSeconds:F1} s; SIGCONT → stale trainer killed {killed.TotalSeconds:F1} s, " +
                         $"worker-a registered again {(killed + back).TotalSeconds:F1} s");
        Assert.False(a.HasExited);
        var log = File.ReadAllLines(a.LogPath);
        foreach (var line in log.Where(l => Regex.IsMatch(l, "UNREACHABLE|refused|revoked|left the cluster|adopted the|Welcome")))
            output.WriteLine(line.Length > 200 ? line[..200] : line);
        Assert.Contains(log, l => l.Contains($"Lease {first.LeaseId}: adopted the running trainer"));
        Assert.Contains(log, l => l.Contains($"Lease {first.LeaseId} of job {first.JobId} revoked"));

        var done = (await h.WaitFor(j => j.Single().Status == JobStatus.Completed, TimeSpan.FromMinutes(4), "job completed")).Single();
        Assert.Equal((second.LeaseId, "worker-b", 0), (done.LeaseId, done.WorkerId, done.FailedAttempts));
        var attempts = (await Show(h, done.JobId)).Attempts;
        Assert.Equal([first.LeaseId, second.LeaseId], attempts.Select(x => x.LeaseId));
        Assert.Single(attempts, x => x.Outcome == JobStatus.Completed); // completed once, by the second lease
        var rows = File.ReadAllLines(Path.Combine(h.DataDir, "models", "index.jsonl"));
        Assert.Single(rows);
        Assert.False(a.HasExited); // still the same worker process
    }

    [Fact]
    public async Task When_the_singletons_coordinator_node_is_SIGKILLed_the_other_takes_over_and_the_running_trainer_goes_on()
    {
        using var db = PostgresTestDatabase.Create("cis490_crash");
        await using var h = new ClusterHarness(data.Small);
        string[] journal = ["--journal", "postgres", "--postgres", db.ConnectionString];
        // A is the oldest (it runs the singleton); B joins through A; one worker. keep-oldest with down-if-alone: A crashed is
        // alone against B and the worker, so they down it and stay.
        var a = await h.StartCoordinatorNode("coordinator-a", h.Port, journal);
        var portB = NodeProcess.FreePort();
        var b = await h.StartCoordinatorNode("coordinator-b", portB, [.. journal, "--seed", h.Seed]);
        var worker = await h.StartWorker("worker-a");
        var manifest = Path.Combine(h.DataDir, "one.toml");
        File.WriteAllText(manifest, Transformer(40));
        var submit = await h.RunShellAsOperator("manifest", "submit", manifest, "--coordinator", h.Address);
        Assert.True(submit.Exit == 0, submit.Stderr + submit.Stdout);
        var running = (await h.WaitFor(j => j.Single() is { Status: JobStatus.Running, Progress.Epoch: >= 1 }, TimeSpan.FromMinutes(2), "job training")).Single();
        var trainer = Assert.Single(ClusterHarness.TrainerProcesses(h.JobDir("worker-a", running)));

        a.Kill();
        var crashed = Stopwatch.StartNew();
        await using var viaB = CoordinatorClient.Connect($"127.0.0.1:{portB}");
        var (_, tookOver) = await h.WaitFor(viaB, j => j.Count == 1, TimeSpan.FromSeconds(60), "job table answering on coordinator-b");
        // The take-over as coordinator-b saw it: its singleton recovered from the journal (the client's first answer adds its
        // own polling). The log's timestamps are UTC.
        var killedAt = DateTime.UtcNow - crashed.Elapsed;
        var bLog = File.ReadAllLines(b.LogPath);
        foreach (var line in bLog.Where(l => Regex.IsMatch(l, "UNREACHABLE|SBR took|Leader is removing|-> Oldest|JobCoordinator recovered")))
            output.WriteLine(line.Length > 200 ? line[..200] : line);
        var recoveredLine = bLog.Last(l => l.Contains("JobCoordinator recovered"));
        var recoveredAt = DateTime.ParseExact(Regex.Match(recoveredLine, @"\]\[(\d\d/\d\d/\d{4} [\d:.]+)Z\]").Groups[1].Value, "MM/dd/yyyy HH:mm:ss.fff",
            System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal | System.Globalization.DateTimeStyles.AdjustToUniversal);
        var takeOver = recoveredAt - killedAt;
        output.WriteLine($"SIGKILL of coordinator-a → the singleton recovered on coordinator-b {takeOver.TotalSeconds:F1} s; the client's first answer {tookOver.TotalSeconds:F1} s");

        var (jobs, _) = await h.WaitFor(viaB, j => j.Single().Status == JobStatus.Completed, TimeSpan.FromMinutes(4), "job completed via coordinator-b");
        output.WriteLine($"completed {crashed.Elapsed.TotalSeconds:F0} s after the crash");
        // Measured 7.9-9.1 s on 2 shared cores at load 15 (detection ~4.5 s + stable-after 2 s + removal ~0.8 s + down-removal-margin
        // 1 s + a warm journal's recovery ~0.4 s); `./cis490 bench takeover` measures it over many runs. The bound is not the
        // target: it only catches a take-over that regressed to the old 21 s, with room for a machine running the whole suite.
        Assert.True(takeOver <= TimeSpan.FromSeconds(15), $"take-over took {takeOver.TotalSeconds:F1} s");
        Assert.True(tookOver <= takeOver + TimeSpan.FromSeconds(5), $"the client's first answer came {tookOver.TotalSeconds:F1} s after the crash, the recovery {takeOver.TotalSeconds:F1} s");
        Assert.False(b.HasExited);
        Assert.False(worker.HasExited);
        var done = jobs.Single();
        Assert.Equal((running.LeaseId, 0), (done.LeaseId, done.FailedAttempts)); // the same lease, the same trainer, nothing counted
        Assert.Single(Assert.IsType<OperatorQueries.JobDetail>(await viaB.Ask(new OperatorQueries.ShowJob(done.JobId))).Attempts);
        Assert.Single(Regex.Matches(File.ReadAllText(worker.LogPath), @"trainer process \d+ started in")); // not restarted
        Assert.DoesNotContain(trainer, ClusterHarness.TrainerProcesses(h.JobDir("worker-a", running))); // it finished, and exited
    }
}
