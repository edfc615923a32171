using Akka.Actor;
using Akka.TestKit;
using Cis490.Protocols.Jobs;
using Cis490.Protocols.Workers;
using Cis490.WorkerNode.Node;
using Cis490.WorkerNode.Trainer;
using Xunit;
using Xunit.Abstractions;

namespace Cis490.WorkerNode.Tests;

/// <summary>A worker node under the TestKit: a probe stands in for the coordinator, and a <see cref="FakeTrainerLauncher"/> for
/// the trainer processes.</summary>
public abstract class WorkerNodeTestBase : Akka.TestKit.Xunit2.TestKit
{
    protected readonly TestProbe Coordinator;
    protected readonly FakeTrainerLauncher Launcher = new();

    /// <summary>The process-wide trainers between actor systems (WorkerNodeProgram holds one per worker process).</summary>
    protected readonly DetachedTrainers Detached = new();
    protected readonly WorkerSettings Settings;
    private readonly string _dir;

    protected WorkerNodeTestBase(ITestOutputHelper output) : base(TestConfig.Worker(), "worker-test", output)
    {
        _dir = Directory.CreateTempSubdirectory("cis490-worker-test-").FullName;
        Settings = WorkerSettings.From(Sys.Settings.Config, "test-worker", Path.Combine(_dir, "features"), Path.Combine(_dir, "work"));
        Coordinator = CreateTestProbe("coordinator");
    }

    /// <summary>Starts the node and reads its first registration: all slots free, nothing held, not draining.</summary>
    protected async Task<IActorRef> StartNode(WorkerSettings? settings = null)
    {
        var node = Sys.ActorOf(WorkerNodeActor.Props(settings ?? Settings, TestConfig.Capability, Coordinator.Ref, Launcher, Detached), "worker");
        var hello = await Coordinator.ExpectMsgAsync<WorkerProtocol.Register>(TestConfig.Wait);
        Assert.Equal(("test-worker", 2, 0, false), (hello.WorkerId, hello.Slots, hello.Held.Count, hello.Draining));
        return node;
    }

    /// <summary>The coordinator grants <paramref name="job"/> under <paramref name="leaseId"/>; returns its trainer once the trainer
    /// has started its (fake) process and told the coordinator so.</summary>
    protected async Task<FakeTrainer> Grant(IActorRef node, int job, long leaseId)
    {
        Coordinator.Send(node, TestConfig.Lease(job, leaseId));
        var started = await Coordinator.ExpectMsgAsync<TrainerProtocol.Started>(TestConfig.Wait);
        Assert.Equal((TestConfig.JobId(job), leaseId, "test-worker"), (started.JobId, started.LeaseId, started.WorkerId));
        var trainer = await Launcher.NextStarted();
        Assert.Equal((TestConfig.JobId(job), leaseId), (trainer.Request.JobId, trainer.Request.LeaseId));
        return trainer;
    }

    /// <summary>The node's next registration, which it sends whenever a slot is freed or it starts draining.</summary>
    protected async Task<WorkerProtocol.Register> NextRegister()
    {
        var register = await Coordinator.ExpectMsgAsync<WorkerProtocol.Register>(TestConfig.Wait);
        return register;
    }

    protected static IEnumerable<(string, long)> Held(WorkerProtocol.Register r) => r.Held.Select(h => (h.JobId, h.LeaseId)).Order();

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        foreach (var t in Detached.TakeAll()) t.Abandon(TimeSpan.FromSeconds(1)); // a test that ended with a trainer detached
        try { Directory.Delete(_dir, true); }
        catch (IOException) { } // a trainer's folder may still be going away; it is under the system's temporary folder
    }
}
