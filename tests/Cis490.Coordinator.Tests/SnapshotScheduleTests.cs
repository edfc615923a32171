using Cis490.Coordinator.Jobs;
using Xunit;

namespace Cis490.Coordinator.Tests;

/// <summary>When the coordinator snapshots its table (issue 17, bench scale): every snapshot-every events on a small table, a
/// fraction of the table's size on a large one, never two at once, and counted from the snapshot recovery started from.</summary>
public sealed class SnapshotScheduleTests
{
    [Fact]
    public void A_small_table_snapshots_every_snapshot_every_events()
    {
        var s = new SnapshotSchedule(1000, 0.1);
        var due = new List<long>();
        for (long seq = 1; seq <= 3500; seq++)
            if (s.Due(seq, 2000))
            {
                due.Add(seq);
                s.Ended();
            }
        Assert.Equal([1000L, 2000L, 3000L], due);
    }

    [Fact]
    public void A_large_table_snapshots_once_per_its_fraction_of_events()
    {
        var s = new SnapshotSchedule(1000, 0.1);
        Assert.Equal(10_000, s.Interval(100_000));
        Assert.False(s.Due(9_999, 100_000));
        Assert.True(s.Due(10_000, 100_000));
        s.Ended();
        Assert.False(s.Due(19_999, 100_000));
        Assert.True(s.Due(20_000, 100_000));
    }

    [Fact]
    public void No_snapshot_is_asked_for_while_one_is_being_saved()
    {
        // A 100 000-job manifest written in one go: without this, 100 snapshots of growing tables queued behind each other.
        var s = new SnapshotSchedule(1000, 0);
        Assert.True(s.Due(1000, 1000));
        Assert.False(s.Due(2000, 2000));
        Assert.False(s.Due(50_000, 50_000));
        s.Ended(); // saved (or failed)
        Assert.True(s.Due(50_001, 50_000));
    }

    [Fact]
    public void Events_count_from_the_snapshot_recovery_started_from()
    {
        var s = new SnapshotSchedule(1000, 0);
        s.RecoveredFrom(7000);
        Assert.False(s.Due(7999, 10));
        Assert.True(s.Due(8000, 10));
    }

    [Fact]
    public void Snapshot_every_zero_turns_snapshots_off()
    {
        var s = new SnapshotSchedule(0, 0.1);
        Assert.False(s.Due(1_000_000, 100_000));
    }
}
