namespace Cis490.Coordinator.Jobs;

/// <summary>When the coordinator saves a snapshot of its job table: once at least <c>snapshot-every</c> events, or a
/// <c>snapshot-table-fraction</c> of the table's job count if that is more, were written since the last one it asked for; never
/// while one is still being saved; and, with <c>snapshot-time-share</c> below 1, not before the time since the last one ended is
/// long enough that saving snapshots takes at most that share of the coordinator's time.</summary>
/// <remarks>
/// <para>A snapshot costs in proportion to the table (100 000 jobs: ~10 MB), so a large table snapshots less often, and recovery
/// still replays at most that fraction of the table in events after loading it. Before this, a 100 000-job manifest asked for 100
/// snapshots of growing tables at once and the snapshot store wrote them one after another for minutes, holding the SQLite file's
/// one writer that the journal needs (bench scale: leases waited seconds).</para>
/// <para>The time share bounds what a busy coordinator spends on snapshots whatever its rate: counted in events alone, a table of
/// 20 000 jobs leasing thousands of times a second was serialized several times a second, half of the CPU per lease in
/// <c>bench coordinator</c> (issue 17). A slow snapshot (a large table, a loaded machine) spaces out the next ones by itself.</para>
/// <para>Plain state, no actors: the coordinator reports every event written or replayed, asks <see cref="Due"/> once a write is
/// confirmed, and reports the end of each save, with the time on its own clock.</para>
/// </remarks>
public sealed class SnapshotSchedule
{
    private readonly int _every;
    private readonly double _tableFraction;
    private readonly double _timeShare;
    private long _events;
    private bool _saving;
    private TimeSpan _asked;
    private TimeSpan _notBefore;

    /// <param name="every">Events between snapshots at least; 0 turns snapshots off.</param>
    /// <param name="tableFraction">Events between snapshots per job in the table, when more than <paramref name="every"/>.</param>
    /// <param name="timeShare">Most of the time saving snapshots may take, in (0, 1]; 1: no limit.</param>
    public SnapshotSchedule(int every, double tableFraction, double timeShare = 1)
    {
        if (timeShare is <= 0 or > 1) throw new ArgumentOutOfRangeException(nameof(timeShare), timeShare, "the time share must be in (0, 1]");
        _every = every;
        _tableFraction = tableFraction;
        _timeShare = timeShare;
    }

    /// <summary>Events written or replayed since the last snapshot asked for (or since the one recovery started from).</summary>
    public long EventsSince => _events;

    /// <summary>Events were written (or replayed while recovering).</summary>
    public void Written(int events) => _events += events;

    /// <summary>Whether to save a snapshot of a table of <paramref name="jobs"/> jobs now (<paramref name="now"/> on the caller's
    /// clock); true means the caller saves one now (the schedule counts it as in flight until <see cref="Ended"/>).</summary>
    public bool Due(int jobs, TimeSpan now)
    {
        if (_every <= 0 || _saving || _events < Interval(jobs) || now < _notBefore) return false;
        _events = 0;
        _saving = true;
        _asked = now;
        return true;
    }

    /// <summary>Events between snapshots for a table of <paramref name="jobs"/> jobs, at least.</summary>
    public long Interval(int jobs) => Math.Max(_every, (long)(jobs * _tableFraction));

    /// <summary>The snapshot asked for was saved, or failed (<paramref name="now"/> on the same clock as <see cref="Due"/>): the next
    /// may be asked for, once the time share allows.</summary>
    public void Ended(TimeSpan now)
    {
        _saving = false;
        var took = now - _asked;
        _notBefore = _timeShare >= 1 || took <= TimeSpan.Zero ? TimeSpan.Zero : now + took * (1 / _timeShare - 1);
    }

    /// <summary>Recovery started from a snapshot: events count from there (the replayed ones are reported as <see cref="Written"/>).</summary>
    public void RecoveredFrom() => _events = 0;
}
