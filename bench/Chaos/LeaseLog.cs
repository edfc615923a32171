using System.Globalization;
using System.Text.RegularExpressions;

namespace Cis490.Bench.Chaos;

/// <summary>The coordinator's lease decisions as it logs them ("Leased job J to worker W (lease N)", "Job J completed by lease
/// N"), each with the time in the log line (the coordinator's wall clock, millisecond resolution; the bench runs on the same
/// machine). This is how the bench times fault → re-lease: no polling interval, and it costs the fleet nothing.</summary>
public sealed partial class LeaseLog
{
    /// <summary>One grant or completion the coordinator logged.</summary>
    public sealed record Entry(string JobId, long LeaseId, string? WorkerId, bool Completed, DateTimeOffset At);

    private readonly List<Entry> _entries = [];
    private readonly List<(Func<Entry, bool> Match, TaskCompletionSource<Entry> Done)> _waiters = [];
    private readonly object _gate = new();

    [GeneratedRegex(@"^\[\w+\]\[(?<at>[^\]]+)\].*Leased job (?<job>[0-9a-f]+) to worker (?<worker>\S+) \(lease (?<lease>\d+)\)")]
    private static partial Regex LeasedLine();

    [GeneratedRegex(@"^\[\w+\]\[(?<at>[^\]]+)\].*Job (?<job>[0-9a-f]+) completed by lease (?<lease>\d+)")]
    private static partial Regex CompletedLine();

    /// <summary>Feeds one line of a coordinator process's output.</summary>
    public void OnLine(string line)
    {
        Entry? entry = null;
        if (LeasedLine().Match(line) is { Success: true } m)
            entry = new Entry(m.Groups["job"].Value, long.Parse(m.Groups["lease"].Value, CultureInfo.InvariantCulture), m.Groups["worker"].Value, false, At(m));
        else if (CompletedLine().Match(line) is { Success: true } c)
            entry = new Entry(c.Groups["job"].Value, long.Parse(c.Groups["lease"].Value, CultureInfo.InvariantCulture), null, true, At(c));
        if (entry is null) return;
        lock (_gate)
        {
            _entries.Add(entry);
            for (var i = _waiters.Count - 1; i >= 0; i--)
                if (_waiters[i].Match(entry))
                {
                    _waiters[i].Done.TrySetResult(entry);
                    _waiters.RemoveAt(i);
                }
        }
    }

    /// <summary>The first entry for <paramref name="jobId"/> after lease <paramref name="leaseId"/>: a newer lease (re-leased) or
    /// the completion of that lease (it finished across the fault); null when neither comes within <paramref name="timeout"/>.</summary>
    public async Task<Entry?> WaitResolved(string jobId, long leaseId, TimeSpan timeout, CancellationToken ct)
    {
        bool Match(Entry e) => e.JobId == jobId && (e.Completed ? e.LeaseId == leaseId : e.LeaseId > leaseId);
        var done = new TaskCompletionSource<Entry>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (_entries.FirstOrDefault(Match) is { } seen) return seen;
            _waiters.Add((Match, done));
        }
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timer.CancelAfter(timeout);
        try { return await done.Task.WaitAsync(timer.Token); }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested) { return null; }
        finally { lock (_gate) _waiters.RemoveAll(w => w.Done == done); }
    }

    public IReadOnlyList<Entry> Snapshot()
    {
        lock (_gate) return _entries.ToList();
    }

    private static DateTimeOffset At(Match m) =>
        DateTimeOffset.TryParseExact(m.Groups["at"].Value, "MM/dd/yyyy HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at)
            ? at
            : DateTimeOffset.UtcNow; // a format we do not know: the time the line reached us (a few ms later)
}
