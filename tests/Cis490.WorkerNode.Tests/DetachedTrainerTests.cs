using Akka.Actor;
using Cis490.Protocols.Artifacts;
using Cis490.Protocols.Jobs;
using Cis490.Protocols.Workers;
using Cis490.WorkerNode.Node;
using Xunit;
using Xunit.Abstractions;

namespace Cis490.WorkerNode.Tests;

/// <summary>Trainers outlive the node's actor system: detached when it ends (downed, coordinator gone), adopted by the next node,
/// revoked when the coordinator gave their lease away meanwhile, and stopped when no coordinator confirms them within the keep-limit.</summary>
public sealed class DetachedTrainerTests(ITestOutputHelper output) : WorkerNodeTestBase(output)
{
    /// <summary>Ends <paramref name="node"/> as its actor system's end does: coordinated shutdown asks it to detach, then it stops.</summary>
    private async Task EndMembership(IActorRef node, int expectDetached)
    {
        var shutdown = CreateTestProbe("shutdown");
        shutdown.Send(node, WorkerNodeActor.DetachTrainers.Instance);
        Assert.Equal(expectDetached, (await shutdown.ExpectMsgAsync<WorkerNodeActor.TrainersDetached>(TestConfig.Wait)).Detached);
        shutdown.Watch(node);
        Sys.Stop(node);
        await shutdown.ExpectTerminatedAsync(node, TestConfig.Wait);
    }

    /// <summary>A node of the next membership (same name, same worker id): returns it and its first registration.</summary>
    private async Task<(IActorRef Node, WorkerProtocol.Register First, List<object> Others)> NextMembership(WorkerSettings? settings = null, int others = 0)
    {
        var node = await SpawnWhenNameIsFree(WorkerNodeActor.Props(settings ?? Settings, TestConfig.Capability, Coordinator.Ref, Launcher, Detached), "worker");
        WorkerProtocol.Register? first = null;
        var rest = new List<object>();
        while (first is null || rest.Count < others)
        {
            var m = await Coordinator.ExpectMsgAsync<object>(TestConfig.Wait);
            if (first is null && m is WorkerProtocol.Register r) first = r;
            else rest.Add(m);
        }
        return (node, first, rest);
    }

    /// <summary>The watcher's <c>Terminated</c> can arrive before the guardian has handled the child's death and freed its name,
    /// so the next membership's actor is created once the name is free (as a restarted node's actor system would only start after
    /// the last one ended), failing the test if it never is.</summary>
    private async Task<IActorRef> SpawnWhenNameIsFree(Props props, string name)
    {
        var deadline = DateTime.UtcNow + TestConfig.Wait;
        while (true)
        {
            try { return Sys.ActorOf(props, name); }
            catch (InvalidActorNameException) when (DateTime.UtcNow < deadline) { await Task.Delay(10); }
        }
    }

    private static void AckStart(FakeTrainer t, Akka.TestKit.TestProbe coordinator) =>
        coordinator.Reply(new TrainerProtocol.Acknowledged(t.Request.JobId, t.Request.LeaseId, JobStatus.Running));

    [Fact]
    public async Task A_trainer_detached_when_the_actor_system_ends_keeps_running_and_the_next_node_adopts_it_with_its_held_progress()
    {
        var node = await StartNode();
        var a = await Grant(node, 1, 11);
        AckStart(a, Coordinator);
        a.PrintProgress(1, 10);

        await EndMembership(node, expectDetached: 1);
        Assert.False(a.Killed.IsCompleted); // the process was not killed with its actor
        Assert.Equal(1, Detached.Count);
        a.PrintProgress(2, 10);             // printed between two memberships: held
        a.PrintAlive();
        a.PrintProgress(3, 10, "third");

        // The next membership registers with the lease held, and the adopted trainer heartbeats at once with every line since the
        // last relayed heartbeat; no second start (the coordinator acknowledged the first).
        var (next, first, others) = await NextMembership(others: 1);
        Assert.Equal([(TestConfig.JobId(1), 11L)], Held(first));
        var beat = Assert.IsType<TrainerProtocol.Heartbeat>(Assert.Single(others));
        Assert.Equal((TestConfig.JobId(1), 11L, 3, "third"), (beat.JobId, beat.LeaseId, beat.Progress.Epoch, beat.Progress.Message));
        Assert.Equal([1, 2, 3], beat.Lines!.Select(l => l.Epoch));
        Assert.Equal(0, Detached.Count);

        // The adopted trainer carries the lease to its end: its slot is counted, and the finished bundle is offered.
        Coordinator.Send(next, TestConfig.Lease(2, 12));
        await Coordinator.ExpectMsgAsync<TrainerProtocol.Started>(TestConfig.Wait);
        Coordinator.Send(next, TestConfig.Lease(3, 13));
        Assert.Contains("all 2 slot(s) busy", (await Coordinator.ExpectMsgAsync<WorkerProtocol.LeaseDeclined>(TestConfig.Wait)).Reason);
        a.FinishTraining(new Dictionary<string, double> { ["val_macro_f1"] = 0.5 });
        var offer = await Coordinator.FishForMessageAsync<ArtifactProtocol.OfferUpload>(_ => true, TestConfig.Wait);
        Assert.Equal((TestConfig.JobId(1), 11L), (offer.JobId, offer.LeaseId));
    }

