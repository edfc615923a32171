using System.Text.Json;
using System.Threading.Channels;
using Akka.Event;
using Cis490.Protocols.Jobs;
using Cis490.Protocols.Operator;

namespace Cis490.Coordinator.Http.Dashboard;

/// <summary>One server-sent event: its name and its JSON data (one line).</summary>
public sealed record SseMessage(string Event, string Data)
{
    public string Format() => $"event: {Event}\ndata: {Data}\n\n";
}

/// <summary>The dashboard's live feed, shared by every connected page: while at least one page listens it takes a snapshot every
/// snapshot-interval, sends it when it changed (a <c>tick</c> otherwise), and sends running jobs' new progress lines. A page that
/// connects gets the latest snapshot and every curve at once. A page too slow to keep up is disconnected, and reconnects.</summary>
public sealed class DashboardFeed : IAsyncDisposable
{
    private sealed class Curve
    {
        public long Next;
        public bool Done;
        public DateTimeOffset Touched;
        public readonly List<CurvePoint> Points = [];
    }

    private readonly SnapshotSource _source;
    private readonly DashboardSettings _settings;
    private readonly ILoggingAdapter _log;
    private readonly object _gate = new();
    private readonly List<Channel<SseMessage>> _subscribers = [];
    private readonly Dictionary<string, Curve> _curves = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _wake = new(0);
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;
    private string? _lastSnapshot;
    private string? _lastProblem;
    private bool _disposed;

    public DashboardFeed(SnapshotSource source, DashboardSettings settings, ILoggingAdapter log)
    {
        _source = source;
        _settings = settings;
        _log = log;
    }

    public DashboardSettings Settings => _settings;

    /// <summary>A new page: its channel already holds the latest picture and every curve; the loop starts with the first page.</summary>
    public ChannelReader<SseMessage> Subscribe()
    {
        var channel = Channel.CreateBounded<SseMessage>(new BoundedChannelOptions(_settings.SubscriberBuffer) { SingleReader = true });
        lock (_gate)
        {
            if (_disposed)
            {
                channel.Writer.TryComplete(); // the server is stopping
                return channel.Reader;
            }
            if (_lastSnapshot is not null) channel.Writer.TryWrite(new SseMessage("snapshot", _lastSnapshot));
            if (_curves.Count > 0)
                channel.Writer.TryWrite(new SseMessage("curves", Json(_curves.ToDictionary(kv => kv.Key, kv => kv.Value.Points))));
            if (_lastProblem is not null) channel.Writer.TryWrite(Problem(_lastProblem));
            _subscribers.Add(channel);
            _loop ??= Task.Run(Loop);
        }
        _wake.Release(); // a fresh picture now, not at the next tick
        return channel.Reader;
    }

    public void Unsubscribe(ChannelReader<SseMessage> reader)
    {
        lock (_gate) _subscribers.RemoveAll(c => c.Reader == reader);
    }

    public int Subscribers
    {
        get { lock (_gate) return _subscribers.Count; }
    }

