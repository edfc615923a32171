using Cis490.Coordinator.Jobs;
using Cis490.Protocols;
using Cis490.Protocols.Jobs;
using Xunit;
using static Cis490.Protocols.Jobs.JobEvents;

namespace Cis490.Coordinator.Tests;

/// <summary>The job table's rules, without actors: the fold, ordering, fencing and retries.</summary>
public sealed class JobTableTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 23, 0, 0, 0, TimeSpan.Zero);

    private static JobSpec Spec(string id, int priority = 0, int maxAttempts = 3) =>
        new(id, "knn", "realistic", "{}", "host", ["elliott-thinkpad"], 0, priority, maxAttempts);

    private static JobTable With(params JobSpec[] specs) =>
        specs.Aggregate(JobTable.Empty, (t, s) => t.Apply(new JobAdded(s, "m.toml", T0)));

    private static (JobTable Table, long Lease) Leased(JobTable t, string id, string worker = "w1")
    {
        var e = (LeaseGranted)t.Grant(id, worker, T0).Event!;
        return (t.Apply(e), e.LeaseId);
    }

    [Fact]
    public void Adding_a_manifest_twice_adds_only_the_new_jobs_and_keeps_known_statuses()
    {
        var table = With(Spec("a"));
        (table, _) = Leased(table, "a");

        var events = table.AddJobs([Spec("a"), Spec("b")], "m2.toml", T0);

        Assert.Equal(["b"], events.Select(e => e.JobId));
        table = events.Aggregate(table, (t, e) => t.Apply(e));
        Assert.Equal(JobStatus.Leased, table.Jobs["a"].Status);
        Assert.Equal(JobStatus.Pending, table.Jobs["b"].Status);
    }

    [Fact]
    public void Lease_ids_only_grow_across_jobs_and_re_leases()
    {
        var table = With(Spec("a"), Spec("b"));
        (table, var l1) = Leased(table, "a");
        (table, var l2) = Leased(table, "b");
        table = table.Apply(table.EndLease("a", l1, "expired", true, T0).Event!);
        (table, var l3) = Leased(table, "a", "w2");

        Assert.True(l1 < l2 && l2 < l3, $"{l1} < {l2} < {l3}");
        Assert.Equal(l3, table.LastLeaseId);
    }

    [Fact]
    public void Higher_priority_goes_first_then_the_oldest()
    {
        var table = With(Spec("old-low"), Spec("new-high", priority: 5), Spec("newer-high", priority: 5), Spec("newest-low"));

        var order = new List<string>();
        while (table.NextPending(T0) is { } next)
        {
            order.Add(next.JobId);
            (table, _) = Leased(table, next.JobId);
        }

        Assert.Equal(["new-high", "newer-high", "old-low", "newest-low"], order);
    }

    [Fact]
    public void A_stale_lease_cannot_start_heartbeat_complete_or_fail_a_job()
    {
        var table = With(Spec("a"));
        (table, var stale) = Leased(table, "a", "zombie");
        table = table.Apply(table.EndLease("a", stale, "node removed", true, T0).Event!);
        (table, var current) = Leased(table, "a", "w2");

        Assert.NotNull(table.Fence("a", stale));
        Assert.NotNull(table.Start("a", stale, T0).Refusal);
        Assert.NotNull(table.Complete("a", stale, "sha", 1, new Dictionary<string, double>(), T0).Refusal);
        Assert.NotNull(table.EndLease("a", stale, "late failure", true, T0).Refusal);
        Assert.Contains($"current lease is {current}", table.Fence("a", stale)!.Message);
        Assert.Equal(ErrorKind.StaleLease, table.Fence("a", stale)!.Kind);
        Assert.Null(table.Complete("a", current, "sha", 1, new Dictionary<string, double>(), T0).Refusal);
    }

    [Fact]
    public void A_completed_job_refuses_every_further_lease_message()
    {
        var table = With(Spec("a"));
        (table, var lease) = Leased(table, "a");
        table = table.Apply(table.Complete("a", lease, "sha", 10, new Dictionary<string, double> { ["val_macro_f1"] = 0.5 }, T0).Event!);

        Assert.Equal(JobStatus.Completed, table.Jobs["a"].Status);
        Assert.Equal("sha", table.Jobs["a"].ArtifactSha256);
        Assert.NotNull(table.Complete("a", lease, "sha", 10, new Dictionary<string, double>(), T0).Refusal);
        Assert.NotNull(table.Grant("a", "w1", T0).Refusal);
        Assert.Null(table.NextPending(T0));
    }

    [Fact]
    public void Failed_attempts_go_back_to_pending_until_max_attempts_then_fail_with_the_last_error()
    {
        var table = With(Spec("a", maxAttempts: 2));
        (table, var l1) = Leased(table, "a");
        table = table.Apply(table.EndLease("a", l1, "exit code 1", true, T0).Event!);
        Assert.Equal(JobStatus.Pending, table.Jobs["a"].Status);
        Assert.Equal(1, table.Jobs["a"].FailedAttempts);

        (table, var l2) = Leased(table, "a");
        table = table.Apply(table.EndLease("a", l2, "out of memory", true, T0).Event!);

        Assert.Equal(JobStatus.Failed, table.Jobs["a"].Status);
        Assert.Equal(2, table.Jobs["a"].FailedAttempts);
        Assert.Equal("out of memory", table.Jobs["a"].LastError);
        Assert.Null(table.NextPending(T0));
    }

    [Fact]
    public void A_declined_lease_returns_the_job_without_counting_an_attempt()
    {
        var table = With(Spec("a", maxAttempts: 1));
        (table, var l1) = Leased(table, "a");
        table = table.Apply(table.EndLease("a", l1, "slots busy", false, T0).Event!);

        Assert.Equal(JobStatus.Pending, table.Jobs["a"].Status);
        Assert.Equal(0, table.Jobs["a"].FailedAttempts);
    }

    [Fact]
    public void Leases_of_a_worker_are_exactly_its_live_leases()
    {
        var table = With(Spec("a"), Spec("b"), Spec("c"));
        (table, _) = Leased(table, "a", "w1");
        (table, var lb) = Leased(table, "b", "w1");
        (table, _) = Leased(table, "c", "w2");
        table = table.Apply(table.Complete("b", lb, "sha", 1, new Dictionary<string, double>(), T0).Event!);

        Assert.Equal(["a"], table.LeasesOf("w1").Select(j => j.JobId));
        Assert.Equal(["c"], table.LeasesOf("w2").Select(j => j.JobId));
    }

    [Fact]
    public void Replaying_the_same_events_gives_the_same_state()
    {
        var events = new List<IJobEvent>();
        var table = JobTable.Empty;
        void Do(IJobEvent e) { events.Add(e); table = table.Apply(e); }
        Do(new JobAdded(Spec("a"), "m", T0));
        Do(new JobAdded(Spec("b"), "m", T0));
        Do(table.Grant("a", "w1", T0).Event!);
        Do(table.Start("a", 1, T0).Event!);
        Do(table.EndLease("a", 1, "crash", true, T0).Event!);
        Do(table.Grant("b", "w2", T0).Event!);
        Do(table.Complete("b", 2, "sha", 5, new Dictionary<string, double>(), T0).Event!);

        var replayed = events.Aggregate(JobTable.Empty, (t, e) => t.Apply(e));

        Assert.Equal(table.LastLeaseId, replayed.LastLeaseId);
        Assert.Equal(table.Jobs.Values.Select(j => (j.JobId, j.Status, j.LeaseId, j.FailedAttempts)).Order(),
            replayed.Jobs.Values.Select(j => (j.JobId, j.Status, j.LeaseId, j.FailedAttempts)).Order());
    }

    [Fact]
    public void Cancelling_a_running_job_ends_its_lease_and_a_requeue_makes_it_pending_with_fresh_attempts()
    {
        var table = With(Spec("a", maxAttempts: 2));
        (table, var l1) = Leased(table, "a");
        table = table.Apply(table.EndLease("a", l1, "crash", true, T0).Event!);
        (table, var l2) = Leased(table, "a");

        var cancel = (JobCancelled)table.Cancel("a", "wrong data", T0).Event!;
        table = table.Apply(cancel);

        Assert.Equal(l2, cancel.LeaseId); // the live lease the worker must stop
        Assert.Equal(JobStatus.Cancelled, table.Jobs["a"].Status);
        Assert.NotNull(table.Fence("a", l2)); // the trainer can no longer complete it
        Assert.Null(table.NextPending(T0));

        table = table.Apply(table.Requeue("a", T0).Event!);
        Assert.Equal(JobStatus.Pending, table.Jobs["a"].Status);
        Assert.Equal(0, table.Jobs["a"].FailedAttempts);
        (_, var l3) = Leased(table, "a");
        Assert.True(l3 > l2);
    }

    [Fact]
    public void Only_unfinished_jobs_can_be_cancelled_and_only_failed_or_cancelled_ones_requeued()
    {
        var table = With(Spec("done"), Spec("waiting"));
        (table, var lease) = Leased(table, "done");
        table = table.Apply(table.Complete("done", lease, "sha", 1, new Dictionary<string, double>(), T0).Event!);

        Assert.Equal(ErrorKind.Conflict, table.Cancel("done", "x", T0).Refusal!.Kind);
        Assert.Contains("already completed", table.Cancel("done", "x", T0).Refusal!.Message);
        Assert.Contains("only failed or cancelled", table.Requeue("done", T0).Refusal!.Message);
        Assert.Contains("only failed or cancelled", table.Requeue("waiting", T0).Refusal!.Message);
        Assert.Equal(0, ((JobCancelled)table.Cancel("waiting", "x", T0).Event!).LeaseId); // no lease to stop
        Assert.Equal(ErrorKind.NotFound, table.Cancel("nope", "x", T0).Refusal!.Kind);
    }

    [Fact]
    public void Operators_may_name_a_job_by_a_unique_prefix_of_eight_or_more_characters()
    {
        var table = With(Spec("abcdef0123456789"), Spec("abcdef01ffff0000"), Spec("12345678aaaa"));

        Assert.Equal("12345678aaaa", table.Resolve("12345678", out _));
        Assert.Null(table.Resolve("abcdef01", out var ambiguous));
        Assert.Equal(ErrorKind.Invalid, ambiguous!.Kind);
        Assert.Contains("more than one job", ambiguous.Message);
        Assert.Null(table.Resolve("1234", out var tooShort));
        Assert.Equal(ErrorKind.NotFound, tooShort!.Kind);
        Assert.Contains("at least its first 8", tooShort.Message);
        Assert.Null(table.Resolve("99999999", out var none));
        Assert.Equal(ErrorKind.NotFound, none!.Kind);
        Assert.Contains("no job id starts with", none.Message);
    }
}