    [Fact]
    public async Task A_revoke_for_an_adopted_lease_kills_its_trainer_process()
    {
        var node = await StartNode();
        var a = await Grant(node, 1, 11);
        await EndMembership(node, expectDetached: 1);

        var (next, first, _) = await NextMembership(others: 0);
        Assert.Equal([(TestConfig.JobId(1), 11L)], Held(first));
        // The coordinator gave the job to another worker while this one was away.
        Coordinator.Send(next, new WorkerProtocol.RevokeLease(TestConfig.JobId(1), 11, "stale lease 11 for job: the current lease is 12"));

        await a.Killed.WaitAsync(TestConfig.Wait);
        var register = await Coordinator.FishForMessageAsync<WorkerProtocol.Register>(_ => true, TestConfig.Wait);
        Assert.Empty(Held(register));
    }

    [Fact]
    public async Task An_adopted_trainer_whose_process_finished_between_memberships_offers_its_bundle()
    {
        var node = await StartNode();
        var a = await Grant(node, 1, 11);
        await EndMembership(node, expectDetached: 1);

        a.FinishTraining(new Dictionary<string, double> { ["val_macro_f1"] = 0.75 }); // exits 0 while no actor listens

        var (_, first, _) = await NextMembership(others: 0);
        Assert.Equal([(TestConfig.JobId(1), 11L)], Held(first));
        var offer = await Coordinator.FishForMessageAsync<ArtifactProtocol.OfferUpload>(_ => true, TestConfig.Wait);
        Assert.Equal((TestConfig.JobId(1), 11L, 0.75), (offer.JobId, offer.LeaseId, offer.Metrics["val_macro_f1"]));
        Assert.False(a.Killed.IsCompleted);
    }

    [Fact]
    public async Task An_adopted_trainer_no_coordinator_confirms_within_the_keep_limit_is_stopped()
    {
        // 500 ms to keep an unconfirmed lease (production: 15 min), so the test waits it out.
        var settings = Settings with { CoordinatorLostKeep = TimeSpan.FromMilliseconds(500) };
        var node = await StartNode(settings);
        var a = await Grant(node, 1, 11);
        await EndMembership(node, expectDetached: 1);

        await NextMembership(settings, others: 0); // registers with it, but nobody answers

        await a.Killed.WaitAsync(TestConfig.Wait);
        // The coordinator is not there to hear a failure; the lease is not reported as one either way.
        var register = await Coordinator.FishForMessageAsync<WorkerProtocol.Register>(_ => true, TestConfig.Wait);
        Assert.Empty(Held(register));
    }

    [Fact]
    public async Task A_registration_answered_after_adoption_confirms_the_lease_and_its_trainer_outlives_the_keep_limit()
    {
        var settings = Settings with { CoordinatorLostKeep = TimeSpan.FromMilliseconds(500) };
        var node = await StartNode(settings);
        var a = await Grant(node, 1, 11);
        await EndMembership(node, expectDetached: 1);

        var (next, first, _) = await NextMembership(settings, others: 0);
        Coordinator.Send(next, new WorkerProtocol.Registered("test-worker", 1)); // re-attached, not revoked

        // Twice the keep-limit passes; the confirmed trainer is still running.
        await Task.Delay(settings.CoordinatorLostKeep * 2);
        Assert.Equal([(TestConfig.JobId(1), 11L)], Held(first));
        Assert.False(a.Killed.IsCompleted);
    }
}
