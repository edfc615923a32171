using Cis490.Coordinator.Operator;
using Cis490.Protocols.Jobs;
using Xunit;

namespace Cis490.Coordinator.Tests;

/// <summary>The coordinator's in-memory job logs: bounded per job and in jobs, numbered for paging.</summary>
public sealed class JobLogBufferTests
{
    private static readonly DateTimeOffset At = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static TrainingProgress Epoch(int n) => new(n, 10, 1.0 / n, null, n, $"epoch {n}");

    [Fact]
    public void Lines_are_numbered_from_one_and_paged_after_a_number()
    {
        var logs = new JobLogBuffer(100, 10);
        logs.Record("job", 1, At, Epoch(2), [Epoch(1), Epoch(2)]);
        logs.Record("job", 1, At, Epoch(3), [Epoch(3)]);

        var (all, next) = logs.Read("job", 0);
        var (later, after) = logs.Read("job", 2);
        var (none, same) = logs.Read("job", 3);

        Assert.Equal([1L, 2, 3], all.Select(l => l.Number));
        Assert.Equal(3, next);
        Assert.Equal("epoch 3", Assert.Single(later).Progress.Message);
        Assert.Equal(3, after);
        Assert.Empty(none);
        Assert.Equal(3, same);
        Assert.Equal([1L, 2], logs.Read("job", 0, max: 2).Lines.Select(l => l.Number));
    }

    [Fact]
    public void A_job_keeps_its_newest_lines_and_numbers_never_repeat()
    {
        var logs = new JobLogBuffer(3, 10);
        for (var i = 1; i <= 5; i++) logs.Record("job", 1, At, Epoch(i), [Epoch(i)]);

        Assert.Equal([3L, 4, 5], logs.Read("job", 0).Lines.Select(l => l.Number));
        Assert.Equal([4L, 5], logs.Read("job", 3).Lines.Select(l => l.Number));
    }

    [Fact]
    public void The_job_written_to_least_recently_is_forgotten_first()
    {
        var logs = new JobLogBuffer(10, 2);
        logs.Record("a", 1, At, Epoch(1), [Epoch(1)]);
        logs.Record("b", 2, At, Epoch(1), [Epoch(1)]);
        logs.Record("a", 1, At, Epoch(2), [Epoch(2)]);
        logs.Record("c", 3, At, Epoch(1), [Epoch(1)]);

        Assert.Equal(2, logs.JobCount);
        Assert.Empty(logs.Read("b", 0).Lines);
        Assert.Equal(2, logs.Read("a", 0).Lines.Count);
        Assert.Single(logs.Read("c", 0).Lines);
    }

    [Fact]
    public void A_heartbeat_without_lines_adds_its_progress_only_when_it_changed()
    {
        var logs = new JobLogBuffer(10, 10);
        logs.Record("job", 1, At, Epoch(1), null);
        logs.Record("job", 1, At, Epoch(1) with { ElapsedSeconds = 99 }, null); // the same epoch, heartbeated again
        logs.Record("job", 1, At, Epoch(2), null);
        logs.Record("job", 1, At, Epoch(2), []); // a heartbeat with nothing new

        Assert.Equal(["epoch 1", "epoch 2"], logs.Read("job", 0).Lines.Select(l => l.Progress.Message));
    }

    [Fact]
    public void Nonsense_bounds_are_refused_with_the_setting_named()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new JobLogBuffer(0, 10));
        Assert.Contains("lines-per-job", e.Message);
    }
}
