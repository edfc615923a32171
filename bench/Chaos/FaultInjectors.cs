using System.Diagnostics;

namespace Cis490.Bench.Chaos;

/// <summary>What every fault injector works with. <see cref="Unresolved"/>: leases a fault hit that were neither completed nor
/// re-leased within their trial's timeout (today: a coordinator restart's); a later trial does not count them as its own hits,
/// and the feeder adds that many jobs so fresh work keeps running beside them.</summary>
public sealed record ChaosContext(ChaosOptions Options, Fleet Fleet, ChaosApi Api, NetworkPartition? Partition, Random Random)
{
    public System.Collections.Concurrent.ConcurrentDictionary<string, byte> Unresolved { get; } = new();

    public static string Key(string jobId, long leaseId) => $"{jobId}#{leaseId}";
}

/// <summary>One kind of fault: injects it once per <see cref="RunTrial"/>, observes the fleet's reaction and restores the fleet.</summary>
public abstract class FaultInjector(ChaosContext context)
{
    protected ChaosContext Ctx { get; } = context;

    public abstract FaultType Type { get; }

    /// <summary>Rough seconds a trial takes on today's fleet: phases share the run's deadline by planned trials × this.</summary>
    public abstract double ExpectedSeconds { get; }

    public abstract Task<Trial> RunTrial(int number, CancellationToken ct);

    /// <summary>A random pause in [min, max] seconds, so faults land at varied points of a job's run.</summary>
    protected TimeSpan Jitter(double min, double max) => TimeSpan.FromSeconds(min + Ctx.Random.NextDouble() * (max - min));

    /// <summary>Waits until some job has been running for at least <paramref name="minRun"/> on a worker that
    /// <paramref name="eligible"/> accepts; returns that worker and every live lease it holds (or, for a coordinator
    /// fault, pass a null worker filter and get every live lease).</summary>
    protected async Task<(string? Worker, List<ChaosApi.JobRow> Live)?> WaitForRunningJob(Func<string, bool>? eligible, TimeSpan minRun,
        TimeSpan timeout, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (await Ctx.Api.Jobs(ct) is { } jobs)
            {
                var now = DateTimeOffset.UtcNow;
                var fresh = jobs.Where(j => j.Status is "leased" or "running" && !Ctx.Unresolved.ContainsKey(ChaosContext.Key(j.JobId, j.LeaseId))).ToList();
                var candidates = fresh.Where(j => j.Status == "running" && j.StartedAt <= now - minRun && j.WorkerId is { } w
                                                  && (eligible is null || eligible(w)))
                    .ToList();
                if (candidates.Count > 0)
                {
                    var worker = eligible is null ? null : candidates[Ctx.Random.Next(candidates.Count)].WorkerId;
                    return (worker, fresh.Where(j => worker is null || j.WorkerId == worker).ToList());
                }
            }
            await Task.Delay(200, ct);
        }
        return null;
    }

    /// <summary>For each live lease at the fault: its re-lease or its completion, from the coordinator's log, within the
    /// time left of <paramref name="timeout"/> after <paramref name="faultAt"/>.</summary>
    protected async Task<List<HitJob>> Resolve(IEnumerable<ChaosApi.JobRow> live, DateTimeOffset faultAt, TimeSpan timeout, CancellationToken ct)
    {
        var left = timeout - (DateTimeOffset.UtcNow - faultAt);
        var waits = live.Select(async j =>
        {
            var e = await Ctx.Fleet.Leases.WaitResolved(j.JobId, j.LeaseId, left > TimeSpan.Zero ? left : TimeSpan.Zero, ct);
            return e switch
            {
                null => new HitJob(j.JobId, j.LeaseId, j.WorkerId, HitOutcome.TimedOut, null),
                { Completed: true } => new HitJob(j.JobId, j.LeaseId, j.WorkerId, HitOutcome.Kept, (e.At - faultAt).TotalSeconds),
                _ => new HitJob(j.JobId, j.LeaseId, j.WorkerId, HitOutcome.ReLeased, (e.At - faultAt).TotalSeconds),
            };
        }).ToList();
        var hits = await Task.WhenAll(waits);
        foreach (var h in hits.Where(h => h.Outcome == HitOutcome.TimedOut))
        {
            // Watched on (bounded) so that it stops counting as unresolved once the fleet does resolve it.
            var key = ChaosContext.Key(h.JobId, h.LeaseId);
            Ctx.Unresolved[key] = 0;
            _ = Ctx.Fleet.Leases.WaitResolved(h.JobId, h.LeaseId, TimeSpan.FromMinutes(30), ct)
                .ContinueWith(_ => Ctx.Unresolved.TryRemove(key, out var _), TaskScheduler.Default);
        }
        return [.. hits];
    }

    /// <summary>Waits until every worker process runs and is registered with the coordinator (a restart resets its slots);
    /// false when that does not happen within <paramref name="timeout"/>.</summary>
    protected async Task<bool> WaitFleetWhole(TimeSpan timeout, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (Ctx.Fleet.IsRunning(Fleet.Coordinator) && Ctx.Fleet.Workers.All(w => Ctx.Fleet.IsRunning(w.Id))
                && await Ctx.Api.Workers(ct) is { } registered && Ctx.Fleet.Workers.All(w => registered.Any(r => r.WorkerId == w.Id)))
                return true;
            await Task.Delay(250, ct);
        }
        return false;
    }

    /// <summary>Resume/heal → the coordinator heard from the worker again: it is listed with a last-seen time after <paramref name="since"/>.</summary>
    protected async Task<double?> WaitRegistered(string worker, DateTimeOffset since, TimeSpan timeout, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (await Ctx.Api.Workers(ct) is { } ws && ws.FirstOrDefault(w => w.WorkerId == worker) is { } row && row.LastSeen > since)
                return (row.LastSeen - since).TotalSeconds;
            await Task.Delay(200, ct);
        }
        return null;
    }
}

