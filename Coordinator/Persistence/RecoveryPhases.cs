using System.Diagnostics;
using Cis490.Shared.Telemetry;

namespace Cis490.Coordinator.Persistence;

/// <summary>Where a coordinator's recovery spends its time (issue 17: recovery of 100 000 jobs ≤ 1 s): from the actor's start to the
/// snapshot offered (the persistence plugins' start, the snapshot read from the store and decoded), the job table indexed from it,
/// then the events after it replayed. Also what the process spent before the actor started and on the JIT and the GC up to
/// then, since on a fresh process those, not the table, are most of the wait. Plain timestamps; the coordinator reports each step.</summary>
public sealed class RecoveryPhases
{
    private readonly long _started = Stopwatch.GetTimestamp();
    private long _offered, _indexed;
    private long _events;

    /// <summary>The snapshot store offered a snapshot (now), which the coordinator then indexes.</summary>
    public void SnapshotOffered() => _offered = Stopwatch.GetTimestamp();

    /// <summary>The table was built from the snapshot (now).</summary>
    public void SnapshotIndexed() => _indexed = Stopwatch.GetTimestamp();

    /// <summary>An event was replayed. Without a snapshot the first one ends the load phase (the plugins' start, the read begun).</summary>
    public void Replayed()
    {
        if (_events++ == 0 && _offered == 0) _offered = _indexed = Stopwatch.GetTimestamp();
    }

    /// <summary>Recovery is complete: records each phase in <c>cis490_recovery_phase_seconds</c> and returns them in words, for the log.</summary>
    public string Completed()
    {
        var end = Stopwatch.GetTimestamp();
        var load = Seconds(_started, _offered > 0 ? _offered : end);
        var index = _offered > 0 ? Seconds(_offered, _indexed) : 0;
        var replay = Seconds(_indexed > 0 ? _indexed : _started + (long)(load * Stopwatch.Frequency), end);
        Record("load", load);
        Record("index", index);
        Record("replay", replay);
        var processUp = (DateTime.Now - Process.GetCurrentProcess().StartTime).TotalSeconds;
        var actorStart = processUp - Seconds(_started, end);
        return $"recovery phases: snapshot offered {load * 1000:F0} ms after the actor started (the journal plugins' start, the snapshot " +
               $"read and decoded), table indexed from it in {index * 1000:F0} ms, {_events} events replayed in {replay * 1000:F0} ms; " +
               $"the actor started {actorStart:F2} s after the process did; JIT so far {System.Runtime.JitInfo.GetCompilationTime().TotalSeconds:F2} s " +
               $"({System.Runtime.JitInfo.GetCompiledMethodCount()} methods), GC pauses {GC.GetTotalPauseDuration().TotalSeconds:F2} s";
    }

    private static double Seconds(long from, long to) => Math.Max(0, (to - from) / (double)Stopwatch.Frequency);

    private static void Record(string phase, double seconds) =>
        Cis490Metrics.RecoveryPhase.Record(seconds, new KeyValuePair<string, object?>("phase", phase));
}
