namespace Cis490.Coordinator.Jobs;

/// <summary>When the coordinator saves a snapshot of its job table: once at least <c>snapshot-every</c> events, or a
/// <c>snapshot-table-fraction</c> of the table's job count if that is more, were written since the last one it asked for; and never
/// while one is still being saved. A snapshot costs in proportion to the table (100 000 jobs: ~10 MB), so a large table snapshots
/// less often, and recovery still replays at most that fraction of the table in events after loading it. Before this, a 100 000-job
/// manifest asked for 100 snapshots of growing tables at once and the snapshot store wrote them one after another for minutes,
/// holding the SQLite file's one writer that the journal needs (bench scale: leases waited seconds).</summary>
/// <remarks>Plain state, no actors: the coordinator asks <see cref="Due"/> after each written event and reports the end of each save.</remarks>
public sealed class SnapshotSchedule(int every, double tableFraction)
{
    private long _lastAsked;
    private bool _saving;

    /// <summary>Whether to save a snapshot after event <paramref name="sequenceNr"/> of a table of <paramref name="jobs"/> jobs; true
    /// means the caller saves one now (the schedule counts it as in flight until <see cref="Ended"/>).</summary>
    public bool Due(long sequenceNr, int jobs)
    {
        if (every <= 0 || _saving) return false;
        if (sequenceNr - _lastAsked < Interval(jobs)) return false;
        _lastAsked = sequenceNr;
        _saving = true;
        return true;
    }

    /// <summary>Events between snapshots for a table of <paramref name="jobs"/> jobs.</summary>
    public long Interval(int jobs) => Math.Max(every, (long)(jobs * tableFraction));

    /// <summary>The snapshot asked for was saved, or failed: the next may be asked for.</summary>
    public void Ended() => _saving = false;

    /// <summary>Recovery started from the snapshot at <paramref name="sequenceNr"/>: events count from there.</summary>
    public void RecoveredFrom(long sequenceNr) => _lastAsked = sequenceNr;
}
