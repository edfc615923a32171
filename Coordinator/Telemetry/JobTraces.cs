using Cis490.Protocols.Jobs;
using Cis490.Coordinator.Jobs;
using Cis490.Shared.Telemetry;
using static Cis490.Protocols.Jobs.JobEvents;

namespace Cis490.Coordinator.Telemetry;

/// <summary>The coordinator's spans of a job's trace (<see cref="JobTracing"/>): a pure function of the table before a persisted
/// event and the event. Together with the worker's epoch and upload spans they make the lifecycle
/// submitted → queued → leased → running (epochs, upload) → completed, or the attempt's end.</summary>
public static class JobTraces
{
    public static IReadOnlyList<SpanRecord> For(JobTable before, ICoordinatorEvent e) =>
        For(e is IJobEvent j ? before.Jobs.GetValueOrDefault(j.JobId) : null, e);

    /// <summary>The same from the job the event is about as it was just before it (<see cref="Outcome.JobsBefore"/>).</summary>
    public static IReadOnlyList<SpanRecord> For(JobState? job, ICoordinatorEvent e)
    {
        switch (e)
        {
            case JobAdded a:
                return [new("job.submitted", a.JobId, a.At, a.At, [Tag("cis490.family", a.Spec.Model), Tag("cis490.mode", a.Spec.Mode), Tag("cis490.manifest", a.ManifestFile)])];
            case LeaseGranted g when job is not null:
                return [new("job.queued", g.JobId, JobTable.PendingSince(job), g.At, [Tag("cis490.lease_id", g.LeaseId), Tag("cis490.worker", g.WorkerId)])];
            case JobStarted s when job?.LeasedAt is { } leased:
                return [new("job.leased", s.JobId, leased, s.At, [Tag("cis490.lease_id", s.LeaseId), Tag("cis490.worker", job.WorkerId)])];
            case JobCompleted c when job is not null:
                return
                [
                    new("job.running", c.JobId, job.StartedAt ?? job.LeasedAt ?? c.At, c.At, [Tag("cis490.lease_id", c.LeaseId), Tag("cis490.worker", job.WorkerId)]),
                    new("job.completed", c.JobId, job.AddedAt, c.At,
                        [Tag("cis490.artifact_sha256", c.ArtifactSha256), Tag("cis490.artifact_bytes", c.ArtifactBytes), Tag("cis490.family", job.Spec.Model)]),
                ];
            case LeaseEnded x when job is not null:
                return [new("job.attempt_ended", x.JobId, job.LeasedAt ?? x.At, x.At,
                    [Tag("cis490.lease_id", x.LeaseId), Tag("cis490.outcome", JobMetrics.Outcome(x)), Tag("cis490.reason", x.Reason)], Error: x.CountsAsAttempt)];
            case JobCancelled c:
                return [new("job.cancelled", c.JobId, c.At, c.At, [Tag("cis490.reason", c.Reason)])];
            default:
                return [];
        }
    }

    private static KeyValuePair<string, object?> Tag(string key, object? value) => new(key, value);
}
