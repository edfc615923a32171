using Cis490.Coordinator.Jobs;
using Cis490.Protocols.Jobs;
using Xunit;
using static Cis490.Protocols.Jobs.JobEvents;

namespace Cis490.Coordinator.Tests;

/// <summary>Retry backoff and the lease history, as pure rules of the job table.</summary>
public sealed class RetryAndHistoryTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 23, 0, 0, 0, TimeSpan.Zero);
    private static readonly RetryPolicy Retry = new(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(35));

    private static JobTable OneJob(int maxAttempts) =>
        JobTable.Empty.Apply(new JobAdded(new JobSpec("a", "knn", "oracle", "{}", "host", ["h"], 0, 0, maxAttempts), "m.toml", T0));

    private static JobTable Grant(JobTable t, DateTimeOffset at, out long lease)
    {
        var g = (LeaseGranted)t.Grant("a", "w1", at).Event!;
        lease = g.LeaseId;
        return t.Apply(g);
    }

    [Theory]
    [InlineData(0, 10)]
    [InlineData(1, 20)]
    [InlineData(2, 35)] // 40 s capped at the maximum
    [InlineData(40, 35)] // no overflow for absurd counts
    public void Backoff_doubles_per_failure_up_to_the_maximum(int failuresBefore, int seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), Retry.Delay(failuresBefore));

    [Fact]
    public void A_failed_attempt_waits_out_its_backoff_before_the_job_is_leased_again()
    {
        var table = Grant(OneJob(maxAttempts: 3), T0, out var lease);
        var ended = (LeaseEnded)table.EndLease("a", lease, "exit code 1", true, T0, Retry).Event!;
        table = table.Apply(ended);

        Assert.Equal(T0.AddSeconds(10), ended.RetryAt);
        Assert.Equal(JobStatus.Pending, table.Jobs["a"].Status);
        Assert.Null(table.NextPending(T0.AddSeconds(9.9)));
        Assert.Equal("a", table.NextPending(T0.AddSeconds(10))?.JobId);

        table = Grant(table, T0.AddSeconds(10), out var second);
        Assert.Null(table.Jobs["a"].RetryAt);
        var again = (LeaseEnded)table.EndLease("a", second, "exit code 1", true, T0.AddSeconds(11), Retry).Event!;
        Assert.Equal(T0.AddSeconds(31), again.RetryAt); // second failure: 20 s
    }

    [Fact]
    public void The_last_allowed_failure_and_a_handed_back_lease_wait_for_nothing()
    {
        var table = Grant(OneJob(maxAttempts: 1), T0, out var lease);
        var last = (LeaseEnded)table.EndLease("a", lease, "out of memory", true, T0, Retry).Event!;
        table = table.Apply(last);
        Assert.Null(last.RetryAt);
        Assert.Equal((JobStatus.Failed, "out of memory"), (table.Jobs["a"].Status, table.Jobs["a"].LastError));

        var other = Grant(OneJob(maxAttempts: 3), T0, out var l2);
        var handedBack = (LeaseEnded)other.EndLease("a", l2, "worker draining", false, T0, Retry).Event!;
        Assert.Null(handedBack.RetryAt);
        Assert.Equal(0, other.Apply(handedBack).Jobs["a"].FailedAttempts);
    }

    [Fact]
    public void A_requeue_clears_the_backoff()
    {
        var table = Grant(OneJob(maxAttempts: 2), T0, out var lease);
        table = table.Apply(table.EndLease("a", lease, "crash", true, T0, Retry).Event!);
        table = Grant(table, T0.AddSeconds(10), out var second);
        table = table.Apply(table.EndLease("a", second, "crash", true, T0.AddSeconds(12), Retry).Event!);
        Assert.Equal(JobStatus.Failed, table.Jobs["a"].Status);

        table = table.Apply(table.Requeue("a", T0.AddSeconds(13)).Event!);
        Assert.Equal("a", table.NextPending(T0.AddSeconds(13))?.JobId);
    }

    [Fact]
    public void Every_lease_is_kept_in_the_history_with_its_outcome()
    {
        var table = Grant(OneJob(maxAttempts: 3), T0, out var l1);
        table = table.Apply(table.Start("a", l1, T0.AddSeconds(1)).Event!);
        table = table.Apply(table.EndLease("a", l1, "exit code 2", true, T0.AddSeconds(5), Retry).Event!);
        table = Grant(table, T0.AddSeconds(20), out var l2);
        table = table.Apply(table.EndLease("a", l2, "slots busy", false, T0.AddSeconds(21)).Event!);
        table = Grant(table, T0.AddSeconds(22), out var l3);
        table = table.Apply(table.Start("a", l3, T0.AddSeconds(23)).Event!);
        table = table.Apply(table.Complete("a", l3, new string('c', 64), 10, new Dictionary<string, double>(), T0.AddSeconds(30)).Event!);

        var history = table.Jobs["a"].History;
        Assert.Equal([(l1, "failed", "exit code 2"), (l2, "handed-back", "slots busy"), (l3, "completed", null)],
            history.Select(a => (a.LeaseId, a.Outcome, a.Error)));
        Assert.Equal(T0.AddSeconds(1), history[0].StartedAt);
        Assert.Equal(T0.AddSeconds(30), history[2].EndedAt);
        // The history survives a snapshot.
        Assert.Equal(3, JobTable.FromSnapshot(table.ToSnapshot()).Jobs["a"].History.Count);
    }

    [Fact]
    public void The_history_keeps_only_the_newest_records()
    {
        var table = OneJob(maxAttempts: 100);
        for (var i = 0; i < JobState.MaxAttemptRecords + 5; i++)
        {
            table = Grant(table, T0.AddSeconds(i), out var lease);
            table = table.Apply(table.EndLease("a", lease, $"busy {i}", false, T0.AddSeconds(i)).Event!);
        }
        var history = table.Jobs["a"].History;
        Assert.Equal(JobState.MaxAttemptRecords, history.Count);
        Assert.Equal($"busy {JobState.MaxAttemptRecords + 4}", history[^1].Error);
    }

    [Fact]
    public void Host_declarations_replace_each_other_and_survive_a_snapshot()
    {
        var gpu = new HostPolicy("gpu-box", true, 12, null, [], ["knn"]);
        var table = OneJob(3).Apply(new HostsDeclared([gpu], "m.toml", T0));
        Assert.False(table.HostsDiffer([gpu with { DenyJobs = ["knn"] }])); // same content, other list instance
        Assert.True(table.HostsDiffer([gpu with { Cuda = false }]));
        Assert.Equal("gpu-box", JobTable.FromSnapshot(table.ToSnapshot()).Hosts.Single().Hostname);
        Assert.Empty(table.Apply(new HostsDeclared([], "n.toml", T0)).Hosts);
    }
}
