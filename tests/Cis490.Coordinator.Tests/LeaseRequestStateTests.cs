using Cis490.Coordinator.Jobs;
using Cis490.Protocols;
using Cis490.Protocols.Artifacts;
using Cis490.Protocols.Jobs;
using Cis490.Protocols.Operator;
using Cis490.Protocols.Workers;
using Xunit;
using static Cis490.Coordinator.Jobs.CoordinatorCommands;
using static Cis490.Protocols.Jobs.JobEvents;

namespace Cis490.Coordinator.Tests;

/// <summary>Workers that pull (the HTTP gateway's): a lease only in answer to <see cref="WorkerProtocol.RequestLease"/>, with the
/// lease's own heartbeat deadline, and metrics merged after a completion. Plain functions of state, command and time.</summary>
public sealed class LeaseRequestStateTests
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.Parse("2026-12-01T10:00:00Z");
    private static readonly CoordinatorPolicy Policy = new(TimeSpan.FromSeconds(30), new RetryPolicy(TimeSpan.FromSeconds(10), TimeSpan.FromMinutes(5)), TimeSpan.FromMinutes(2));
    private static readonly WorkerCapability Py = new("py-box", 4, 16, false, 0, null, "2.1.0", "abc", "Linux");
    private const string Ep = "akka.tcp://cis490@h:1/user/http-workers/w-py-1#1";

    private static CoordinatorState With(string manifest) =>
        CoordinatorState.Initial(Policy).Decide(new OperatorProtocol.SubmitManifest("m.toml", manifest), T0).State;

    /// <summary>Registered the way the gateway registers an HTTP worker: as many slots as leases held, so none free.</summary>
    private static CoordinatorState Registered(CoordinatorState s, int held = 0) =>
        s.Decide(new Register(new WorkerProtocol.Register("py-1", Py, held, []), Ep, "akka.tcp://cis490@h:1"), T0).State;

    private static Outcome Request(CoordinatorState s, DateTimeOffset at, double? deadline = 120, string endpoint = Ep) =>
        s.Decide(new LeaseRequest(new WorkerProtocol.RequestLease("py-1", deadline), endpoint), at);

    private const string TwoJobs = "[[jobs]]\nmodel = \"knn\"\nmode = \"oracle\"\n\n[[jobs]]\nmodel = \"gbt\"\nmode = \"oracle\"\n";

    [Fact]
    public void A_worker_registered_with_no_free_slot_is_pushed_nothing_and_gets_one_lease_per_request_with_its_own_deadline()
    {
        var s = Registered(With(TwoJobs));
        Assert.All(s.Table.Jobs.Values, j => Assert.Equal(JobStatus.Pending, j.Status)); // registering pushed nothing

        var first = Request(s, T0.AddSeconds(1));

        var granted = Assert.IsType<LeaseGranted>(Assert.Single(first.Events));
        Assert.Equal(120, granted.HeartbeatDeadlineSeconds);
        var lease = Assert.IsType<WorkerProtocol.Lease>(Assert.Single(first.SentTo(Ep)));
        Assert.Equal((granted.JobId, granted.LeaseId), (lease.JobId, lease.LeaseId));
        Assert.Empty(first.Replies);
        Assert.Single(Request(first.State, T0.AddSeconds(2)).Events.OfType<LeaseGranted>()); // the second job, on the next request
    }

    [Fact]
    public void A_pulled_lease_expires_after_its_own_deadline_not_the_coordinators_and_says_which()
    {
        var s = Request(Registered(With(TwoJobs)), T0).State;
        var job = s.Table.LiveLeases.Single();

        Assert.Empty(s.Decide(Tick.Instance, T0.AddSeconds(100)).Events); // past 30 s, within 120 s
        var expired = s.Decide(Tick.Instance, T0.AddSeconds(121));

        var ended = Assert.IsType<LeaseEnded>(expired.Events.Single(e => e is LeaseEnded));
        Assert.Equal(job.JobId, ended.JobId);
        Assert.Contains("no heartbeat for 120 s", ended.Reason);
    }

    [Fact]
    public void The_lease_deadline_survives_recovery_from_events_and_snapshots()
    {
        var s = Request(Registered(With(TwoJobs)), T0).State;
        var snapshot = JobTable.FromSnapshot(s.Table.ToSnapshot());

        Assert.Equal(120, snapshot.LiveLeases.Single().LeaseDeadlineSeconds);
        Assert.Equal(TimeSpan.FromSeconds(120), CoordinatorState.Initial(Policy, snapshot).DeadlineOf(snapshot.LiveLeases.Single()));
    }

    [Fact]
    public void With_nothing_to_lease_the_answer_says_why_and_when_to_ask_again()
    {
        var empty = Request(Registered(With("")), T0);
        Assert.Equal("no job is pending", Assert.IsType<WorkerProtocol.NoLease>(empty.Replies.Single()).Reason);

        var cuda = Request(Registered(With("[[jobs]]\nmodel = \"gru\"\nmode = \"oracle\"\nrequire_cuda = true\n")), T0);
        Assert.Contains("none that worker py-1 may run", Assert.IsType<WorkerProtocol.NoLease>(cuda.Replies.Single()).Reason);

        // A failed attempt waits out its backoff (10 s): the answer says until when.
        var s = Request(Registered(With("[[jobs]]\nmodel = \"knn\"\nmode = \"oracle\"\n")), T0).State;
        var leased = s.Table.LiveLeases.Single();
        s = s.Decide(new TrainerProtocol.Failed(leased.JobId, leased.LeaseId, "boom"), T0.AddSeconds(1)).State;
        var backoff = Assert.IsType<WorkerProtocol.NoLease>(Request(s, T0.AddSeconds(2)).Replies.Single());
        Assert.Contains("retry backoff", backoff.Reason);
        Assert.Equal(9, backoff.RetryAfterSeconds, 3);
        Assert.Empty(Request(s, T0.AddSeconds(2)).Events);
    }

    [Fact]
    public void A_request_from_another_actor_than_the_registered_one_an_unregistered_worker_or_a_bad_deadline_is_refused()
    {
        var s = Registered(With(TwoJobs));

        var stranger = Request(s, T0, endpoint: "akka.tcp://cis490@evil:1/user/x#9");
        var unknown = Request(With(TwoJobs), T0);
        var silly = Request(s, T0, deadline: 0.001);

        Assert.Equal(ErrorKind.Forbidden, stranger.Refusal!.Kind);
        Assert.Equal(ErrorKind.Unavailable, unknown.Refusal!.Kind);
        Assert.Equal(ErrorKind.Invalid, silly.Refusal!.Kind);
        Assert.All(new[] { stranger, unknown, silly }, o =>
        {
            Assert.Empty(o.Events);
            Assert.IsType<WorkerProtocol.NoLease>(o.Replies.Single());
        });
    }

    [Fact]
    public void Metrics_reported_after_completion_are_merged_only_for_the_lease_that_completed_the_job()
    {
        var s = Request(Registered(With("[[jobs]]\nmodel = \"knn\"\nmode = \"oracle\"\n")), T0).State;
        var lease = s.Table.LiveLeases.Single();
        var offer = new ArtifactProtocol.OfferUpload(lease.JobId, lease.LeaseId, "knn", "oracle", new string('a', 64), 10,
            new Dictionary<string, double> { ["val_macro_f1"] = 0.5, ["k"] = 3 });
        var early = s.Decide(new TrainerProtocol.ReportMetrics(lease.JobId, lease.LeaseId, new Dictionary<string, double> { ["x"] = 1 }), T0);
        Assert.Equal(ErrorKind.Conflict, early.Refusal!.Kind);
        s = s.Decide(new Stored(offer, false), T0.AddSeconds(1)).State;

        var merged = s.Decide(new FromWorker(new TrainerProtocol.ReportMetrics(lease.JobId, lease.LeaseId,
            new Dictionary<string, double> { ["val_macro_f1"] = 0.61, ["test_accuracy"] = 0.7 }), "akka.tcp://cis490@h:1/user/http-workers/w-py-1"), T0.AddSeconds(2));
        var stale = s.Decide(new TrainerProtocol.ReportMetrics(lease.JobId, lease.LeaseId + 1, new Dictionary<string, double> { ["x"] = 1 }), T0);
        var stranger = s.Decide(new FromWorker(new TrainerProtocol.ReportMetrics(lease.JobId, lease.LeaseId, new Dictionary<string, double> { ["x"] = 1 }),
            "akka.tcp://cis490@evil:1/user/x"), T0);

        Assert.IsType<MetricsMerged>(Assert.Single(merged.Events));
        Assert.Equal(new Dictionary<string, double> { ["val_macro_f1"] = 0.61, ["k"] = 3, ["test_accuracy"] = 0.7 },
            merged.State.Table.Jobs[lease.JobId].Metrics.OrderBy(kv => kv.Key).ToDictionary());
        Assert.Equal(ErrorKind.StaleLease, stale.Refusal!.Kind);
        Assert.Equal(ErrorKind.Forbidden, stranger.Refusal!.Kind);
        Assert.Empty(stranger.Events);
    }
}
