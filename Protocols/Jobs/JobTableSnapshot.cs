using System.Text.Json.Serialization;

namespace Cis490.Protocols.Jobs;

/// <summary>The JobCoordinator's whole state at one point of its journal: recovery starts here and replays only later events.</summary>
/// <param name="DataSets">The published data sets, oldest first (null in snapshots made before data sets existed).</param>
public sealed record JobTableSnapshot(long LastLeaseId, long NextSeq, IReadOnlyList<JobState> Jobs, IReadOnlyList<HostPolicy>? Hosts = null,
    IReadOnlyList<DataSets.DataSetInfo>? DataSets = null)
    : ICis490Message;

/// <summary>One lease of a job, from grant to its end: the job's lease history.</summary>
/// <param name="Outcome">leased, running, completed, failed, handed-back or cancelled.</param>
public sealed record AttemptRecord(
    long LeaseId,
    string WorkerId,
    DateTimeOffset LeasedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? EndedAt,
    string Outcome,
    string? Error) : ICis490Message;

/// <summary>One job's current state: the coordinator's table row, and a row of its snapshots.</summary>
public sealed record JobState(
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
    string? LastError,
    DateTimeOffset? RetryAt = null,
    IReadOnlyList<AttemptRecord>? Attempts = null,
    double? LeaseDeadlineSeconds = null) : ICis490Message
{
    /// <summary>How many lease records a job keeps (the oldest are dropped); enough for max_attempts plus requeues in practice.</summary>
    public const int MaxAttemptRecords = 20;

    /// <summary>The job's leases, oldest first.</summary>
    [JsonIgnore]
    public IReadOnlyList<AttemptRecord> History => Attempts ?? [];

    [JsonIgnore]
    public string JobId => Spec.JobId;

    /// <summary>Whether a lease is live (leased or running).</summary>
    [JsonIgnore]
    public bool HoldsLease => Status is JobStatus.Leased or JobStatus.Running;
}
