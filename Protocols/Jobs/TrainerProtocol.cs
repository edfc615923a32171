namespace Cis490.Protocols.Jobs;

/// <summary>Messages a trainer actor sends to the JobCoordinator about the lease it runs, and the replies.</summary>
public static class TrainerProtocol
{
    /// <summary>The trainer process started.</summary>
    public sealed record Started(string JobId, long LeaseId, string WorkerId) : IWithLease;

    /// <summary>Periodic liveness and progress of a running lease.</summary>
    /// <param name="Lines">Every progress line the trainer printed since its previous heartbeat, oldest first (the coordinator keeps
    /// them for <c>jobs logs</c>); null from a worker that predates it, which then contributes <paramref name="Progress"/> alone.</param>
    public sealed record Heartbeat(string JobId, long LeaseId, TrainingProgress Progress, IReadOnlyList<TrainingProgress>? Lines = null) : IWithLease;

    /// <summary>The attempt failed; the coordinator retries it until max_attempts.</summary>
    public sealed record Failed(string JobId, long LeaseId, string Error) : IWithLease;

    /// <summary>The coordinator refused a message because its lease id is not the job's current lease (fencing) or the job is in another state.</summary>
    /// <param name="Kind">Usually <see cref="ErrorKind.StaleLease"/>; <see cref="ErrorKind.NotFound"/> for a job the coordinator
    /// does not know, <see cref="ErrorKind.Conflict"/> for a message the lease's state does not allow (a second start).</param>
    public sealed record Refused(string JobId, long LeaseId, string Reason, ErrorKind Kind = ErrorKind.StaleLease) : IWithLease;

    /// <summary>Metrics of a job this lease completed, reported after its upload (an HTTP worker's <c>complete</c> with metrics):
    /// merged into the job's metrics, a key given again replacing the earlier value. Refused for any other lease.</summary>
    public sealed record ReportMetrics(string JobId, long LeaseId, IReadOnlyDictionary<string, double> Metrics) : IWithLease;

    /// <summary>The coordinator persisted the attempt's outcome (heartbeats are not acknowledged).</summary>
    public sealed record Acknowledged(string JobId, long LeaseId, string Status) : IWithLease;
}
