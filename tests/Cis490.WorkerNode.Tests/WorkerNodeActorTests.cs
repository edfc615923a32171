using Cis490.Protocols.Jobs;
using Cis490.Protocols.Workers;
using Cis490.WorkerNode.Node;
using Xunit;
using Xunit.Abstractions;

namespace Cis490.WorkerNode.Tests;

/// <summary>The worker node's own rules: one trainer per slot, declines, revokes, and the drain on shutdown.</summary>
public sealed class WorkerNodeActorTests(ITestOutputHelper output) : WorkerNodeTestBase(output)
{
    [Fact]
    public async Task Each_slot_takes_one_lease_and_a_lease_beyond_the_slots_is_declined()
    {
        var node = await StartNode();
        var a = await Grant(node, 1, 11);
        var b = await Grant(node, 2, 12);

        Coordinator.Send(node, TestConfig.Lease(3, 13));

        var declined = await Coordinator.ExpectMsgAsync<WorkerProtocol.LeaseDeclined>(TestConfig.Wait);
        Assert.Equal((TestConfig.JobId(3), 13L), (declined.JobId, declined.LeaseId));
        Assert.Contains("all 2 slot(s) busy", declined.Reason);
        Assert.Equal(Settings.DataDir, a.Request.DataDir); // the trainer trains on the node's data
        Assert.NotEqual(a.Request.OutDir, b.Request.OutDir);
    }