/// <summary>A fault that hits one worker: pick a worker whose job has run a little, fault it, time each of its jobs' re-lease
/// (or completion), restore it, and wait for the fleet to be whole again.</summary>
public abstract class WorkerFault(ChaosContext context) : FaultInjector(context)
{
    protected virtual bool Eligible(string worker) => true;

    protected abstract void Inject(string worker);

    /// <summary>Undoes the fault; returns resume → heard from again, in seconds, where that is measured.</summary>
    protected abstract Task<(double? Rejoin, string? Note)> Restore(string worker, CancellationToken ct);

    public override async Task<Trial> RunTrial(int number, CancellationToken ct)
    {
        var pick = await WaitForRunningJob(Eligible, Jitter(0.5, 3), TimeSpan.FromSeconds(90), ct)
                   ?? throw new TimeoutException("no job ran on an eligible worker within 90 s");
        var victim = pick.Worker!;
        var at = DateTimeOffset.UtcNow;
        Inject(victim);
        var hits = await Resolve(pick.Live, at, Ctx.Options.WorkerTrialTimeout, ct);
        var (rejoin, note) = await Restore(victim, ct);
        if (!await WaitFleetWhole(TimeSpan.FromSeconds(90), ct)) note = (note is null ? "" : note + "; ") + "fleet not whole again within 90 s";
        return new Trial(Type, number, at, victim, hits, RejoinSeconds: rejoin, Note: note);
    }
}

/// <summary>SIGKILL of a worker process (its trainers lose their parent), then the same worker started again once its jobs
/// were re-leased or the trial timed out.</summary>
public sealed class WorkerKill(ChaosContext context) : WorkerFault(context)
{
    public override FaultType Type => FaultType.WorkerKill;
    public override double ExpectedSeconds => 16;

    protected override void Inject(string worker) => Ctx.Fleet.Signal(worker, ChaosProcess.SigKill);

    protected override async Task<(double?, string?)> Restore(string worker, CancellationToken ct)
    {
        await Ctx.Fleet.WaitExit(worker, TimeSpan.FromSeconds(10));
        await Ctx.Fleet.StartWorker(Ctx.Fleet.Worker(worker), ct);
        return (null, null);
    }
}

/// <summary>SIGSTOP of a worker and its trainers (a suspended machine), held until its jobs were re-leased (plus 2 s) or the
/// trial timed out, then SIGCONT; measures SIGCONT → heard from again.</summary>
public sealed class WorkerPause(ChaosContext context) : WorkerFault(context)
{
    public override FaultType Type => FaultType.WorkerPause;
    public override double ExpectedSeconds => 25;

    private IReadOnlyList<int> _stopped = [];

    protected override void Inject(string worker) => _stopped = Ctx.Fleet.SignalTree(worker, ChaosProcess.SigStop);

