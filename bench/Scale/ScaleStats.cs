namespace Cis490.Bench.Scale;

/// <summary>What the simulated fleet saw, shared by its actors (thread-safe): lease latencies, counts, and the first errors.</summary>
public sealed class ScaleStats
{
    private readonly object _gate = new();
    private readonly List<double> _firstLease = [];
    private readonly List<double> _busyLease = [];
    private readonly List<string> _errors = [];
    private long _leases, _completed, _completedMeasured, _heartbeats, _heartbeatsMeasured, _revoked, _errorCount, _floodHeartbeats, _raced;
    private int _floodAnswers;

    public long Leases => Interlocked.Read(ref _leases);
    public long CompletedCount => Interlocked.Read(ref _completed);
    public long CompletedMeasured => Interlocked.Read(ref _completedMeasured);
    public long HeartbeatsSent => Interlocked.Read(ref _heartbeats);
    public long HeartbeatsMeasured => Interlocked.Read(ref _heartbeatsMeasured);
    public long RevokedCount => Interlocked.Read(ref _revoked);
    public long ErrorCount => Interlocked.Read(ref _errorCount);
    public int FirstLeases { get { lock (_gate) return _firstLease.Count; } }

    /// <summary>A lease arrived <paramref name="latency"/> after the worker's slot became free (its registration, for the first).</summary>
    public void Leased(TimeSpan latency, bool first, bool measuring)
    {
        Interlocked.Increment(ref _leases);
        lock (_gate)
        {
            if (first) _firstLease.Add(latency.TotalSeconds);
            else if (measuring) _busyLease.Add(latency.TotalSeconds);
        }
    }

    public void Completed(bool measuring)
    {
        Interlocked.Increment(ref _completed);
        if (measuring) Interlocked.Increment(ref _completedMeasured);
    }

    public void HeartbeatSent(bool measuring)
    {
        Interlocked.Increment(ref _heartbeats);
        if (measuring) Interlocked.Increment(ref _heartbeatsMeasured);
    }

    public void Revoked() => Interlocked.Increment(ref _revoked);

    /// <summary>A heartbeat refused because the lease had just completed (it crossed the completion on the wire): expected.</summary>
    public void RacedCompletion() => Interlocked.Increment(ref _raced);

    public long Raced => Interlocked.Read(ref _raced);

    public void Error(string text)
    {
        Interlocked.Increment(ref _errorCount);
        lock (_gate) if (_errors.Count < 10) _errors.Add(text);
    }

    public IReadOnlyList<string> FirstErrors() { lock (_gate) return [.. _errors]; }

    /// <summary>A worker's flood was handled (<paramref name="heartbeats"/> heartbeats; 0 from a worker that had no lease).</summary>
    public void FloodAnswered(int heartbeats)
    {
        Interlocked.Add(ref _floodHeartbeats, heartbeats);
        Interlocked.Increment(ref _floodAnswers);
    }

    public (int Answers, long Heartbeats) FloodState() => (Volatile.Read(ref _floodAnswers), Interlocked.Read(ref _floodHeartbeats));

    public void ResetFlood()
    {
        Interlocked.Exchange(ref _floodHeartbeats, 0);
        Interlocked.Exchange(ref _floodAnswers, 0);
    }

    public Percentiles FirstLeaseLatency() { lock (_gate) return Percentiles.Of(_firstLease); }
    public Percentiles BusyLeaseLatency() { lock (_gate) return Percentiles.Of(_busyLease); }
}

/// <summary>p50/p99/max of a sample, in seconds.</summary>
public sealed record Percentiles(int Count, double P50, double P99, double Max)
{
    public static Percentiles Of(IReadOnlyCollection<double> sample)
    {
        if (sample.Count == 0) return new Percentiles(0, double.NaN, double.NaN, double.NaN);
        var sorted = sample.Order().ToArray();
        double At(double q) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
        return new Percentiles(sorted.Length, At(0.50), At(0.99), sorted[^1]);
    }

    public string Ms => Count == 0 ? "no sample" : $"p50 {P50 * 1000:F1} ms, p99 {P99 * 1000:F1} ms, max {Max * 1000:F0} ms (n = {Count})";
}
