using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;

namespace Cis490.Bench.Chaos;

/// <summary><c>./cis490 bench chaos</c>: a real fleet (coordinator on SQLite + workers, one of them behind a veth link in its
/// own network namespace when run as root) trains a stream of short knn/gbt jobs while the bench injects faults one type after
/// another — worker SIGKILL, worker SIGSTOP, network partition, coordinator SIGTERM+start, coordinator SIGKILL — then drains and
/// prints, per fault type, trials, jobs lost, jobs completed twice, attempts counted by infrastructure, trainer-seconds lost and
/// fault → re-lease min / median / p99. Every wait is bounded and the whole run has a deadline.</summary>
public static class ChaosBench
{
    public static int Run(string[] args)
    {
        ChaosOptions options;
        try { options = ChaosOptions.Parse(args); }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }
        var root = Directory.CreateTempSubdirectory("cis490-bench-chaos-").FullName;
        using var cts = new CancellationTokenSource();
        var cleanup = new Cleanup(root, options.KeepFiles);
        Console.CancelKeyPress += (_, e) =>
        {
            if (cts.IsCancellationRequested) { cleanup.Run(); return; } // a second Ctrl-C: clean up now and let the process end
            e.Cancel = true;
            Console.WriteLine("bench chaos: interrupted; stopping the fleet and removing the namespace");
            cts.Cancel();
        };
        AppDomain.CurrentDomain.ProcessExit += (_, _) => cleanup.Run();
        try { return RunAsync(options, root, cleanup, cts.Token).GetAwaiter().GetResult(); }
        catch (OperationCanceledException) { return 130; }
        finally { cleanup.Run(); }
    }

    /// <summary>Undoes everything the run made, once, from whichever path gets there first (finally, Ctrl-C, process exit).</summary>
    private sealed class Cleanup(string root, bool keep)
    {
        private int _done;
        public Fleet? Fleet { get; set; }
        public NetworkPartition? Partition { get; set; }

        public void Run()
        {
            if (Interlocked.Exchange(ref _done, 1) == 1) return;
            Fleet?.Dispose();
            ChaosProcess.KillMentioning(root);
            Partition?.Dispose();
            if (keep) { Console.WriteLine($"bench chaos: files kept in {root}"); return; }
            try { Directory.Delete(root, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    private static async Task<int> RunAsync(ChaosOptions o, string root, Cleanup cleanup, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var deadline = DateTimeOffset.UtcNow + o.Deadline;
        var planned = new Dictionary<FaultType, int>
        {
            [FaultType.WorkerKill] = o.WorkerKills, [FaultType.WorkerPause] = o.Pauses, [FaultType.Partition] = o.Partitions,
            [FaultType.CoordinatorRestart] = o.CoordinatorRestarts, [FaultType.CoordinatorKill] = o.CoordinatorKills,
        };
        var skipped = new Dictionary<FaultType, string>();
        if (o.Partitions > 0)
        {
            if (NetworkPartition.Unavailable() is { } why) skipped[FaultType.Partition] = why;
            else
            {
                try { cleanup.Partition = NetworkPartition.Create(); }
                catch (InvalidOperationException e) { skipped[FaultType.Partition] = $"could not make the namespace: {e.Message}"; }
            }
            if (skipped.TryGetValue(FaultType.Partition, out var reason)) Console.WriteLine($"bench chaos: partitions skipped: {reason}");
        }
        var partition = cleanup.Partition;

        Console.WriteLine($"bench chaos on {Environment.ProcessorCount} cores in {root}: making the data set");
        var features = await MakeFeatures(root, ct);
        var token = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
        var fleet = cleanup.Fleet = new Fleet(o, root, features, token, partition, ct);
        using var api = new ChaosApi(fleet.HttpPort, token);
        await fleet.StartCoordinator(ct);
        foreach (var w in fleet.Workers) await fleet.StartWorker(w, ct);
        Console.WriteLine($"fleet: coordinator (SQLite journal, HTTP {fleet.HttpPort}) + " +
                          string.Join(", ", fleet.Workers.Select(w => $"{w.Id} ({w.Slots} slot{(w.Slots > 1 ? "s" : "")}{(w.Netns is null ? "" : $", netns {w.Netns} at {w.Hostname}")})")) +
                          $"; {o.Outstanding} job(s) kept outstanding; re-lease timed from the coordinator's 'Leased job' log lines (ms)");

        var ctx = new ChaosContext(o, fleet, api, partition, new Random(o.Seed));
        using var feeding = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var feeder = new JobFeeder(api, o.Outstanding, () => ctx.Unresolved.Count, o.Seed);
        var feederTask = Task.Run(() => feeder.Run(feeding.Token), CancellationToken.None);

        FaultInjector[] injectors = [new WorkerKill(ctx), new WorkerPause(ctx), new WorkerPartition(ctx), new CoordinatorRestart(ctx), new CoordinatorKill(ctx)];
        var trials = new List<Trial>();
        var phases = new Dictionary<FaultType, (DateTimeOffset, DateTimeOffset)>();
        // Kept back from the deadline for the final drain and the report.
        var reserve = o.Drain + TimeSpan.FromSeconds(45);
        var weights = injectors.ToDictionary(i => i.Type, i => skipped.ContainsKey(i.Type) ? 0 : planned[i.Type] * i.ExpectedSeconds);
        foreach (var injector in injectors)
        {
            var type = injector.Type;
            if (planned[type] == 0 || skipped.ContainsKey(type)) continue;
            // This phase's share of the time left, by its planned work; what a fast phase leaves over goes to the next.
            var left = deadline - reserve - DateTimeOffset.UtcNow;
            var share = weights.Where(kv => kv.Key >= type).Sum(kv => kv.Value);
            var phaseEnd = DateTimeOffset.UtcNow + (share > 0 ? left * (weights[type] / share) : TimeSpan.Zero);
            var from = DateTimeOffset.UtcNow;
            Console.WriteLine($"{FaultNames.Of(type)}: {planned[type]} trial(s), until {phaseEnd:HH:mm:ss} at the latest");
            for (var n = 1; n <= planned[type] && DateTimeOffset.UtcNow < phaseEnd; n++)
            {
                try
                {
                    var t = await injector.RunTrial(n, ct);
                    trials.Add(t);
                    Console.WriteLine($"  {FaultNames.Of(type)} #{n} {t.Victim}: " + Describe(t));
                }
                catch (Exception e) when (e is TimeoutException or InvalidOperationException)
                {
                    Console.WriteLine($"  {FaultNames.Of(type)} #{n}: not run: {e.Message}");
                    await Task.Delay(TimeSpan.FromSeconds(5), ct); // the supervisor restarts what died; then try the next
                }
            }
            phases[type] = (from, DateTimeOffset.UtcNow);
            var run = trials.Count(t => t.Type == type);
            if (run < planned[type]) Console.WriteLine($"  {FaultNames.Of(type)}: {run} of {planned[type]} trial(s) run before the phase's time ran out");
        }

        await feeding.CancelAsync();
        await feederTask;
        var drainFor = TimeSpan.FromTicks(Math.Min(o.Drain.Ticks, Math.Max(TimeSpan.FromSeconds(30).Ticks, (deadline - DateTimeOffset.UtcNow - TimeSpan.FromSeconds(30)).Ticks)));
        Console.WriteLine($"drain: up to {drainFor.TotalSeconds:F0} s for the submitted jobs to finish");
        var drained = await Drain(api, drainFor, ct);
        var end = DateTimeOffset.UtcNow;

        var details = new List<ChaosApi.JobDetail>();
        foreach (var row in await api.Jobs(ct) ?? throw new InvalidOperationException("the coordinator does not answer /api/jobs after the run"))
            details.Add(await api.Job(row.JobId, ct) ?? new ChaosApi.JobDetail(row, []));
        var (rows, bad) = ReadIndex(Path.Combine(fleet.DataDir, "models", "index.jsonl"));
        var report = new ChaosReport(new ChaosReport.Input(o, planned, skipped, phases, trials, details, feeder.Acknowledged.Keys.ToList(), rows, bad,
            fleet.UnplannedExits, end, clock.Elapsed, drained));
        Console.WriteLine();
        Console.Write(report.Table());
        if (o.Out is { } path)
        {
            await File.WriteAllTextAsync(path, report.Json(), ct);
            Console.WriteLine($"figures written to {path}");
        }
        return 0;
    }

    private static string Describe(Trial t)
    {
        var hits = string.Join(", ", t.Hits.Select(h => h.Outcome switch
        {
            HitOutcome.ReLeased => $"{h.JobId[..8]} re-leased {h.Seconds:F1} s",
            HitOutcome.Kept => $"{h.JobId[..8]} completed on its lease {h.Seconds:F1} s",
            _ => $"{h.JobId[..8]} NOT re-leased",
        }));
        var extra = (t.ApiBackSeconds is { } a ? $"; API back {a:F1} s" : "") + (t.RejoinSeconds is { } r ? $"; heard from {r:F1} s after resume" : "")
                    + (t.Note is { } n ? $"; {n}" : "");
        return hits + extra;
    }

    /// <summary>Waits until no submitted job is pending, leased or running; false when the time ran out first.</summary>
    private static async Task<bool> Drain(ChaosApi api, TimeSpan timeout, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (await api.Jobs(ct) is { } jobs && jobs.All(j => j.Status is "completed" or "failed" or "cancelled")) return true;
            await Task.Delay(1000, ct);
        }
        return false;
    }

    /// <summary>Index rows per job id from models/index.jsonl, and how many lines could not be read.</summary>
    private static (Dictionary<string, int> Rows, int Bad) ReadIndex(string path)
    {
        var rows = new Dictionary<string, int>();
        var bad = 0;
        if (!File.Exists(path)) return (rows, 0);
        foreach (var line in File.ReadLines(path).Where(l => l.Length > 0))
        {
            try
            {
                using var doc = JsonDocument.Parse(line);
                if (doc.RootElement.TryGetProperty("job_id", out var id) && id.GetString() is { } job) rows[job] = rows.GetValueOrDefault(job) + 1;
                else bad++;
            }
            catch (JsonException) { bad++; }
        }
        return (rows, bad);
    }

    /// <summary>A small synthetic feature set made by the real commands (<c>data generate</c>, <c>data build</c>).</summary>
    private static async Task<string> MakeFeatures(string root, CancellationToken ct)
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
            using var p = ChaosProcess.Start("data-" + step[1], "Cis490.WorkerNode", step, Path.Combine(root, "logs"));
            if (!await p.WaitExit(TimeSpan.FromMinutes(5)) || p.ExitCode != 0)
                throw new InvalidOperationException($"data {step[1]} failed; see {p.LogPath}");
            ct.ThrowIfCancellationRequested();
        }
        return features;
    }
}
