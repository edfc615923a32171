using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace Cis490.Shared.Telemetry;

/// <summary>One span of a job's lifecycle, as plain data (decided by pure code, emitted by <see cref="JobTracing.Emit"/>).</summary>
public sealed record SpanRecord(string Name, string JobId, DateTimeOffset Start, DateTimeOffset End, IReadOnlyList<KeyValuePair<string, object?>> Tags,
    bool Error = false);

/// <summary>One trace per job lifecycle. A job's trace id is derived from its id (the first 16 bytes of its SHA-256), so every node
/// that touches the job (the coordinator that leases it, the worker whose trainer runs its epochs and uploads it) and every
/// coordinator incarnation after a restart or a hand-over adds its spans to the same trace without carrying a context in any
/// message or in the journal. Each lifecycle step is a top-level span of that trace (submitted, queued, leased, running,
/// epochs, upload, completed or the attempt's end), with its real start and end times.</summary>
public static class JobTracing
{
    public const string SourceName = "Cis490.Jobs";

    public static readonly ActivitySource Source = new(SourceName, "1.0");

    public static ActivityTraceId TraceIdOf(string jobId)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(jobId), hash);
        return ActivityTraceId.CreateFromBytes(hash[..16]);
    }

    /// <summary>Emits <paramref name="span"/> when something listens (an OTLP exporter, a test's listener); else does nothing.</summary>
    /// <summary>Whether anything listens to the job spans: when nothing does, the coordinator does not even work out the spans.</summary>
    public static bool Enabled => Source.HasListeners();

    public static Activity? Emit(SpanRecord span)
    {
        if (!Source.HasListeners()) return null;
        // A parent context with the job's trace id and no parent span: the span is a root of the job's trace.
        var parent = new ActivityContext(TraceIdOf(span.JobId), default, ActivityTraceFlags.Recorded, isRemote: true);
        var activity = Source.CreateActivity(span.Name, ActivityKind.Internal, parent, [new("cis490.job_id", span.JobId), .. span.Tags]);
        if (activity is null) return null;
        activity.SetStartTime(span.Start.UtcDateTime);
        activity.Start();
        if (span.Error) activity.SetStatus(ActivityStatusCode.Error);
        // An instant (submitted, cancelled) lasts one tick: Activity.Stop replaces a zero duration with "until now".
        activity.SetEndTime((span.End <= span.Start ? span.Start.AddTicks(1) : span.End).UtcDateTime);
        activity.Stop();
        return activity;
    }
}