    protected override async Task<(double?, string?)> Restore(string worker, CancellationToken ct)
    {
        await Task.Delay(TimeSpan.FromSeconds(2), ct);
        var resumed = DateTimeOffset.UtcNow;
        Ctx.Fleet.SignalTree(worker, ChaosProcess.SigCont);
        var rejoin = await WaitRegistered(worker, resumed, TimeSpan.FromSeconds(60), ct);
        // The paused trainers' jobs were leased elsewhere: a worker that learns so stops them (issue 13).
        await Task.Delay(TimeSpan.FromSeconds(10), ct);
        var trainers = _stopped.Skip(1).ToList();
        var alive = trainers.Count(pid => Directory.Exists($"/proc/{pid}"));
        var note = $"{alive} of {trainers.Count} paused child process(es) still alive 10 s after SIGCONT";
        return (rejoin, rejoin is null ? "not heard from within 60 s of SIGCONT; " + note : note);
    }
}

/// <summary>The namespaced worker's veth link taken down until its jobs were re-leased (plus 2 s) or the trial timed out,
/// then up; measures link up → heard from again.</summary>
public sealed class WorkerPartition(ChaosContext context) : WorkerFault(context)
{
    public override FaultType Type => FaultType.Partition;
    public override double ExpectedSeconds => 30;

    protected override bool Eligible(string worker) => Ctx.Fleet.Worker(worker).Netns is not null;

    protected override void Inject(string worker) => Ctx.Partition!.Cut();

    protected override async Task<(double?, string?)> Restore(string worker, CancellationToken ct)
    {
        await Task.Delay(TimeSpan.FromSeconds(2), ct);
        var healed = DateTimeOffset.UtcNow;
        Ctx.Partition!.Heal();
        var rejoin = await WaitRegistered(worker, healed, TimeSpan.FromSeconds(60), ct);
        return (rejoin, rejoin is null ? "not heard from within 60 s of link up" : null);
    }
}

/// <summary>A fault of the coordinator while trainers run: every live lease is hit. The ideal is that each completes on
/// its lease (<see cref="HitOutcome.Kept"/>); a re-lease means the running work was lost.</summary>
public abstract class CoordinatorFault(ChaosContext context) : FaultInjector(context)
{
    protected abstract Task<string?> Stop(CancellationToken ct);

    public override async Task<Trial> RunTrial(int number, CancellationToken ct)
    {
        var pick = await WaitForRunningJob(null, Jitter(1, 3), TimeSpan.FromSeconds(90), ct)
                   ?? throw new TimeoutException("no job ran within 90 s");
        var at = DateTimeOffset.UtcNow;
        var note = await Stop(ct);
        await Ctx.Fleet.StartCoordinator(ct);
        double? apiBack = null;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (await Ctx.Api.Healthy(ct)) { apiBack = (DateTimeOffset.UtcNow - at).TotalSeconds; break; }
            await Task.Delay(100, ct);
        }
        var hits = await Resolve(pick.Live, at, Ctx.Options.CoordinatorTrialTimeout, ct);
        if (!await WaitFleetWhole(TimeSpan.FromSeconds(90), ct)) note = (note is null ? "" : note + "; ") + "fleet not whole again within 90 s";
        return new Trial(Type, number, at, Fleet.Coordinator, hits, ApiBackSeconds: apiBack, Note: note);
    }
}

/// <summary>SIGKILL of the coordinator, started again on the same port and data folder 2 s later.</summary>
public sealed class CoordinatorKill(ChaosContext context) : CoordinatorFault(context)
{
    public override FaultType Type => FaultType.CoordinatorKill;
    public override double ExpectedSeconds => 45;

    protected override async Task<string?> Stop(CancellationToken ct)
    {
        Ctx.Fleet.Signal(Fleet.Coordinator, ChaosProcess.SigKill);
        await Ctx.Fleet.WaitExit(Fleet.Coordinator, TimeSpan.FromSeconds(10));
        await Task.Delay(TimeSpan.FromSeconds(2), ct);
        return null;
    }
}

/// <summary>A clean restart: SIGTERM, wait for the exit, start again on the same port and data folder.</summary>
public sealed class CoordinatorRestart(ChaosContext context) : CoordinatorFault(context)
{
    public override FaultType Type => FaultType.CoordinatorRestart;
    public override double ExpectedSeconds => 45;

    protected override async Task<string?> Stop(CancellationToken ct)
    {
        Ctx.Fleet.Signal(Fleet.Coordinator, ChaosProcess.SigTerm);
        if (await Ctx.Fleet.WaitExit(Fleet.Coordinator, TimeSpan.FromSeconds(60))) return null;
        Ctx.Fleet.Signal(Fleet.Coordinator, ChaosProcess.SigKill);
        await Ctx.Fleet.WaitExit(Fleet.Coordinator, TimeSpan.FromSeconds(10));
        return "did not exit within 60 s of SIGTERM: killed";
    }
}
