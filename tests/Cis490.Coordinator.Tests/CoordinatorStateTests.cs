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

/// <summary>The coordinator's rules as plain functions: <see cref="CoordinatorState.Decide"/> on a state, a command and a time.
/// No actor, no journal, no waiting: the clock is a parameter, so "three seconds later" is <c>T0 + 3 s</c>.</summary>
public sealed class CoordinatorStateTests
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.Parse("2026-12-01T10:00:00Z");
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private static readonly CoordinatorPolicy Policy = new(Deadline, new RetryPolicy(TimeSpan.FromSeconds(10), TimeSpan.FromMinutes(5)), TimeSpan.FromMinutes(2));
    private static readonly WorkerCapability Laptop = new("laptop", 4, 16, false, 0, null, "2.10.0", "abc", "Linux");
    private static readonly WorkerCapability GpuBox = new("gpu-box", 16, 64, true, 12, "RTX", "2.10.0", "abc", "Linux");

    private static string Job(string model, string mode, string extra = "") => $"[[jobs]]\nmodel = \"{model}\"\nmode = \"{mode}\"\n{extra}\n";

    /// <summary>A coordinator with <paramref name="manifest"/> loaded at <see cref="T0"/>.</summary>
    private static CoordinatorState With(string manifest)
    {
        var outcome = CoordinatorState.Initial(Policy).Decide(new OperatorProtocol.SubmitManifest("fleet.toml", manifest), T0);
        Assert.IsType<OperatorProtocol.ManifestAccepted>(outcome.Replies.Single());
        return outcome.State;
    }

    private static Outcome Register(CoordinatorState s, string id, WorkerCapability cap, int slots = 1, bool draining = false,
        IReadOnlyList<WorkerProtocol.HeldLease>? held = null, DateTimeOffset? at = null, string? endpoint = null) =>
        s.Decide(new Register(new WorkerProtocol.Register(id, cap, slots, held ?? [], draining), endpoint ?? Ep(id), AddressOf(endpoint ?? Ep(id))), at ?? T0);

    private static string AddressOf(string endpoint) => endpoint[..endpoint.IndexOf("/user", StringComparison.Ordinal)];

    private static string Ep(string workerId) => $"akka.tcp://cis490@h:1/user/worker#{workerId}";

    private static IReadOnlyList<WorkerProtocol.Lease> Leases(Outcome o, string workerId) => o.SentTo(Ep(workerId)).OfType<WorkerProtocol.Lease>().ToList();

    private static JobState JobOf(CoordinatorState s, string model) => s.Table.Jobs.Values.Single(j => j.Spec.Model == model);

    // ---------- placement ----------

    [Fact]
    public void A_worker_is_leased_only_what_its_capability_and_host_policy_allow_highest_priority_first()
    {
        var s = With("[[hosts]]\nname = \"laptop\"\ndeny_jobs = [\"transformer\"]\n\n" +
                     Job("knn", "oracle") + Job("gru", "oracle", "require_cuda = true") + Job("transformer", "oracle") +
                     Job("mlp", "oracle", "min_ram_gib = 32") + Job("gbt", "oracle", "priority = 7"));

        var o = Register(s, "laptop-1", Laptop, slots: 5);

        Assert.Equal(["gbt", "knn"], Leases(o, "laptop-1").Select(l => l.Job.Model)); // priority 7 first, then the oldest
        Assert.Equal(2, o.Events.OfType<LeaseGranted>().Count());
        Assert.Contains("laptop-1: needs CUDA", o.State.Unschedulable(JobOf(o.State, "gru")));
        Assert.Contains("laptop-1: needs 32 GiB of RAM; laptop has 16", o.State.Unschedulable(JobOf(o.State, "mlp")));
        Assert.Contains("laptop-1: host laptop's policy does not allow transformer:oracle", o.State.Unschedulable(JobOf(o.State, "transformer")));
    }

    [Fact]
    public void A_worker_joining_that_can_run_waiting_jobs_gets_them_and_they_are_no_longer_unschedulable()
    {
        var s = Register(With(Job("gru", "oracle", "require_cuda = true") + Job("mlp", "oracle", "min_ram_gib = 32")), "laptop-1", Laptop).State;

        var o = Register(s, "gpu-1", GpuBox, slots: 3);

        Assert.Equal(["gru", "mlp"], Leases(o, "gpu-1").Select(l => l.Job.Model).Order());
        Assert.All(o.State.Table.Jobs.Values, j => Assert.Null(o.State.Unschedulable(j)));
    }

    [Fact]
    public void A_job_no_connected_worker_can_run_says_why_and_with_none_connected_says_so()
    {
        var s = With(Job("gru", "oracle", "require_cuda = true\nmin_vram_gib = 24"));
        Assert.Equal("no worker is connected", s.Unschedulable(s.Table.Jobs.Values.Single()));

        var o = Register(s, "gpu-1", GpuBox);

        Assert.Empty(Leases(o, "gpu-1"));
        Assert.Equal("no connected worker can run it: gpu-1: needs 24 GiB of GPU memory; gpu-box has 12", o.State.Unschedulable(o.State.Table.Jobs.Values.Single()));
        Assert.Equal(1, o.State.Status(T0).Unschedulable);
    }

    [Fact]
    public void A_worker_gets_no_more_leases_than_its_free_slots_and_a_completion_frees_one_for_the_next_job_at_once()
    {
        var s = With(Job("knn", "oracle") + Job("knn", "realistic") + Job("gbt", "oracle"));
        var o = Register(s, "w1", Laptop, slots: 2);
        var leases = Leases(o, "w1");
        Assert.Equal(2, leases.Count);
        Assert.Equal(0, o.State.FreeSlots(o.State.Workers["w1"]));

        var first = leases[0];
        var offer = new ArtifactProtocol.OfferUpload(first.JobId, first.LeaseId, "knn", "oracle", new string('a', 64), 10, new Dictionary<string, double>());
        var done = o.State.Decide(new Stored(offer, false), T0.AddSeconds(5));

        Assert.IsType<JobCompleted>(done.Events[0]);
        Assert.Equal("gbt", Assert.Single(Leases(done, "w1")).Job.Model); // granted in the same decision, written with it
        Assert.IsType<ArtifactProtocol.UploadCompleted>(done.Replies.Single());
    }

    // ---------- prefer_cuda ----------

    [Fact]
    public void A_prefer_cuda_job_waits_for_a_busy_gpu_then_falls_back_to_any_worker_after_the_wait()
    {
        var s = With(Job("knn", "oracle", "priority = 9") + Job("gru", "oracle", "prefer_cuda = true"));
        var gpu = Register(s, "gpu-1", GpuBox);
        Assert.Equal("knn", Leases(gpu, "gpu-1").Single().Job.Model); // the GPU is now busy

        var knn = Leases(gpu, "gpu-1").Single();
        var laptop = Register(gpu.State, "laptop-1", Laptop, at: T0.AddSeconds(1));
        Assert.Empty(Leases(laptop, "laptop-1")); // within the wait: the gru job holds out for the GPU
        // The GPU's trainer keeps heartbeating, so it stays busy through the wait.
        var busy = laptop.State.Decide(new TrainerProtocol.Heartbeat(knn.JobId, knn.LeaseId, new TrainingProgress(1, 2, null, null, 100, "x")),
            T0.AddSeconds(100)).State;
        Assert.Empty(Leases(busy.Decide(Tick.Instance, T0 + Policy.PreferCudaWait - TimeSpan.FromSeconds(1)), "laptop-1"));

        var after = busy.Decide(Tick.Instance, T0 + Policy.PreferCudaWait);
        Assert.Equal("gru", Leases(after, "laptop-1").Single().Job.Model);
    }

    [Fact]
    public void A_prefer_cuda_job_goes_at_once_when_no_gpu_is_connected_and_to_the_gpu_when_both_are_free()
    {
        var alone = Register(With(Job("gru", "oracle", "prefer_cuda = true")), "laptop-1", Laptop);
        Assert.Equal("gru", Leases(alone, "laptop-1").Single().Job.Model);

        // Both free when the job arrives: the GPU box takes it and the laptop gets nothing.
        var s = Register(Register(CoordinatorState.Initial(Policy), "laptop-2", Laptop).State, "gpu-1", GpuBox).State;
        var both = s.Decide(new OperatorProtocol.SubmitManifest("m.toml", Job("lstm", "oracle", "prefer_cuda = true")), T0);
        Assert.Equal("lstm", Leases(both, "gpu-1").Single().Job.Model);
        Assert.Empty(Leases(both, "laptop-2"));
    }

    [Fact]
    public void Cuda_workers_choose_first_when_several_workers_are_free_in_one_decision()
    {
        // Both register before the manifest: its dispatch sees two free workers, and the GPU box picks first even for a job
        // that does not ask for CUDA (and although "a-laptop" sorts first by name).
        var s = Register(Register(CoordinatorState.Initial(Policy), "a-laptop", Laptop).State, "z-gpu", GpuBox).State;
        var o = s.Decide(new OperatorProtocol.SubmitManifest("m.toml", Job("knn", "oracle")), T0);
        Assert.Single(Leases(o, "z-gpu"));
        Assert.Empty(Leases(o, "a-laptop"));
    }

    // ---------- drain ----------

    [Fact]
    public void A_draining_worker_gets_no_new_leases_and_its_hand_back_is_not_a_failed_attempt()
    {
        var s = With(Job("knn", "oracle") + Job("knn", "realistic"));
        var o = Register(s, "w1", Laptop);
        var lease = Leases(o, "w1").Single();
        var draining = Register(o.State, "w1", Laptop, draining: true, held: [new WorkerProtocol.HeldLease(lease.JobId, lease.LeaseId)]);
        Assert.Empty(draining.SentTo(Ep("w1"))); // its own lease: not revoked

        var back = draining.State.Decide(new WorkerProtocol.LeaseDeclined(lease.JobId, lease.LeaseId, "drain grace over"), T0.AddSeconds(60));

        Assert.Empty(Leases(back, "w1")); // a free slot, but draining: nothing new
        var ended = Assert.IsType<LeaseEnded>(back.Events.Single());
        Assert.False(ended.CountsAsAttempt);
        Assert.Null(ended.RetryAt); // a hand-back waits for no backoff
        Assert.Equal((JobStatus.Pending, 0), (back.State.Table.Jobs[lease.JobId].Status, back.State.Table.Jobs[lease.JobId].FailedAttempts));
        Assert.Equal(2, Leases(Register(back.State, "w2", Laptop, slots: 2, at: T0.AddSeconds(61)), "w2").Count);
    }

    // ---------- lease clocks and expiry ----------

    [Fact]
    public void A_lease_without_a_heartbeat_past_the_deadline_ends_on_the_tick_and_its_worker_is_told_to_stop()
    {
        var o = Register(With(Job("knn", "oracle")), "w1", Laptop);
        var lease = Leases(o, "w1").Single();

        Assert.Empty(o.State.Decide(Tick.Instance, T0 + Deadline).Events); // exactly at the deadline: not yet
        var expired = o.State.Decide(Tick.Instance, T0 + Deadline + TimeSpan.FromSeconds(1));

        var ended = Assert.IsType<LeaseEnded>(expired.Events.Single());
        Assert.True(ended.CountsAsAttempt);
        Assert.Equal(T0 + Deadline + TimeSpan.FromSeconds(11), ended.RetryAt); // the first retry waits the 10 s base
        var revoke = Assert.IsType<WorkerProtocol.RevokeLease>(expired.SentTo(Ep("w1")).Single());
        Assert.Equal((lease.JobId, lease.LeaseId), (revoke.JobId, revoke.LeaseId));
        Assert.DoesNotContain(lease.JobId, expired.State.LastBeat.Keys); // the clock goes with the lease
    }

    [Fact]
    public void A_worker_that_keeps_registering_with_a_hung_trainers_lease_does_not_keep_it_alive()
    {
        var o = Register(With(Job("knn", "oracle")), "w1", Laptop);
        var lease = Leases(o, "w1").Single();
        var s = o.State;
        for (var t = 5; t <= 30; t += 5) // the worker's periodic registration still lists the lease
            s = Register(s, "w1", Laptop, held: [new WorkerProtocol.HeldLease(lease.JobId, lease.LeaseId)], at: T0.AddSeconds(t)).State;

        Assert.True(Assert.IsType<LeaseEnded>(s.Decide(Tick.Instance, T0 + Deadline + TimeSpan.FromSeconds(1)).Events.Single()).CountsAsAttempt);
    }

    [Fact]
    public void A_heartbeat_or_an_upload_offer_restarts_the_lease_clock()
    {
        var o = Register(With(Job("knn", "oracle")), "w1", Laptop);
        var lease = Leases(o, "w1").Single();
        var beat = o.State.Decide(new TrainerProtocol.Heartbeat(lease.JobId, lease.LeaseId, new TrainingProgress(1, 2, 0.5, 0.4, 3, "epoch 1")), T0.AddSeconds(20));
        Assert.Empty(beat.Events);
        Assert.IsType<Effect.RecordProgress>(beat.Effects.Single());

        Assert.Empty(beat.State.Decide(Tick.Instance, T0.AddSeconds(45)).Events); // 25 s after the heartbeat
        var offer = new ArtifactProtocol.OfferUpload(lease.JobId, lease.LeaseId, "knn", "oracle", new string('a', 64), 1, new Dictionary<string, double>());
        var offered = beat.State.Decide(offer, T0.AddSeconds(45));
        Assert.IsType<Effect.ToStore>(offered.Effects.Single());
        Assert.Empty(offered.State.Decide(Tick.Instance, T0.AddSeconds(70)).Events);
        Assert.Single(offered.State.Decide(Tick.Instance, T0.AddSeconds(76)).Events);
    }

    [Fact]
    public void Leases_recovered_from_the_journal_get_a_full_deadline_from_the_recovery()
    {
        var o = Register(With(Job("knn", "oracle")), "w1", Laptop);
        var recovered = CoordinatorState.Initial(Policy, o.State.Table).Decide(Recovered.Instance, T0.AddMinutes(10));

        Assert.Empty(recovered.State.Decide(Tick.Instance, T0.AddMinutes(10) + Deadline).Events);
        Assert.Single(recovered.State.Decide(Tick.Instance, T0.AddMinutes(10) + Deadline + TimeSpan.FromSeconds(1)).Events);
    }

    [Fact]
    public void A_failed_attempt_waits_out_its_backoff_before_the_job_is_leased_again()
    {
        var o = Register(With(Job("knn", "oracle")), "w1", Laptop);
        var lease = Leases(o, "w1").Single();
        var failed = o.State.Decide(new TrainerProtocol.Failed(lease.JobId, lease.LeaseId, "out of memory"), T0.AddSeconds(5));

        Assert.Equal(new TrainerProtocol.Acknowledged(lease.JobId, lease.LeaseId, JobStatus.Pending), failed.Replies.Single());
        Assert.Empty(Leases(failed, "w1")); // the slot is free, but the job waits 10 s
        Assert.Empty(Leases(failed.State.Decide(Tick.Instance, T0.AddSeconds(14)), "w1"));
        Assert.Single(Leases(failed.State.Decide(Tick.Instance, T0.AddSeconds(15)), "w1"));
    }

    [Fact]
    public void A_worker_that_is_gone_ends_its_leases_and_another_worker_gets_the_job_at_once()
    {
        var s = Register(With(Job("knn", "oracle")), "w1", Laptop).State;
        s = Register(s, "w2", Laptop).State; // joins once w1 holds the job: nothing for it

        var gone = s.Decide(new EndpointGone(Ep("w1")), T0.AddSeconds(3));

        var ended = Assert.IsType<LeaseEnded>(gone.Events[0]);
        Assert.False(ended.CountsAsAttempt); // the node failed, not the job
        Assert.Null(ended.RetryAt);
        Assert.Single(Leases(gone, "w2"));
        Assert.DoesNotContain("w1", gone.State.Workers.Keys);
        Assert.Empty(s.Decide(new EndpointGone("akka.tcp://cis490@h:1/user/someone-else#1"), T0).Events); // not a worker: nothing
    }

    [Fact]
    public void A_job_whose_worker_is_lost_three_times_is_still_pending_with_no_attempt_counted()
    {
        var s = With(Job("knn", "oracle", "max_attempts = 3"));
        for (var i = 0; i < 3; i++)
        {
            var o = Register(s, "w1", Laptop, endpoint: $"akka.tcp://cis490@h:{i + 1}/user/worker#{i}", at: T0.AddSeconds(i * 10));
            Assert.Single(o.SentTo($"akka.tcp://cis490@h:{i + 1}/user/worker#{i}").OfType<WorkerProtocol.Lease>());
            s = o.State.Decide(new EndpointGone($"akka.tcp://cis490@h:{i + 1}/user/worker#{i}"), T0.AddSeconds(i * 10 + 5)).State;
        }

        var job = s.Table.Jobs.Values.Single();
        Assert.Equal((JobStatus.Pending, 0, (DateTimeOffset?)null), (job.Status, job.FailedAttempts, job.RetryAt));
    }

    [Fact]
    public void A_node_that_drops_its_connection_or_turns_unreachable_loses_its_leases_at_once_uncounted()
    {
        var s = Register(With(Job("knn", "oracle") + Job("gbt", "oracle")), "w1", Laptop, slots: 2).State;
        s = Register(s, "w2", GpuBox, endpoint: "akka.tcp://cis490@other:2/user/worker#9").State;

        var lost = s.Decide(new NodeLost("akka.tcp://cis490@h:1", "dropped its connection"), T0.AddSeconds(1));

        Assert.Equal(2, lost.Events.OfType<LeaseEnded>().Count(e => !e.CountsAsAttempt && e.RetryAt is null));
        Assert.DoesNotContain("w1", lost.State.Workers.Keys);
        Assert.Single(lost.SentTo("akka.tcp://cis490@other:2/user/worker#9").OfType<WorkerProtocol.Lease>()); // w2 had one free slot
        // Back from a pause, it registers again holding the old leases: they are re-leased or pending, so it is told to stop them.
        var back = lost.State.Decide(new Register(new WorkerProtocol.Register("w1", Laptop, 2,
            lost.Events.OfType<LeaseEnded>().Select(e => new WorkerProtocol.HeldLease(e.JobId, e.LeaseId)).ToList()), Ep("w1"), "akka.tcp://cis490@h:1"), T0.AddSeconds(20));
        Assert.Equal(2, back.SentTo(Ep("w1")).OfType<WorkerProtocol.RevokeLease>().Count());
        Assert.Contains(new Effect.Watch(Ep("w1")), back.Effects);
    }

    [Fact]
    public void An_expired_lease_counts_as_an_attempt_only_while_its_worker_is_connected()
    {
        var o = Register(With(Job("knn", "oracle") + Job("gbt", "oracle")), "w1", Laptop, slots: 2);
        var s = o.State with { Workers = o.State.Workers.Remove("w1") }; // as after a coordinator restart it never came back to

        var expired = s.Decide(Tick.Instance, T0 + Deadline + TimeSpan.FromSeconds(1));
        var hung = o.State.Decide(Tick.Instance, T0 + Deadline + TimeSpan.FromSeconds(1));

        Assert.All(expired.Events.OfType<LeaseEnded>(), e => Assert.False(e.CountsAsAttempt));
        Assert.All(hung.Events.OfType<LeaseEnded>(), e => Assert.True(e.CountsAsAttempt));
        Assert.Equal(2, hung.Events.OfType<LeaseEnded>().Count());
    }

    [Fact]
    public void After_a_recovery_no_recovered_lease_expires_within_the_grace_and_a_returning_worker_re_attaches_it()
    {
        var policy = Policy with { RecoveredLeaseGrace = TimeSpan.FromMinutes(2) };
        var o = Register(With(Job("knn", "oracle") + Job("gbt", "oracle")), "w1", Laptop, slots: 2);
        var recoveredAt = T0.AddMinutes(5);
        var recovered = CoordinatorState.Initial(policy, o.State.Table).Decide(Recovered.Instance, recoveredAt).State;

        Assert.Empty(recovered.Decide(Tick.Instance, recoveredAt + TimeSpan.FromSeconds(119)).Events);
        var leases = Leases(o, "w1");
        var back = Register(recovered, "w1", Laptop, slots: 2, at: recoveredAt.AddSeconds(40),
            held: leases.Select(l => new WorkerProtocol.HeldLease(l.JobId, l.LeaseId)).ToList());
        Assert.Empty(back.Events); // re-attached: nothing ends, nothing is granted twice
        Assert.Empty(back.SentTo(Ep("w1")));
        var s = back.State.Decide(new TrainerProtocol.Heartbeat(leases[0].JobId, leases[0].LeaseId, new TrainingProgress(1, 2, null, null, 1, "x")),
            recoveredAt.AddSeconds(110)).State;

        var afterGrace = s.Decide(Tick.Instance, recoveredAt + TimeSpan.FromSeconds(121));
        var ended = Assert.Single(afterGrace.Events.OfType<LeaseEnded>()); // the one not heard from since the re-registration
        Assert.Equal(leases[1].JobId, ended.JobId);
        Assert.True(ended.CountsAsAttempt); // its worker is connected: a hung trainer
    }

    [Fact]
    public void A_restarted_worker_that_does_not_report_a_lease_of_its_old_incarnation_frees_it_at_once_uncounted()
    {
        var o = Register(With(Job("knn", "oracle") + Job("gbt", "oracle")), "w1", Laptop);
        var lease = Leases(o, "w1").Single();
        var restarted = "akka.tcp://cis490@h:1/user/worker#2";

        var again = Register(o.State, "w1", Laptop, endpoint: restarted, at: T0.AddSeconds(8));

        var ended = Assert.IsType<LeaseEnded>(again.Events[0]);
        Assert.Equal((lease.JobId, false, (DateTimeOffset?)null), (ended.JobId, ended.CountsAsAttempt, ended.RetryAt));
        Assert.Single(again.SentTo(restarted).OfType<WorkerProtocol.Lease>()); // its slot is free again: the next job goes to it
        // The same incarnation registering without a lease it has not seen yet (it may be in flight to it) keeps it; one it
        // has seen (LastLeaseSeen) and does not hold is not running there and ends at once.
        Assert.Empty(Register(o.State, "w1", Laptop, at: T0.AddSeconds(1)).Events);
        var seen = o.State.Decide(new Register(new WorkerProtocol.Register("w1", Laptop, 1, [], LastLeaseSeen: lease.LeaseId), Ep("w1"),
            AddressOf(Ep("w1"))), T0.AddSeconds(1));
        Assert.False(Assert.IsType<LeaseEnded>(seen.Events[0]).CountsAsAttempt);
    }

    // ---------- registration and fencing ----------

    [Fact]
    public void A_re_registration_from_a_new_actor_moves_the_watch_and_a_held_lease_that_is_not_its_own_is_revoked()
    {
        var o = Register(With(Job("knn", "oracle")), "w1", Laptop);
        var lease = Leases(o, "w1").Single();
        var first = Register(o.State, "w1", Laptop, held: [new WorkerProtocol.HeldLease(lease.JobId, lease.LeaseId)]);
        Assert.DoesNotContain(first.Effects, e => e is Effect.Watch or Effect.Unwatch); // the same actor: nothing to re-watch

        // The same node (host:port) with a new actor: the worker process restarted on its fixed port.
        const string next = "akka.tcp://cis490@h:1/user/worker#2";
        var restarted = Register(o.State, "w1", Laptop, endpoint: next,
            held: [new WorkerProtocol.HeldLease(lease.JobId, lease.LeaseId - 1), new WorkerProtocol.HeldLease(lease.JobId, lease.LeaseId)]);

        Assert.Contains(new Effect.Unwatch(Ep("w1")), restarted.Effects);
        Assert.Contains(new Effect.Watch(next), restarted.Effects);
        var revoked = restarted.SentTo(next).OfType<WorkerProtocol.RevokeLease>().Single();
        Assert.Equal(lease.LeaseId - 1, revoked.LeaseId);
        Assert.Equal(new WorkerProtocol.Registered("w1", 1), restarted.Replies.Single());
    }

    [Fact]
    public void An_upload_is_filed_under_the_jobs_own_model_and_mode_whatever_the_uploader_declares()
    {
        var o = Register(With(Job("knn", "oracle")), "w1", Laptop);
        var lease = Leases(o, "w1").Single();
        var offer = new ArtifactProtocol.OfferUpload(lease.JobId, lease.LeaseId, "../../../etc", "x/../../y", new string('a', 64), 1, new Dictionary<string, double>());

        var d = o.State.Decide(new FromWorker(offer, "akka.tcp://cis490@h:1/user/worker/trainer-1"), T0);

        var stored = Assert.IsType<ArtifactProtocol.OfferUpload>(Assert.Single(d.Effects.OfType<Effect.ToStore>()).Message);
        Assert.Equal(("knn", "oracle"), (stored.Model, stored.Mode));
        Assert.Contains(d.Effects.OfType<Effect.Log>(), l => l.Text.Contains("the upload declares ../../../etc/x/../../y, the job is knn/oracle"));
    }

    [Fact]
    public void A_worker_id_held_by_a_live_node_cannot_be_taken_by_another_node_until_the_holder_is_lost()
    {
        var o = Register(With(Job("knn", "oracle")), "w1", Laptop);
        var lease = Leases(o, "w1").Single();
        const string stranger = "akka.tcp://cis490@rogue:9/user/worker#7";

        var taken = Register(o.State, "w1", Laptop, endpoint: stranger, held: [new WorkerProtocol.HeldLease(lease.JobId, lease.LeaseId)], at: T0.AddSeconds(3));

        var refused = Assert.IsType<WorkerProtocol.RegistrationRefused>(taken.Replies.Single());
        Assert.Equal((ErrorKind.Conflict, "w1"), (refused.Kind, refused.WorkerId));
        Assert.Contains("held by the live node akka.tcp://cis490@h:1", refused.Reason);
        Assert.Contains("its own --worker-id", refused.Reason);
        Assert.Empty(taken.Events);
        Assert.DoesNotContain(taken.Effects, e => e is Effect.Watch or Effect.Unwatch or Effect.Send);
        Assert.Equal(Ep("w1"), taken.State.Workers["w1"].Endpoint); // the holder keeps its id and its lease
        Assert.Contains(taken.Effects.OfType<Effect.Log>(), l => l.Text.Contains("Refused the registration of akka.tcp://cis490@rogue:9"));

        // Once the holder's node is lost, the id is free: the other node registers (the lost node's lease ended, uncounted).
        var lost = taken.State.Decide(new NodeLost("akka.tcp://cis490@h:1", "dropped its connection"), T0.AddSeconds(4));
        var moved = Register(lost.State, "w1", Laptop, endpoint: stranger, at: T0.AddSeconds(5));
        Assert.IsType<WorkerProtocol.Registered>(moved.Replies.Single());
        Assert.Equal(stranger, moved.State.Workers["w1"].Endpoint);
    }

    [Fact]
    public void Only_the_worker_a_lease_was_granted_to_may_heartbeat_fail_decline_or_complete_it()
    {
        var a = Register(With(Job("knn", "oracle")), "w1", Laptop);
        var lease = Leases(a, "w1").Single();
        var o = Register(a.State, "w2", Laptop, endpoint: "akka.tcp://cis490@other:2/user/worker#9");
        var s = o.State;
        Assert.Equal("w1", s.Table.Jobs[lease.JobId].WorkerId);
        const string intruder = "akka.tcp://cis490@other:2/user/worker/trainer-99";
        var progress = new TrainingProgress(1, 2, null, null, 1, "x");
        var offer = new ArtifactProtocol.OfferUpload(lease.JobId, lease.LeaseId, "knn", "oracle", new string('a', 64), 1, new Dictionary<string, double>());
        IWithLease[] messages =
        [
            new TrainerProtocol.Heartbeat(lease.JobId, lease.LeaseId, progress), new TrainerProtocol.Failed(lease.JobId, lease.LeaseId, "boom"),
            new TrainerProtocol.Started(lease.JobId, lease.LeaseId, "w1"), new WorkerProtocol.LeaseDeclined(lease.JobId, lease.LeaseId, "no"), offer,
        ];
        foreach (var m in messages)
        {
            var refused = s.Decide(new FromWorker(m, intruder), T0.AddSeconds(1));
            Assert.Equal(ErrorKind.Forbidden, refused.Refusal!.Kind);
            Assert.Empty(refused.Events);
            Assert.DoesNotContain(refused.Effects, e => e is Effect.ToStore or Effect.Send or Effect.RecordProgress);
            Assert.Contains("belongs to worker w1 at akka.tcp://cis490@h:1", refused.Refusal.Message);
            Assert.Contains(refused.Effects.OfType<Effect.Log>(), l => l.Text.Contains($"Refused {m.GetType().Name} from {intruder}"));
            Assert.Equal(s.Table.Jobs[lease.JobId], refused.State.Table.Jobs[lease.JobId]);
        }
        Assert.IsType<ArtifactProtocol.UploadRefused>(s.Decide(new FromWorker(offer, intruder), T0).Replies.Single());
        // A look-alike path on the holder's node is not its child either.
        Assert.Equal(ErrorKind.Forbidden, s.Decide(new FromWorker(messages[0], "akka.tcp://cis490@h:1/user/worker-evil"), T0).Refusal!.Kind);

        // The holder's trainer (a child of its registered actor) and the actor itself are heard.
        var beat = s.Decide(new FromWorker(messages[0], "akka.tcp://cis490@h:1/user/worker/trainer-1"), T0.AddSeconds(2));
        Assert.Null(beat.Refusal);
        Assert.Contains(beat.Effects, e => e is Effect.RecordProgress);
        var failed = s.Decide(new FromWorker(messages[1], "akka.tcp://cis490@h:1/user/worker"), T0.AddSeconds(2));
        Assert.Single(failed.Events.OfType<LeaseEnded>());
        // A message about a lease that is not live goes to the job table's fencing as before, whoever sends it.
        var stale = s.Decide(new FromWorker(new TrainerProtocol.Heartbeat(lease.JobId, lease.LeaseId + 5, progress), intruder), T0);
        Assert.Equal(ErrorKind.StaleLease, stale.Refusal!.Kind);
    }

    [Fact]
    public void A_message_about_a_stale_lease_is_refused_as_stale_and_one_about_an_unknown_job_as_not_found()
    {
        var o = Register(With(Job("knn", "oracle")), "w1", Laptop);
        var lease = Leases(o, "w1").Single();

        var stale = o.State.Decide(new TrainerProtocol.Heartbeat(lease.JobId, lease.LeaseId + 1, new TrainingProgress(0, 0, null, null, 0, "x")), T0);
        var unknown = o.State.Decide(new TrainerProtocol.Started("nope", 1, "w1"), T0);
        var twice = o.State.Decide(new TrainerProtocol.Started(lease.JobId, lease.LeaseId, "w1"), T0).State
            .Decide(new TrainerProtocol.Started(lease.JobId, lease.LeaseId, "w1"), T0);

        Assert.Equal(ErrorKind.StaleLease, Assert.IsType<TrainerProtocol.Refused>(stale.Replies.Single()).Kind);
        Assert.Equal(ErrorKind.NotFound, Assert.IsType<TrainerProtocol.Refused>(unknown.Replies.Single()).Kind);
        Assert.Equal(ErrorKind.Conflict, twice.Refusal!.Kind);
        Assert.All(new[] { stale, unknown, twice }, x => Assert.Empty(x.Events));
    }

    // ---------- operators ----------

    [Fact]
    public void Cancelling_a_running_job_tells_its_worker_to_stop_and_answers_with_the_new_status()
    {
        var o = Register(With(Job("knn", "oracle")), "w1", Laptop);
        var lease = Leases(o, "w1").Single();

        var cancel = o.State.Decide(new OperatorProtocol.CancelJob(lease.JobId[..10], "wrong data"), T0.AddSeconds(2));

        Assert.Equal(lease.LeaseId, Assert.IsType<JobCancelled>(cancel.Events.Single()).LeaseId);
        Assert.Equal(lease.LeaseId, Assert.IsType<WorkerProtocol.RevokeLease>(cancel.SentTo(Ep("w1")).Single()).LeaseId);
        var result = Assert.IsType<OperatorProtocol.OperatorResult>(cancel.Replies.Single());
        Assert.Equal((true, JobStatus.Cancelled, (ErrorKind?)null), (result.Ok, result.Status, result.Kind));
    }

    [Fact]
    public void An_invalid_manifest_changes_nothing_and_is_answered_with_every_error()
    {
        var s = With(Job("knn", "oracle"));
        var o = s.Decide(new OperatorProtocol.SubmitManifest("bad.toml", Job("nosuch", "oracle") + Job("knn", "sideways")), T0);

        Assert.Empty(o.Events);
        Assert.Same(s.Table, o.State.Table);
        Assert.Equal(ErrorKind.Invalid, o.Refusal!.Kind);
        Assert.True(Assert.IsType<OperatorProtocol.ManifestRejected>(o.Replies.Single()).Errors.Count >= 2);
    }

    [Fact]
    public void A_request_this_coordinator_does_not_know_is_refused_as_invalid_not_thrown()
    {
        var o = CoordinatorState.Initial(Policy).Decide(new OperatorQueries.ShowCluster(), T0);

        Assert.Equal(ErrorKind.Invalid, Assert.IsType<OperatorProtocol.OperatorError>(o.Replies.Single()).Kind);
    }

    [Fact]
    public void Every_decision_is_the_same_for_the_same_state_command_and_time()
    {
        var s = With(Job("knn", "oracle") + Job("gbt", "oracle"));
        var a = Register(s, "w1", Laptop, slots: 2);
        var b = Register(s, "w1", Laptop, slots: 2);

        Assert.Equal(a.Events, b.Events);
        Assert.Equal(a.Effects, b.Effects);
    }
}
