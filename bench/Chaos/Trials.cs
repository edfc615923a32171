namespace Cis490.Bench.Chaos;

/// <summary>The fault types, in the order the bench runs them and the report lists them.</summary>
public enum FaultType
{
    WorkerKill,
    WorkerPause,
    Partition,
    CoordinatorRestart,
    CoordinatorKill,
}

/// <summary>What happened to one job whose lease was live when a fault landed.</summary>
public enum HitOutcome
{
    /// <summary>Leased again under a newer lease (the seconds are fault → that grant).</summary>
    ReLeased,

    /// <summary>Completed under the lease it held at the fault (for a coordinator fault: the trainer outlived it).</summary>
    Kept,

    /// <summary>Neither within the trial's timeout.</summary>
    TimedOut,
}

/// <summary>One job's lease at the fault and how it ended.</summary>
public sealed record HitJob(string JobId, long LeaseId, string? WorkerId, HitOutcome Outcome, double? Seconds);

/// <summary>One injected fault and what the bench saw after it.</summary>
/// <param name="Victim">The faulted worker's id, or "coordinator".</param>
/// <param name="ApiBackSeconds">Coordinator faults: fault → /api/health answering 200 again.</param>
/// <param name="RejoinSeconds">Pause and partition: SIGCONT / link up → the coordinator heard from the worker again (null when not within 60 s).</param>
public sealed record Trial(
    FaultType Type,
    int Number,
    DateTimeOffset At,
    string Victim,
    IReadOnlyList<HitJob> Hits,
    double? ApiBackSeconds = null,
    double? RejoinSeconds = null,
    string? Note = null)
{
    /// <summary>A trial times out when any job it hit was neither re-leased nor completed within the timeout.</summary>
    public bool TimedOut => Hits.Any(h => h.Outcome == HitOutcome.TimedOut);
}

public static class FaultNames
{
    public static string Of(FaultType t) => t switch
    {
        FaultType.WorkerKill => "worker SIGKILL",
        FaultType.WorkerPause => "worker SIGSTOP",
        FaultType.Partition => "network partition",
        FaultType.CoordinatorRestart => "coordinator SIGTERM+start",
        FaultType.CoordinatorKill => "coordinator SIGKILL",
        _ => t.ToString(),
    };

    public static string Key(FaultType t) => t switch
    {
        FaultType.WorkerKill => "worker_kill",
        FaultType.WorkerPause => "worker_pause",
        FaultType.Partition => "partition",
        FaultType.CoordinatorRestart => "coordinator_restart",
        FaultType.CoordinatorKill => "coordinator_kill",
        _ => t.ToString(),
    };
}
