using System.Diagnostics;
using System.Runtime;
using Cis490.Shared.Telemetry;

namespace Cis490.Coordinator.Persistence;

/// <summary>Where a coordinator's recovery spends its time (issue 17: recovery of 100 000 jobs ≤ 1 s): from the actor's start to the
/// snapshot offered (the persistence plugins' start, the snapshot read from the store and decoded), the job table indexed from it,
/// then the events after it replayed. Also what the process spent before the actor started and on the JIT and the GC up to
/// then, since on a fresh process those, not the table, are most of the wait. Plain timestamps; the coordinator reports each step.</summary>
public sealed class RecoveryPhases
{
    private readonly Mark _started = Mark.Now();
    private Mark _offered, _indexed;
    private long _events;
    private bool _fromSnapshot;

    /// <summary>A moment of the recovery: the clock, and the process's JIT and GC so far (what each phase spent on them).</summary>
    private readonly record struct Mark(long Timestamp, int JitMethods, TimeSpan JitTime, TimeSpan GcPause)
    {
        public static Mark Now() => new(Stopwatch.GetTimestamp(), (int)JitInfo.GetCompiledMethodCount(), JitInfo.GetCompilationTime(), GC.GetTotalPauseDuration());
        public bool IsSet => Timestamp != 0;
    }

    /// <summary>The snapshot store offered a snapshot (now), which the coordinator then indexes.</summary>
    public void SnapshotOffered()
    {
        _offered = Mark.Now();
        _fromSnapshot = true;
    }

    /// <summary>The table was built from the snapshot (now).</summary>
    public void SnapshotIndexed() => _indexed = Mark.Now();

    /// <summary>An event was replayed. Without a snapshot the first one ends the load phase (the plugins' start, the read begun).</summary>
    public void Replayed()
    {
        if (_events++ == 0 && !_offered.IsSet) _offered = _indexed = Mark.Now();
    }

    /// <summary>Recovery is complete: records each phase in <c>cis490_recovery_phase_seconds</c> and returns them in words, for the log
    /// (each with the methods the process JIT-compiled and the GC pauses in it: all threads', not the coordinator's alone).</summary>
    public string Completed()
    {
        var end = Mark.Now();
        var offered = _offered.IsSet ? _offered : end;
        var indexed = _indexed.IsSet ? _indexed : offered;
        Record("load", Seconds(_started, offered));
        Record("index", Seconds(offered, indexed));
        Record("replay", Seconds(indexed, end));
        var processUp = (DateTime.Now - Process.GetCurrentProcess().StartTime).TotalSeconds;
        var actorStart = processUp - Seconds(_started, end);
        var decoded = _fromSnapshot
            ? $", of which the snapshot's decode {Protocols.Serialization.JobTableSnapshotCodec.LastReadTime.TotalMilliseconds:F0} ms" : "";
        return $"recovery phases: snapshot offered {Phase(_started, offered)} after the actor started (the journal plugins' start, the snapshot " +
               $"read and decoded{decoded}), table indexed from it in {Phase(offered, indexed)}, {_events} events replayed in {Phase(indexed, end)}; " +
               $"the actor started {actorStart:F2} s after the process did; JIT so far {end.JitTime.TotalSeconds:F2} s " +
               $"({end.JitMethods} methods), GC pauses {end.GcPause.TotalSeconds:F2} s";
    }

    private static string Phase(Mark from, Mark to) =>
        $"{Seconds(from, to) * 1000:F0} ms (JIT {to.JitMethods - from.JitMethods} methods, {(to.JitTime - from.JitTime).TotalMilliseconds:F0} ms; " +
        $"GC paused {(to.GcPause - from.GcPause).TotalMilliseconds:F0} ms)";

    private static double Seconds(Mark from, Mark to) => Math.Max(0, (to.Timestamp - from.Timestamp) / (double)Stopwatch.Frequency);

    private static void Record(string phase, double seconds) =>
        Cis490Metrics.RecoveryPhase.Record(seconds, new KeyValuePair<string, object?>("phase", phase));
}
