namespace Cis490.Protocols.Jobs;

/// <summary>The persisted events of the JobCoordinator; its state is a fold over them.</summary>
public static class JobEvents
{
    /// <summary>Common shape of every coordinator event.</summary>
    public interface ICoordinatorEvent : ICis490Message
    {
        DateTimeOffset At { get; }
    }

    /// <summary>An event about one job.</summary>
    public interface IJobEvent : ICoordinatorEvent
    {
        string JobId { get; }
    }

    /// <summary>A manifest declared the fleet's hosts (capability and per-model policy); it replaces the previous declaration.</summary>
    public sealed record HostsDeclared(IReadOnlyList<HostPolicy> Hosts, string ManifestFile, DateTimeOffset At) : ICoordinatorEvent;

    /// <summary>A manifest brought in a job that was not known before.</summary>
    public sealed record JobAdded(JobSpec Spec, string ManifestFile, DateTimeOffset At) : IJobEvent
    {
        public string JobId => Spec.JobId;
    }

    /// <summary>A worker got the job under a new, strictly larger lease id.</summary>
    /// <param name="HeartbeatDeadlineSeconds">The heartbeat deadline of this lease when its worker asked for its own (a polling HTTP
    /// worker); null (and in journals written before it): the coordinator's heartbeat-deadline.</param>
    public sealed record LeaseGranted(string JobId, long LeaseId, string WorkerId, DateTimeOffset At, double? HeartbeatDeadlineSeconds = null) : IJobEvent;

    /// <summary>The worker's trainer process is running the leased job.</summary>
    public sealed record JobStarted(string JobId, long LeaseId, DateTimeOffset At) : IJobEvent;

    /// <summary>The artifact was verified and stored; the job is done.</summary>
    public sealed record JobCompleted(
        string JobId,
        long LeaseId,
        string ArtifactSha256,
        long ArtifactBytes,
        IReadOnlyDictionary<string, double> Metrics,
        DateTimeOffset At) : IJobEvent;

    /// <summary>The lease that completed the job reported more metrics after its upload; merged into the job's (a key given again
    /// replaces the earlier value).</summary>
    public sealed record MetricsMerged(string JobId, long LeaseId, IReadOnlyDictionary<string, double> Metrics, DateTimeOffset At) : IJobEvent;

    /// <summary>An operator cancelled the job; a live lease (<paramref name="LeaseId"/> &gt; 0) ended with it.</summary>
    public sealed record JobCancelled(string JobId, long LeaseId, string Reason, DateTimeOffset At) : IJobEvent;

    /// <summary>An operator put a failed or cancelled job back to pending, with a fresh count of attempts.</summary>
    public sealed record JobRequeued(string JobId, DateTimeOffset At) : IJobEvent;

    /// <summary>An operator published a data set (or gave a published one another name); the latest is what a job that names none
    /// is bound to when its manifest is submitted.</summary>
    public sealed record DataSetPublished(DataSets.DataSetInfo DataSet, DateTimeOffset At) : ICoordinatorEvent;

    /// <summary>An attempt ended without an artifact (trainer error, expired heartbeat, removed node, refused upload).</summary>
    /// <param name="CountsAsAttempt">False when the worker handed the lease back untouched (no slot, draining).</param>
    /// <param name="RetryAt">When a job that goes back to pending may be leased again (retry backoff); null: at once.</param>
    public sealed record LeaseEnded(string JobId, long LeaseId, string Reason, bool CountsAsAttempt, DateTimeOffset At, DateTimeOffset? RetryAt = null)
        : IJobEvent;

    /// <summary>The events of one group-committed journal write, stored as one journal entry (manifest <c>JEB</c>, EventBatchCodec):
    /// the coordinator writes everything it decided while the previous write was in flight as a single row, so a write costs one
    /// row's serialization, insert and acknowledgement however many leases it carries (issue 17: per-row work in the journal
    /// plugin was most of a lease's CPU). Recovery applies the events in order, exactly as if they had been written one by one;
    /// it is not itself an event (the job table never sees it), and a batch never holds another batch.</summary>
    public sealed record Batch(IReadOnlyList<ICoordinatorEvent> Events) : ICis490Message;
}
