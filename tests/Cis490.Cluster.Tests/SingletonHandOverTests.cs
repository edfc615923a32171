using System.Diagnostics;
using System.Text.Json;
using Cis490.Protocols.Jobs;
using Cis490.Shell.Client;
using Cis490.Shell.Demo;
using Cis490.Testing;
using Xunit;
using Xunit.Abstractions;

namespace Cis490.Cluster.Tests;

/// <summary>Two coordinator-role processes on one PostgreSQL journal: stopping the one that runs the JobCoordinator singleton
/// moves it to the other, which recovers the job table from the shared journal; every job completes exactly once.</summary>
[Collection(ClusterCollection.Name)]
public sealed class SingletonHandOverTests(DataFixture data, ITestOutputHelper output)
{
    private const int JobCount = 6;

    [Fact]
    public async Task Stopping_the_coordinator_node_mid_run_hands_the_singleton_over_and_every_job_completes_exactly_once()
    {
        using var db = PostgresTestDatabase.Create("cis490_handover");
        await using var h = new ClusterHarness(data.Small);
        string[] journal = ["--journal", "postgres", "--postgres", db.ConnectionString];
        // A is the first (oldest) node, so it runs the singleton; B joins through A. Same data dir: one artifact store on one machine.
        var a = await h.StartCoordinatorNode("coordinator-a", h.Port, journal);
        var portB = NodeProcess.FreePort();
        var b = await h.StartCoordinatorNode("coordinator-b", portB, [.. journal, "--seed", h.Seed]);
        await h.StartWorker("worker-a");
        var manifest = Path.Combine(h.DataDir, "jobs.toml");
        File.WriteAllText(manifest, string.Join("\n", Enumerable.Range(1, JobCount).Select(k =>
            $"[[jobs]]\nmodel = \"knn\"\nmode = \"{(k % 2 == 0 ? "oracle" : "realistic")}\"\nhyper = {{ k = {k} }}\n")));
        var submit = await h.RunShellAsOperator("manifest", "submit", manifest, "--coordinator", h.Address);
        Assert.True(submit.Exit == 0, submit.Stderr);

        // Mid-run: some job is done, others are not. Then SIGTERM the node that runs the singleton.
        var before = (await h.WaitFor(j => j.Count == JobCount && j.Any(x => x.Status == JobStatus.Completed), TimeSpan.FromMinutes(2), "first job completed"))
            .ToList();
        a.Terminate();
        var stopped = Stopwatch.StartNew();
        Assert.True(await a.WaitExit(TimeSpan.FromSeconds(30)), "coordinator-a did not exit on SIGTERM\n" + h.LogTails());
        var exited = stopped.Elapsed;

        await using var viaB = CoordinatorClient.Connect($"127.0.0.1:{portB}");
        var (_, firstAnswer) = await h.WaitFor(viaB, j => j.Count == JobCount, TimeSpan.FromSeconds(60), "job table recovered on coordinator-b");
        var (jobs, _) = await h.WaitFor(viaB, j => j.All(x => x.Status == JobStatus.Completed), TimeSpan.FromMinutes(3), "all jobs completed after the hand-over");
        output.WriteLine($"{before.Count(j => j.Status == JobStatus.Completed)} of {JobCount} done at SIGTERM; coordinator-a exited in " +
                         $"{exited.TotalSeconds:F1} s; coordinator-b answered {(exited + firstAnswer).TotalSeconds:F1} s after the SIGTERM; " +
                         $"all done {stopped.Elapsed.TotalSeconds:F1} s after it");

        // B ran the singleton and recovered A's events from PostgreSQL (not an empty table: the jobs were submitted to A).
        Assert.Contains(File.ReadLines(b.LogPath), l => l.Contains("JobCoordinator recovered") && !l.Contains("recovered 0 jobs"));
        Assert.True(before.Any(j => j.Status != JobStatus.Completed), "the hand-over must happen mid-run");
        // Nothing lost, nothing run twice: no failed attempt, one JobStarted (a trainer process started) and one JobCompleted event
        // per job, one index row per job. (A lease the worker declined because its slot was not yet free never ran: not counted.)
        Assert.All(jobs, j => Assert.Equal(0, j.FailedAttempts));
        var events = Cis490.Testing.JournalEvents.Manifests(new Npgsql.NpgsqlConnection(db.ConnectionString)); // batches unpacked
        Assert.Equal(JobCount, events.Count(m => m == "JE3")); // JobStarted
        Assert.Equal(JobCount, events.Count(m => m == "JE4")); // JobCompleted
        var rows = File.ReadAllLines(Path.Combine(h.DataDir, "models", "index.jsonl"))
            .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("job_id").GetString()!).ToList();
        Assert.Equal(jobs.Select(j => j.JobId).Order(), rows.Order());
        // The shell, as a person runs it against the remaining coordinator.
        var json = await ClusterHarness.RunShell("shell", "--coordinator", $"127.0.0.1:{portB}", "jobs", "list", "--json");
        Assert.True(json.Exit == 0, json.Stderr);
        var listed = JsonDocument.Parse(json.Stdout).RootElement.GetProperty("jobs");
        Assert.Equal(JobCount, listed.GetArrayLength());
        Assert.All(listed.EnumerateArray(), j => Assert.Equal("completed", j.GetProperty("status").GetString()));
    }
}
