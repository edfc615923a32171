using System.Diagnostics.Metrics;
using Cis490.Coordinator.Jobs;
using Cis490.Protocols.Jobs;
using Cis490.Shared.Telemetry;
using static Cis490.Protocols.Jobs.JobEvents;

namespace Cis490.Coordinator.Telemetry;

/// <summary>One measurement a persisted event makes: which metric, by how much, under which (bounded) labels.</summary>
public sealed record Observation(string Metric, double Value, params KeyValuePair<string, object?>[] Labels)
{
    public string? Label(string key) => Labels.FirstOrDefault(l => l.Key == key).Value as string;
}

/// <summary>What the coordinator's persisted events mean for its metrics: a pure function of the table before the event and the
/// event (<see cref="For"/>), recorded by <see cref="Record"/> once the journal has written it (never during replay).</summary>
public static class JobMetrics
{
    /// <summary>The lease-end outcomes (the <c>outcome</c> label's whole set).</summary>
    public static readonly IReadOnlyList<string> Outcomes = ["completed", "failed", "expired", "returned", "lost", "cancelled"];

    public static IReadOnlyList<Observation> For(JobTable before, ICoordinatorEvent e) =>
        For(e is IJobEvent j ? before.Jobs.GetValueOrDefault(j.JobId) : null, e);

    /// <summary>The same from the job the event is about as it was just before it (<see cref="Outcome.JobsBefore"/>).</summary>
    public static IReadOnlyList<Observation> For(JobState? job, ICoordinatorEvent e)
    {
        var family = Family(e is JobAdded a ? a.Spec.Model : job?.Spec.Model);
        return e switch
        {
            JobAdded => [new("cis490_jobs_added", 1, Tag("family", family))],
            LeaseGranted g when job is not null =>
            [
                new("cis490_leases_granted", 1, Tag("family", family)),
                new("cis490_lease_latency", Math.Max(0, (g.At - JobTable.PendingSince(job)).TotalSeconds), Tag("family", family)),
            ],
            JobCompleted c =>
            [
                new("cis490_leases_ended", 1, Tag("outcome", "completed"), Tag("family", family)),
            ],
            LeaseEnded x => [new("cis490_leases_ended", 1, Tag("outcome", Outcome(x)), Tag("family", family))],
            JobCancelled c when c.LeaseId > 0 => [new("cis490_leases_ended", 1, Tag("outcome", "cancelled"), Tag("family", family))],
            _ => [],
        };
    }

    /// <summary>A lease end's outcome, from whether it counted as an attempt and why it ended (bounded: <see cref="Outcomes"/>).</summary>
    public static string Outcome(LeaseEnded x) =>
        x.CountsAsAttempt
            ? x.Reason.StartsWith("no heartbeat", StringComparison.Ordinal) ? "expired" : "failed"
            : x.Reason.StartsWith("declined by worker", StringComparison.Ordinal) ? "returned" : "lost";

    private static string Family(string? model) => Cis490Metrics.Family(model);

    public static void Record(IEnumerable<Observation> observations)
    {
        foreach (var o in observations)
        {
            var tags = new System.Diagnostics.TagList(o.Labels);
            switch (o.Metric)
            {
                case "cis490_jobs_added": Cis490Metrics.JobsAdded.Add((long)o.Value, tags); break;
                case "cis490_leases_granted": Cis490Metrics.LeasesGranted.Add((long)o.Value, tags); break;
                case "cis490_leases_ended": Cis490Metrics.LeasesEnded.Add((long)o.Value, tags); break;
                case "cis490_lease_latency": Cis490Metrics.LeaseLatency.Record(o.Value, tags); break;
                default: throw new InvalidOperationException($"no instrument for observation {o.Metric}");
            }
        }
    }

    /// <summary>The table's jobs by status, every status present (0 included) so a panel never loses a series.</summary>
    public static IEnumerable<Measurement<long>> ByStatus(JobTable table)
    {
        var counts = table.Jobs.Values.GroupBy(j => j.Status).ToDictionary(g => g.Key, g => (long)g.Count());
        return Statuses.Select(s => new Measurement<long>(counts.GetValueOrDefault(s), Tag("status", s)));
    }

    public static readonly IReadOnlyList<string> Statuses =
        [JobStatus.Pending, JobStatus.Leased, JobStatus.Running, JobStatus.Completed, JobStatus.Failed, JobStatus.Cancelled];

    private static KeyValuePair<string, object?> Tag(string key, string value) => new(key, value);
}
