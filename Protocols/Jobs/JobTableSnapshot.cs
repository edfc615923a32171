using System.Text.Json.Serialization;

namespace Cis490.Protocols.Jobs;

/// <summary>The JobCoordinator's whole state at one point of its journal: recovery starts here and replays only later events.</summary>
public sealed record JobTableSnapshot(long LastLeaseId, long NextSeq, IReadOnlyList<JobState> Jobs) : ICis490Message;

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
    string? LastError) : ICis490Message
{
    [JsonIgnore]
    public string JobId => Spec.JobId;

    /// <summary>Whether a lease is live (leased or running).</summary>
    [JsonIgnore]
    public bool HoldsLease => Status is JobStatus.Leased or JobStatus.Running;
}