    private async Task Loop()
    {
        var ct = _stop.Token;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                if (Subscribers > 0) await Tick(ct);
                await _wake.WaitAsync(_settings.SnapshotInterval, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                // Never let the feed die: log, tell the pages, try again next tick.
                _log.Error(e, "dashboard feed: a tick failed");
                Broadcast(Problem($"the dashboard feed failed ({e.GetType().Name}: {e.Message}); see the coordinator's log"));
                await Task.Delay(_settings.SnapshotInterval, ct).ContinueWith(_ => { }, CancellationToken.None);
            }
        }
    }

    private async Task Tick(CancellationToken ct)
    {
        DashboardSnapshot snapshot;
        try
        {
            snapshot = await _source.Take(ct);
        }
        catch (CoordinatorUnavailable e)
        {
            lock (_gate) _lastProblem = e.Message;
            Broadcast(Problem(e.Message));
            return;
        }
        var progress = await NewProgress(snapshot, ct);
        var json = Json(snapshot with { At = DateTimeOffset.MinValue });
        bool changed;
        lock (_gate)
        {
            changed = json != _lastSnapshotKey;
            _lastSnapshotKey = json;
            _lastSnapshot = Json(snapshot);
            _lastProblem = null;
        }
        Broadcast(changed ? new SseMessage("snapshot", _lastSnapshot) : new SseMessage("tick", Json(new { at = snapshot.At, coordinator = "ok" })));
        if (progress.Count > 0) Broadcast(new SseMessage("progress", Json(progress)));
    }

    private string? _lastSnapshotKey;

    /// <summary>Asks for the new lines of every job that runs, or ran and still has lines to deliver; keeps them as curves.</summary>
    private async Task<Dictionary<string, List<CurvePoint>>> NewProgress(DashboardSnapshot snapshot, CancellationToken ct)
    {
        var wanted = new List<(string Id, long After)>();
        lock (_gate)
        {
            foreach (var job in snapshot.Jobs.OrderByDescending(j => j.StartedAt ?? j.AddedAt))
            {
                var live = job.Status is JobStatus.Leased or JobStatus.Running;
                _curves.TryGetValue(job.JobId, out var curve);
                if (live && curve is { Done: true }) curve.Done = false; // requeued and running again: a new lease's lines follow
                if (curve is null ? (live || job.Progress is not null) : !curve.Done) wanted.Add((job.JobId, curve?.Next ?? 0));
            }
        }
        var replies = await Task.WhenAll(wanted.Take(_settings.MaxCurves).Select(async w =>
        {
            try { return (w.Id, Logs: (OperatorQueries.JobLogs?)await _source.Logs(w.Id, w.After, ct)); }
            catch (CoordinatorUnavailable) { return (w.Id, Logs: (OperatorQueries.JobLogs?)null); } // asked again next tick
        }));
        var fresh = new Dictionary<string, List<CurvePoint>>(StringComparer.Ordinal);
        lock (_gate)
        {
            foreach (var (id, logs) in replies)
            {
                if (logs is null) continue;
                if (!_curves.TryGetValue(id, out var curve)) _curves[id] = curve = new Curve();
                curve.Touched = snapshot.At;
                var points = logs.Lines.Select(l => new CurvePoint(l.Number, l.LeaseId, l.At, l.Progress.Epoch, l.Progress.TotalEpochs,
                    Finite(l.Progress.Loss), Finite(l.Progress.ValMacroF1), l.Progress.Message)).ToList();
                curve.Next = logs.Next;
                curve.Done = logs.Finished && points.Count == 0;
                if (points.Count == 0) continue;
                curve.Points.AddRange(points);
                if (curve.Points.Count > _settings.MaxCurvePoints) curve.Points.RemoveRange(0, curve.Points.Count - _settings.MaxCurvePoints);
                fresh[id] = points;
            }
            // Forget the curves of jobs that are gone, then the least recently touched beyond max-curves.
            var known = snapshot.Jobs.Select(j => j.JobId).ToHashSet(StringComparer.Ordinal);
            foreach (var id in _curves.Keys.Where(k => !known.Contains(k)).ToList()) _curves.Remove(id);
            foreach (var id in _curves.OrderBy(kv => kv.Value.Touched).Take(Math.Max(0, _curves.Count - _settings.MaxCurves)).Select(kv => kv.Key).ToList())
                _curves.Remove(id);
        }
        return fresh;
    }

    private static double? Finite(double? v) => v is { } d && double.IsFinite(d) ? d : null;

    private static SseMessage Problem(string message) => new("coordinator", Json(new { coordinator = "unreachable", error = message }));

    /// <summary>Sends to every page; a page whose buffer is full is dropped (its connection ends, and its EventSource reconnects).</summary>
    private void Broadcast(SseMessage message)
    {
        lock (_gate)
        {
            foreach (var c in _subscribers.ToList())
            {
                if (c.Writer.TryWrite(message)) continue;
                c.Writer.TryComplete(new InvalidOperationException("the page did not keep up with the dashboard feed"));
                _subscribers.Remove(c);
                _log.Warning("dashboard feed: a page fell {0} messages behind; disconnected it (it reconnects by itself)", _settings.SubscriberBuffer);
            }
        }
    }

    public static string Json<T>(T value) => JsonSerializer.Serialize(value, ApiJson.Options);

    /// <summary>Ends every page's stream (the server is stopping: open event streams must not hold it up) and the loop.</summary>
    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            foreach (var c in _subscribers) c.Writer.TryComplete();
            _subscribers.Clear();
        }
        await _stop.CancelAsync();
        if (_loop is not null) await _loop.ContinueWith(_ => { }, CancellationToken.None);
        _stop.Dispose();
    }
}
