using System.Diagnostics;
using Cis490.Protocols.Jobs;
using Cis490.Shell.Client;
using Cis490.Shell.Demo;
using Cis490.Testing;
using Xunit;
using Xunit.Abstractions;

namespace Cis490.Cluster.Tests;

/// <summary>Faults of the fleet, not of the job, made with real processes and SIGKILL: they never count as an attempt, and the
/// fleet takes the work up again within seconds.</summary>
[Collection(ClusterCollection.Name)]
public sealed class InfrastructureFaultTests(DataFixture data, ITestOutputHelper output)
{
    /// <summary>One KNN job on the large data set: tens of seconds on 2 cores, so its worker can be killed mid-job.</summary>
    // Seconds of training whatever the machine (about 10 s here): 200 gbt rounds at a tiny eta, so early stopping does not cut
    // it short. A knn job served until the blocked KNN kernel made it finish before a kill could land mid-job.
    private const string SlowJob = "[[jobs]]\nmodel = \"gbt\"\nmode = \"oracle\"\nhyper = { num_boost_round = 200, early_stopping_rounds = 200, eta = 0.001 }\nmax_attempts = 3\n";

    [Fact]
    public async Task A_job_whose_worker_is_killed_three_times_still_completes_with_no_attempt_counted()
    {
        await using var h = new ClusterHarness(data.Large);
        await h.StartCoordinator();
        var workers = new System.Collections.Concurrent.ConcurrentDictionary<string, NodeProcess>
        {
            ["worker-a"] = await h.StartWorker("worker-a"),
            ["worker-b"] = await h.StartWorker("worker-b"),
        };
        var manifest = Path.Combine(h.DataDir, "slow.toml");
        await File.WriteAllTextAsync(manifest, SlowJob);
        var submit = await h.RunShellAsOperator("manifest", "submit", manifest, "--coordinator", h.Address);
        Assert.True(submit.Exit == 0, submit.Stderr);

        long lease = 0;
        var releases = new List<TimeSpan>();
        var restarts = new List<Task>();
        for (var kill = 1; kill <= 3; kill++)
        {
            // Mid-job: its trainer process has started and the job needs seconds more. (The killed worker is started again in
            // the background, so the job is caught running again on the other one.)
            var running = (await h.WaitFor(j => j.Single() is { Status: JobStatus.Running } r && r.LeaseId > lease,
                TimeSpan.FromMinutes(2), $"job running before kill {kill}")).Single();
            var victim = running.WorkerId!;
            workers[victim].Kill();
            var killedAt = Stopwatch.StartNew();
            var again = (await h.WaitFor(j => j.Single().LeaseId > running.LeaseId, TimeSpan.FromMinutes(1), $"job re-leased after kill {kill}")).Single();
            releases.Add(killedAt.Elapsed);
            Assert.NotEqual(victim, again.WorkerId); // the other worker took it up; the killed one was not waited for
            Assert.Equal(0, again.FailedAttempts);
            lease = running.LeaseId;
            restarts.Add(Task.Run(async () => workers[victim] = await h.StartWorker(victim))); // as systemd would start it again
        }
        await Task.WhenAll(restarts);
        var done = (await h.WaitFor(j => j.Single().Status == JobStatus.Completed, TimeSpan.FromMinutes(4), "job completed")).Single();
        output.WriteLine($"kill → re-lease: {string.Join(", ", releases.Select(r => $"{r.TotalSeconds:F1} s"))}; completed under lease {done.LeaseId}");

        Assert.Equal(0, done.FailedAttempts);
        Assert.True(done.LeaseId >= 4, $"three killed leases and the one that completed, got lease {done.LeaseId}");
        Assert.Single(File.ReadAllLines(Path.Combine(h.DataDir, "models", "index.jsonl")));
        await using var client = CoordinatorClient.Connect(h.Address);
        var detail = Assert.IsType<Protocols.Operator.OperatorQueries.JobDetail>(await client.Ask(new Protocols.Operator.OperatorQueries.ShowJob(done.JobId)));
        Assert.Equal(3, detail.Attempts.Count(a => a.Outcome == "handed-back"));
        Assert.All(detail.Attempts.Where(a => a.Outcome == "handed-back"), a => Assert.Contains("not counted as an attempt", a.Error));
    }

    [Fact]
    public async Task Two_coordinator_nodes_survive_the_crash_of_either_and_the_job_table_answers_on_the_other_within_ten_seconds()
    {
        using var db = PostgresTestDatabase.Create("cis490_crash");
        await using var h = new ClusterHarness(data.Small);
        string[] journal = ["--journal", "postgres", "--postgres", db.ConnectionString];
        var a = await h.StartCoordinatorNode("coordinator-a", h.Port, journal);
        var portB = NodeProcess.FreePort();
        var b = await h.StartCoordinatorNode("coordinator-b", portB, [.. journal, "--seed", h.Seed]);
        var worker = await h.StartWorker("worker-a");
        var manifest = Path.Combine(h.DataDir, "jobs.toml");
        await File.WriteAllTextAsync(manifest, "[[jobs]]\nmodel = \"knn\"\nmode = \"oracle\"\nhyper = { k = 3 }\n");
        Assert.True((await h.RunShellAsOperator("manifest", "submit", manifest, "--coordinator", h.Address)).Exit == 0);
        await h.WaitFor(j => j.Single().Status == JobStatus.Completed, TimeSpan.FromMinutes(2), "first job completed");

        // The younger node crashes: the older one, which runs the singleton, is not downed with it and keeps answering.
        b.Kill();
        await Task.Delay(TimeSpan.FromSeconds(15)); // past failure detection and the split-brain resolver's stable-after
        Assert.False(a.HasExited, "coordinator-a went down with coordinator-b\n" + h.LogTails());
        await using var viaA = CoordinatorClient.Connect(h.Address);
        await h.WaitFor(viaA, j => j.Count == 1, TimeSpan.FromSeconds(5), "coordinator-a still answering");

        // A new younger node joins; then the older one, running the singleton, crashes: the younger takes the job table over.
        var portC = NodeProcess.FreePort();
        await h.StartCoordinatorNode("coordinator-c", portC, [.. journal, "--seed", h.Seed]);
        a.Kill();
        var crashed = Stopwatch.StartNew();
        await using var viaC = CoordinatorClient.Connect($"127.0.0.1:{portC}");
        var (_, firstAnswer) = await h.WaitFor(viaC, j => j.Count == 1, TimeSpan.FromSeconds(60), "job table answering on coordinator-c");
        output.WriteLine($"SIGKILL of the singleton's node → job table answering on the other after {firstAnswer.TotalSeconds:F1} s");
        // The figure (target ≤ 10 s) is printed above and measured by ./cis490 bench failover; the test checks it happens at all.
        Assert.False(worker.HasExited, "the worker went down with the coordinator\n" + h.LogTails());

        // And it works: a new job is leased to the worker, which rejoined through coordinator-c, and completes.
        await File.WriteAllTextAsync(manifest, "[[jobs]]\nmodel = \"knn\"\nmode = \"realistic\"\nhyper = { k = 3 }\n");
        Assert.True((await h.RunShellAsOperator("manifest", "submit", manifest, "--coordinator", $"127.0.0.1:{portC}")).Exit == 0);
        await h.WaitFor(viaC, j => j.Count == 2 && j.All(x => x.Status == JobStatus.Completed), TimeSpan.FromMinutes(2), "second job completed");
        Assert.True(crashed.Elapsed < TimeSpan.FromMinutes(3));
    }
}
