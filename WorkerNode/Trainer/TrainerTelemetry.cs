using Cis490.Shared.Telemetry;

namespace Cis490.WorkerNode.Trainer;

/// <summary>One lease's metrics and trace spans on its worker: epochs (count and seconds per family) read from the trainer's
/// progress lines, heartbeats, and the artifact's upload. Owned by the trainer actor (one thread at a time).</summary>
public sealed class TrainerTelemetry(string jobId, long leaseId, string model)
{
    private readonly KeyValuePair<string, object?> _family = new("family", Cis490Metrics.Family(model));
    private int _epoch;
    private double _epochElapsed;
    private DateTimeOffset _epochAt = DateTimeOffset.UtcNow;
    private DateTimeOffset? _uploadStarted;

    /// <summary>A progress line: every epoch it moved past counts, and the seconds since the previous epoch are shared among them.</summary>
    /// <param name="elapsedSeconds">The trainer's own clock (seconds since it started training).</param>
    public void Progress(int epoch, double elapsedSeconds)
    {
        if (epoch <= _epoch) return;
        var finished = epoch - _epoch;
        var now = DateTimeOffset.UtcNow;
        var seconds = Math.Max(0, elapsedSeconds - _epochElapsed) / finished;
        Cis490Metrics.TrainerEpochs.Add(finished, _family);
        for (var i = 0; i < finished; i++) Cis490Metrics.TrainerEpochSeconds.Record(seconds, _family);
        JobTracing.Emit(new SpanRecord("trainer.epoch", jobId, _epochAt, now,
            [new("cis490.lease_id", leaseId), new("cis490.epoch", epoch), new("cis490.epochs_in_span", finished), new("cis490.family", model)]));
        (_epoch, _epochElapsed, _epochAt) = (epoch, elapsedSeconds, now);
    }

    public void Heartbeat() => Cis490Metrics.HeartbeatsSent.Add(1);

    public void UploadStarted() => _uploadStarted ??= DateTimeOffset.UtcNow;

    /// <summary>The store confirmed (ok) or the upload attempt failed.</summary>
    public void UploadEnded(bool ok, long bytes)
    {
        var direction = new KeyValuePair<string, object?>("direction", "upload");
        Cis490Metrics.Transfers.Add(1, direction, new KeyValuePair<string, object?>("outcome", ok ? "ok" : "failed"));
        if (ok) Cis490Metrics.TransferBytes.Add(bytes, direction);
        JobTracing.Emit(new SpanRecord("artifact.upload", jobId, _uploadStarted ?? DateTimeOffset.UtcNow, DateTimeOffset.UtcNow,
            [new("cis490.lease_id", leaseId), new("cis490.artifact_bytes", bytes)], Error: !ok));
        _uploadStarted = null;
    }
}
