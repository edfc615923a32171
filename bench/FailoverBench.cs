using System.Diagnostics;
using Cis490.Protocols.Jobs;
using Cis490.Protocols.Operator;
using Cis490.Shell.Client;
using Cis490.Shell.Demo;

namespace Cis490.Bench;

/// <summary><c>./cis490 bench failover</c>: real processes on loopback (a coordinator and two workers); a long job runs, the
/// worker running it gets SIGKILL, and the time until the job is leased again (to the other worker) is measured.</summary>
public static class FailoverBench
{
    // A job far longer than the measurement (a transformer allowed 500 epochs), so it is always mid-run when killed;
    // enough attempts that every run's kill leaves it pending rather than failed.
    private const string LongJob = "[[jobs]]\nmodel = \"transformer\"\nmode = \"realistic\"\nhyper = { max_epochs = 500, patience = 200 }\nmax_attempts = 10\n";

    public static int Run(string[] args, Func<string[], string, string, string> option)
    {
        var runs = int.Parse(option(args, "--runs", "3"));
        var root = Directory.CreateTempSubdirectory("cis490-bench-failover-").FullName;
        try { return RunAsync(root, runs).GetAwaiter().GetResult(); }
        finally
        {
            try { Directory.Delete(root, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    private static async Task<int> RunAsync(string root, int runs)
    {
        var logs = Path.Combine(root, "logs");
        var features = await MakeFeatures(root, logs);
        var nodes = new List<NodeProcess>();
        var workers = new Dictionary<string, NodeProcess>();
        var port = NodeProcess.FreePort();
        var seed = $"akka.tcp://cis490@127.0.0.1:{port}";
        async Task StartWorker(string id)
        {
            var w = NodeProcess.Start(id, "Cis490.WorkerNode",
                ["worker", "--seed", seed, "--data", features, "--worker-id", id, "--work-dir", Path.Combine(root, "work", id)], logs);
            nodes.Add(w);
            workers[id] = w;
            await w.WaitReady(TimeSpan.FromSeconds(60));
        }
        try
        {
            var coordinator = NodeProcess.Start("coordinator", "Cis490.Coordinator", ["--port", port.ToString(), "--data-dir", Path.Combine(root, "data")], logs);
            nodes.Add(coordinator);
            await coordinator.WaitReady(TimeSpan.FromSeconds(60));
            await StartWorker("worker-1");
            await StartWorker("worker-2");
            await using var client = CoordinatorClient.Connect($"127.0.0.1:{port}");
            // The token the coordinator made on first start (or the environment's, which it then took).
            var token = Environment.GetEnvironmentVariable("CIS490_OPERATOR_TOKEN") is { Length: > 0 } t
                ? t : File.ReadAllText(Path.Combine(root, "data", "operator.token")).Trim();
            if (await client.Ask(new OperatorProtocol.SubmitManifest("bench.toml", LongJob, token)) is not OperatorProtocol.ManifestAccepted)
                throw new InvalidOperationException("the bench manifest was refused");

            Console.WriteLine($"failover benchmark on {Environment.ProcessorCount} cores: coordinator (SQLite journal) + 2 workers on loopback,");
            Console.WriteLine("one long transformer job; SIGKILL of the worker whose trainer runs it, then the job table is polled every 100 ms");
            Console.WriteLine("until the lease has ended (the coordinator ends a node's leases when its connection drops or the failure detector");
            Console.WriteLine("marks it unreachable) and then until the job holds a newer lease (the other worker's). A lost node is not the");
            Console.WriteLine("job's fault, so no retry backoff applies (the backoff column shows any that did).");
            Console.WriteLine($"{"run",4} {"killed",10} {"lease ended s",14} {"backoff s",10} {"re-leased s",12} {"re-leased to",13}");
            var ends = new List<double>();
            for (var run = 1; run <= runs; run++)
            {
                var running = await Poll(client, j => j is { Status: JobStatus.Running }, TimeSpan.FromMinutes(3), "job running");
                var victim = running.WorkerId!;
                workers[victim].Kill();
                var clock = Stopwatch.StartNew();
                var ended = await Poll(client, j => j.LeaseId > running.LeaseId || j.Status == JobStatus.Pending, TimeSpan.FromMinutes(2), "lease ended");
                var endedAt = clock.Elapsed.TotalSeconds;
                var backoff = ended.RetryAt is { } retry ? Math.Max(0, (retry - DateTimeOffset.UtcNow).TotalSeconds) : 0;
                var released = await Poll(client, j => j.LeaseId > running.LeaseId, TimeSpan.FromMinutes(6), "job re-leased");
                ends.Add(endedAt);
                Console.WriteLine($"{run,4} {victim,10} {endedAt,14:F1} {backoff,10:F1} {clock.Elapsed.TotalSeconds,12:F1} {released.WorkerId,13}");
                workers.Remove(victim);
                await StartWorker($"worker-{run + 2}"); // two workers again for the next run
            }
            ends.Sort();
            Console.WriteLine($"SIGKILL → lease ended: min {ends[0]:F1} s, median {ends[ends.Count / 2]:F1} s, max {ends[^1]:F1} s over {runs} run(s); " +
                              "re-leased = that + any backoff");
            return 0;
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException)
        {
            Console.Error.WriteLine($"bench failover: {e.Message}; logs in {logs}:");
            foreach (var n in nodes)
                Console.Error.WriteLine($"--- {n.Name}\n" + string.Join("\n", File.ReadLines(n.LogPath).TakeLast(10)));
            return 1;
        }
        finally
        {
            foreach (var n in nodes) n.Terminate();
            foreach (var n in nodes)
            {
                if (!await n.WaitExit(TimeSpan.FromSeconds(20))) n.Kill();
                n.Dispose();
            }
        }
    }

    internal static async Task<OperatorProtocol.JobView> Poll(CoordinatorClient client, Func<OperatorProtocol.JobView, bool> done, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        OperatorProtocol.JobView? job = null;
        while (clock.Elapsed < timeout)
        {
            job = (await client.ListJobs()).Jobs.Single();
            if (done(job)) return job;
            await Task.Delay(100);
        }
        throw new TimeoutException($"{what}: not within {timeout.TotalSeconds:F0} s (job is {job?.Status}, lease {job?.LeaseId}, {job?.LastError})");
    }

    /// <summary>A small synthetic feature set made by the real commands (<c>data generate</c>, <c>data build</c>).</summary>
    internal static async Task<string> MakeFeatures(string root, string logs)
    {
        var episodes = Path.Combine(root, "episodes");
        var features = Path.Combine(root, "features");
        string[][] steps =
        [
            ["data", "generate", "--out", episodes, "--episodes", "120", "--seed", "7"],
            ["data", "build", "--episodes", episodes, "--out", features, "--stride", "10"],
        ];
        foreach (var step in steps)
        {
            using var p = NodeProcess.Start(step[1], "Cis490.WorkerNode", step, logs);
            if (!await p.WaitExit(TimeSpan.FromMinutes(5)) || p.ExitCode != 0)
                throw new InvalidOperationException($"data {step[1]} failed; see {p.LogPath}");
        }
        return features;
    }
}
