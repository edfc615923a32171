using Akka.Streams;
using Cis490.Protocols.Jobs;
using Cis490.Protocols.Workers;

namespace Cis490.Protocols.Operator;

/// <summary>The operator's read requests and cluster commands (shell, HTTP API, dashboard), and their replies.
/// Requests go to the coordinator node's operator endpoint; every reply is one message. Mutating requests carry the operator token.</summary>
public static class OperatorQueries
{
    /// <summary>Cluster and queue at a glance.</summary>
    public sealed record GetStatus : IOperatorRead
    {
        public static readonly GetStatus Instance = new();
    }

    /// <summary>Reply to <see cref="GetStatus"/>: members, how many workers and free slots, and job counts per status.</summary>
    public sealed record StatusView(
        IReadOnlyList<MemberView> Members,
        int Workers,
        int FreeSlots,
        IReadOnlyDictionary<string, int> JobCounts,
        int Unschedulable,
        DateTimeOffset At) : ICis490Message;

    /// <summary>One cluster member as the coordinator node sees it.</summary>
    /// <param name="Status">Akka's member status (Up, Joining, Leaving, Exiting, Down, Removed, WeaklyUp), lower case.</param>
    public sealed record MemberView(string Address, string Status, bool Reachable, IReadOnlyList<string> Roles, bool IsOldest) : ICis490Message;

    /// <summary>One job in full: spec, state, lease history, last error, artifact, and why it cannot run now if it cannot.</summary>
    public sealed record ShowJob(string JobId) : IOperatorRead;

    /// <summary>Reply to <see cref="ShowJob"/>.</summary>
    /// <param name="Unschedulable">Why no current worker could ever run the job (null when some can, or it is not pending).</param>
    public sealed record JobDetail(
        OperatorProtocol.JobView Job,
        JobSpec Spec,
        IReadOnlyList<AttemptRecord> Attempts,
        DateTimeOffset? RetryAt,
        string? Unschedulable) : ICis490Message;

    /// <summary>The registered workers.</summary>
    public sealed record ListWorkers : IOperatorRead
    {
        public static readonly ListWorkers Instance = new();
    }

    /// <summary>Reply to <see cref="ListWorkers"/>.</summary>
    public sealed record WorkerList(IReadOnlyList<WorkerView> Workers, DateTimeOffset At) : ICis490Message;

    /// <summary>One worker: capability, slots, the jobs it runs, when it was last heard from, whether it is draining.</summary>
    public sealed record WorkerView(
        string WorkerId,
        string Address,
        WorkerCapability Capability,
        int Slots,
        IReadOnlyList<string> RunningJobIds,
        DateTimeOffset LastSeen,
        bool Draining) : ICis490Message;

    /// <summary>The stored artifacts (the store's index).</summary>
    public sealed record ListArtifacts : IOperatorRead
    {
        public static readonly ListArtifacts Instance = new();
    }

    /// <summary>Reply to <see cref="ListArtifacts"/>.</summary>
    public sealed record ArtifactList(IReadOnlyList<ArtifactView> Artifacts) : ICis490Message;

    /// <summary>One stored bundle.</summary>
    /// <param name="DataSet">The content hash of the data set the model was trained on (null for rows written before data sets).</param>
    public sealed record ArtifactView(string Sha256, string Model, string Mode, string JobId, long Bytes, DateTimeOffset StoredAt, string? DataSet = null)
        : ICis490Message;

    /// <summary>Stream a stored bundle down (by its sha256 or a unique prefix of at least 8 characters).</summary>
    public sealed record GetArtifact(string Sha256) : IOperatorRead;

    /// <summary>Reply to <see cref="GetArtifact"/>: the bundle's bytes, in chunks, from this source.</summary>
    public sealed record ArtifactDownload(string Sha256, string Model, string Mode, long Bytes, ISourceRef<byte[]> Source) : ICis490Message;

    /// <summary>A job's progress lines (trainer heartbeats, in order), those after <paramref name="After"/> (a line number, 0 for all).</summary>
    public sealed record GetJobLogs(string JobId, long After) : IOperatorRead;

    /// <summary>Reply to <see cref="GetJobLogs"/>; <paramref name="Next"/> is the <c>After</c> of the following request.</summary>
    public sealed record JobLogs(string JobId, string Status, IReadOnlyList<LogLine> Lines, long Next, bool Finished) : ICis490Message;

    /// <summary>One progress line of a trainer.</summary>
    public sealed record LogLine(long Number, long LeaseId, DateTimeOffset At, TrainingProgress Progress) : ICis490Message;

    /// <summary>The cluster's members.</summary>
    public sealed record ShowCluster : IOperatorRead
    {
        public static readonly ShowCluster Instance = new();
    }

    /// <summary>Reply to <see cref="ShowCluster"/>.</summary>
    public sealed record ClusterView(string Leader, IReadOnlyList<MemberView> Members, DateTimeOffset At) : ICis490Message;

    /// <summary>Ask a member to leave the cluster gracefully (a worker drains first), or mark an unreachable one down. Needs the token.</summary>
    /// <param name="Down">False: leave; true: down (for a member that is gone and will not come back by itself).</param>
    /// <remarks>Answered with <see cref="OperatorProtocol.OperatorResult"/>, whose <c>JobId</c> holds the member's address.</remarks>
    public sealed record ChangeMember(string Address, bool Down, string? Token) : ICis490Message;

    /// <summary>Is the coordinator serving? Answered by the JobCoordinator singleton itself, wherever it runs.</summary>
    public sealed record GetHealth : IOperatorRead
    {
        public static readonly GetHealth Instance = new();
    }

    /// <summary>Reply to <see cref="GetHealth"/>: the coordinator has recovered its job table from the journal and serves requests.</summary>
    /// <param name="JournalSequenceNr">The sequence number of the last event it decided (written or in flight).</param>
    /// <param name="WritesInFlight">Events decided but not yet confirmed by the journal; a number that keeps growing means the journal is stuck.</param>
    /// <param name="Restarting">The coordinator is not serving: it failed and its node is starting it again (the other counts are 0 then).</param>
    /// <param name="Restarts">How many times the coordinator was started again on its node since the node started.</param>
    /// <param name="FailedStarts">Starts in a row that failed to recover the job table; the node exits at cis490.coordinator.restart-limit.</param>
    /// <param name="LastFailure">The last failure that stopped the coordinator on its node, if any.</param>
    public sealed record CoordinatorHealth(long JournalSequenceNr, int WritesInFlight, int Jobs, int LiveLeases, int Workers, DateTimeOffset At,
        bool Restarting = false, int Restarts = 0, int FailedStarts = 0, string? LastFailure = null)
        : ICis490Message;
}