    [Fact]
    public async Task Leases_and_revokes_from_anyone_but_the_coordinator_are_ignored()
    {
        var node = await StartNode();
        var a = await Grant(node, 1, 11);
        var stranger = CreateTestProbe("stranger");

        stranger.Send(node, TestConfig.Lease(2, 12));                                           // no trainer, no answer
        stranger.Send(node, new WorkerProtocol.RevokeLease(TestConfig.JobId(1), 11, "I say so")); // the running trainer stays

        await stranger.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(500));
        await Coordinator.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
        Assert.False(a.Killed.IsCompleted);
        // The coordinator's own revoke is obeyed.
        Coordinator.Send(node, new WorkerProtocol.RevokeLease(TestConfig.JobId(1), 11, "cancelled"));
        await a.Killed.WaitAsync(TestConfig.Wait);
    }

    [Fact]
    public async Task A_lease_whose_job_id_is_not_an_id_is_declined_and_makes_no_folder()
    {
        var node = await StartNode();
        var good = TestConfig.Lease(1, 11);
        var hostile = good with { Job = good.Job with { JobId = "../../../../tmp/owned-" + new string('a', 40) } };

        Coordinator.Send(node, hostile);

        var declined = await Coordinator.ExpectMsgAsync<WorkerProtocol.LeaseDeclined>(TestConfig.Wait);
        Assert.Equal((hostile.JobId, 11L), (declined.JobId, declined.LeaseId));
        Assert.Contains("malformed job id", declined.Reason);
        Assert.False(Directory.Exists(Settings.WorkDir) && Directory.EnumerateFileSystemEntries(Settings.WorkDir).Any());
        await Grant(node, 1, 12); // the node goes on
    }

    [Fact]
    public async Task A_refused_registration_is_said_loudly_and_the_node_keeps_asking()
    {
        var node = await StartNode();
        await EventFilter.Error(contains: "refused this node's registration as worker test-worker").ExpectOneAsync(async () =>
        {
            Coordinator.Send(node, new WorkerProtocol.RegistrationRefused("test-worker", "worker id test-worker is held by the live node X", Protocols.ErrorKind.Conflict));
            await Task.Delay(200);
        });
        // Once is not for long: it stays (and asks again at its register interval; the holder may be its own crashed
        // incarnation, not yet seen gone), and a registration the coordinator accepts clears the refusal.
        Coordinator.Send(node, new WorkerProtocol.Registered("test-worker", 0));
        await Grant(node, 1, 11);
    }

    [Fact]
    public async Task A_lease_for_a_job_the_node_already_runs_is_declined()
    {
        var node = await StartNode();
        await Grant(node, 1, 11);

        Coordinator.Send(node, TestConfig.Lease(1, 21));

        var declined = await Coordinator.ExpectMsgAsync<WorkerProtocol.LeaseDeclined>(TestConfig.Wait);
        Assert.Equal((TestConfig.JobId(1), 21L, "already running this job"), (declined.JobId, declined.LeaseId, declined.Reason));
    }

    [Fact]
    public async Task A_trainer_that_fails_is_reported_with_its_error_output_and_its_slot_takes_the_next_lease()
    {
        var node = await StartNode();
        var a = await Grant(node, 1, 11);
        await Grant(node, 2, 12);

        a.PrintError("fatal: out of memory");
        a.Exit(1);

        await Coordinator.ExpectMsgAsync<TrainerProtocol.Heartbeat>(TestConfig.Wait); // the last progress, sent on every exit
        var failed = await Coordinator.ExpectMsgAsync<TrainerProtocol.Failed>(TestConfig.Wait);
        Assert.Equal((TestConfig.JobId(1), 11L), (failed.JobId, failed.LeaseId));
        Assert.Contains("exited with code 1: fatal: out of memory", failed.Error);
        Assert.Equal([(TestConfig.JobId(2), 12L)], Held(await NextRegister()));
        await Grant(node, 3, 13);
    }

    [Fact]
    public async Task A_revoked_lease_stops_its_trainer_process_and_frees_its_slot_without_a_failure_report()
    {
        var node = await StartNode();
        var a = await Grant(node, 1, 11);
        var b = await Grant(node, 2, 12);

        Coordinator.Send(node, new WorkerProtocol.RevokeLease(TestConfig.JobId(1), 11, "cancelled by the operator"));

        await a.Killed.WaitAsync(TestConfig.Wait);
        // The coordinator ended the lease itself: the next word from the node is its registration, not a Failed. It says the
        // highest lease it has seen, so the coordinator knows lease 11 is not running here any more.
        var register = await NextRegister();
        Assert.Equal([(TestConfig.JobId(2), 12L)], Held(register));
        Assert.Equal(12, register.LastLeaseSeen);
        Assert.False(b.Killed.IsCompleted);
        await Grant(node, 3, 13);
    }

    [Fact]
    public async Task A_revoke_for_an_older_lease_of_the_job_leaves_its_trainer_running()
    {
        var node = await StartNode();
        var a = await Grant(node, 1, 11);
        await Grant(node, 2, 12);

        Coordinator.Send(node, new WorkerProtocol.RevokeLease(TestConfig.JobId(1), 10, "expired"));
        Coordinator.Send(node, TestConfig.Lease(3, 13));

        // Had the stale revoke freed job 1's slot, the third lease would have been taken.
        var declined = await Coordinator.ExpectMsgAsync<WorkerProtocol.LeaseDeclined>(TestConfig.Wait);
        Assert.Equal(TestConfig.JobId(3), declined.JobId);
        Assert.False(a.Killed.IsCompleted);
    }

    [Fact]
    public async Task A_trainer_whose_process_cannot_start_is_reported_failed_by_its_node()
    {
        var node = await StartNode();
        Launcher.StartFailure = new System.ComponentModel.Win32Exception(2, "No such file or directory");

        Coordinator.Send(node, TestConfig.Lease(1, 11));

        var failed = await Coordinator.ExpectMsgAsync<TrainerProtocol.Failed>(TestConfig.Wait);
        Assert.Equal((TestConfig.JobId(1), 11L), (failed.JobId, failed.LeaseId));
        Assert.Contains("stopped unexpectedly", failed.Error);
        Assert.Empty(Held(await NextRegister()));
    }

    [Fact]
    public async Task An_idle_node_asked_to_drain_registers_as_draining_and_is_drained_at_once()
    {
        var node = await StartNode();
        var shutdown = CreateTestProbe("shutdown");

        shutdown.Send(node, WorkerNodeActor.Drain.Instance);

        var register = await NextRegister();
        Assert.True(register.Draining);
        Assert.Equal(new WorkerNodeActor.Drained(0, 0), await shutdown.ExpectMsgAsync<WorkerNodeActor.Drained>(TestConfig.Wait));
    }

    [Fact]
    public async Task A_draining_node_declines_new_leases_and_hands_back_what_still_runs_when_the_grace_is_over()
    {
        var node = await StartNode();
        var a = await Grant(node, 1, 11);
        var shutdown = CreateTestProbe("shutdown");

        shutdown.Send(node, WorkerNodeActor.Drain.Instance);
        var draining = await NextRegister();
        Coordinator.Send(node, TestConfig.Lease(2, 12));

        Assert.True(draining.Draining);
        Assert.Equal([(TestConfig.JobId(1), 11L)], Held(draining));
        var declined = await Coordinator.ExpectMsgAsync<WorkerProtocol.LeaseDeclined>(TestConfig.Wait);
        Assert.Equal((TestConfig.JobId(2), "the worker is draining (shutting down)"), (declined.JobId, declined.Reason));

        // The grace (2 s) passes with job 1 still training: it goes back to the coordinator, not as a failure.
        var handedBack = await Coordinator.ExpectMsgAsync<WorkerProtocol.LeaseDeclined>(Settings.DrainGrace + TestConfig.Wait);
        Assert.Equal((TestConfig.JobId(1), 11L), (handedBack.JobId, handedBack.LeaseId));
        Assert.Contains("drain grace", handedBack.Reason);
        await a.Killed.WaitAsync(TestConfig.Wait);
        Assert.Equal(new WorkerNodeActor.Drained(0, 1), await shutdown.ExpectMsgAsync<WorkerNodeActor.Drained>(TestConfig.Wait));
        Assert.Empty(Held(await NextRegister()));
    }

    [Fact]
    public async Task A_job_that_completes_within_the_drain_grace_counts_as_finished_and_nothing_is_handed_back()
    {
        var node = await StartNode();
        var a = await Grant(node, 1, 11);
        var shutdown = CreateTestProbe("shutdown");
        shutdown.Send(node, WorkerNodeActor.Drain.Instance);
        Assert.True((await NextRegister()).Draining);

        a.FinishTraining(new Dictionary<string, double> { ["val_macro_f1"] = 0.5 });
        await Coordinator.ExpectMsgAsync<TrainerProtocol.Heartbeat>(TestConfig.Wait);
        var offer = await Coordinator.ExpectMsgAsync<Protocols.Artifacts.ArtifactProtocol.OfferUpload>(TestConfig.Wait);
        Coordinator.Reply(new Protocols.Artifacts.ArtifactProtocol.UploadCompleted(offer.JobId, offer.LeaseId, offer.Sha256, false));

        Assert.Equal(new WorkerNodeActor.Drained(1, 0), await shutdown.ExpectMsgAsync<WorkerNodeActor.Drained>(TestConfig.Wait));
        Assert.Empty(Held(await NextRegister()));
    }
}
