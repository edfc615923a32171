using Cis490.Coordinator.Jobs;
using Xunit;

namespace Cis490.Coordinator.Tests;

/// <summary>When the coordinator snapshots its table (issue 17, bench scale, bench coordinator): every snapshot-every events on a
/// small table, a fraction of the table's size on a large one, never two at once, counted from the snapshot recovery started
/// from, and no more often than the time share allows.</summary>
public sealed class SnapshotScheduleTests
{
    private static TimeSpan Ms(double ms) => TimeSpan.FromMilliseconds(ms);

    [Fact]
    public void A_small_table_snapshots_every_snapshot_every_events()
    {
        var s = new SnapshotSchedule(1000, 0.1);
        var due = new List<long>();
        for (long seq = 1; seq <= 3500; seq++)
        {
            s.Written(1);
            if (s.Due(2000, Ms(seq)))
            {
                due.Add(seq);
                s.Ended(Ms(seq));
            }
        }
        Assert.Equal([1000L, 2000L, 3000L], due);
    }

    [Fact]
    public void Events_written_together_count_each()
    {
        var s = new SnapshotSchedule(1000, 0);
        s.Written(999);
        Assert.False(s.Due(10, Ms(1)));
        s.Written(40); // one write of 40 events crosses the line
        Assert.True(s.Due(10, Ms(2)));
        Assert.Equal(0, s.EventsSince);
    }

    [Fact]
    public void A_large_table_snapshots_once_per_its_fraction_of_events()
    {
        var s = new SnapshotSchedule(1000, 0.1);
        Assert.Equal(10_000, s.Interval(100_000));
        s.Written(9_999);
        Assert.False(s.Due(100_000, Ms(1)));
        s.Written(1);
        Assert.True(s.Due(100_000, Ms(2)));
        s.Ended(Ms(3));
        s.Written(9_999);
        Assert.False(s.Due(100_000, Ms(4)));
        s.Written(1);
        Assert.True(s.Due(100_000, Ms(5)));
    }

    [Fact]
    public void No_snapshot_is_asked_for_while_one_is_being_saved()
    {
        // A 100 000-job manifest written in one go: without this, 100 snapshots of growing tables queued behind each other.
        var s = new SnapshotSchedule(1000, 0);
        s.Written(1000);
        Assert.True(s.Due(1000, Ms(1)));
        s.Written(1000);
        Assert.False(s.Due(2000, Ms(2)));
        s.Written(48_000);
        Assert.False(s.Due(50_000, Ms(3)));
        s.Ended(Ms(4)); // saved (or failed)
        Assert.True(s.Due(50_000, Ms(5)));
    }

    [Fact]
    public void Events_count_from_the_snapshot_recovery_started_from()
    {
        var s = new SnapshotSchedule(1000, 0);
        s.Written(5000); // written before the coordinator stopped
        s.RecoveredFrom();
        s.Written(999); // replayed after it
        Assert.False(s.Due(10, Ms(1)));
        s.Written(1);
        Assert.True(s.Due(10, Ms(2)));
    }

    [Fact]
    public void A_snapshot_that_took_d_holds_the_next_back_for_d_times_one_over_the_share_minus_one()
    {
        var s = new SnapshotSchedule(1000, 0, timeShare: 0.1);
        s.Written(1000);
        Assert.True(s.Due(20_000, Ms(100)));
        s.Ended(Ms(140)); // took 40 ms: the next not before 140 + 40 x 9 = 500 ms
        s.Written(5000); // many more events than snapshot-every meanwhile
        Assert.False(s.Due(20_000, Ms(499)));
        Assert.True(s.Due(20_000, Ms(500)));
        Assert.Equal(0, s.EventsSince);
    }

    [Fact]
    public void A_share_of_one_puts_no_time_limit()
    {
        var s = new SnapshotSchedule(10, 0, timeShare: 1);
        s.Written(10);
        Assert.True(s.Due(10, Ms(0)));
        s.Ended(Ms(1000)); // a slow one
        s.Written(10);
        Assert.True(s.Due(10, Ms(1000)));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-0.1)]
    [InlineData(1.5)]
    public void A_time_share_outside_zero_to_one_is_refused(double share) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new SnapshotSchedule(1000, 0, share));

    [Fact]
    public void Snapshot_every_zero_turns_snapshots_off()
    {
        var s = new SnapshotSchedule(0, 0.1);
        s.Written(1_000_000);
        Assert.False(s.Due(100_000, Ms(1)));
    }

    [Fact]
    public void The_shipped_settings_limit_snapshots_to_a_tenth_of_the_time_and_gather_before_each_write()
    {
        var settings = CoordinatorSettings.From(TestConfig.Coordinator("/tmp/cis490-settings-test", TestConfig.Token));
        Assert.Equal((1000, 0.02, 0.1, true), (settings.SnapshotEvery, settings.SnapshotTableFraction, settings.SnapshotTimeShare, settings.GatherBeforeWrite));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("1.5")]
    public void A_time_share_outside_zero_to_one_in_hocon_is_refused_naming_the_key(string share)
    {
        var config = TestConfig.Coordinator("/tmp/cis490-settings-test", TestConfig.Token, $"cis490.coordinator.snapshot-time-share = {share}");
        var e = Assert.Throws<InvalidOperationException>(() => CoordinatorSettings.From(config));
        Assert.Contains("cis490.coordinator.snapshot-time-share", e.Message);
    }
}
