namespace Cis490.Protocols.Jobs;

/// <summary>The JobCoordinator's whole state at one point of its journal: recovery starts here and replays only later events.</summary>
public sealed record JobTableSnapshot(long LastLeaseId, long NextSeq, IReadOnlyList<JobSnapshotEntry> Jobs) : ICis490Message;

/// <summary>One job in a <see cref="JobTableSnapshot"/>.</summary>
public sealed record JobSnapshotEntry(
    JobSpec Spec,
    string Status,
    long Seq,
    int FailedAttempts,
    long LeaseId,
    string? WorkerId,
    DateTimeOffset AddedAt,
    DateTimeOffset? LeasedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    string? ArtifactSha256,
    IReadOnlyDictionary<string, double> Metrics,
    string? LastError) : ICis490Message;
