using Akka.Actor;
using Akka.Configuration;
using Akka.Streams;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Cis490.Coordinator.Jobs;
using Cis490.Protocols.Jobs;
using Cis490.Protocols.Operator;
using Cis490.Protocols.Workers;
using Cis490.Shared.Config;
using Xunit;

namespace Cis490.Coordinator.Tests;

/// <summary>Placement through the persisted actor: one wiring test that the rules of <see cref="CoordinatorState"/> (tested as plain
/// functions in <see cref="CoordinatorStateTests"/>) reach real workers' mailboxes, after their events are written.</summary>
public sealed class PlacementCoordinatorTests : TestKit, IDisposable
{
    private const string Token = "placement-token";
    private static readonly WorkerCapability Laptop = new("laptop", 4, 16, false, 0, null, "2.10.0", "abc", "Linux");
    private static readonly WorkerCapability GpuBox = new("gpu-box", 16, 64, true, 12, "RTX", "2.10.0", "abc", "Linux");
    private readonly string _dir;
    private readonly IActorRef _coordinator;

    public PlacementCoordinatorTests() : this(Directory.CreateTempSubdirectory("cis490-placement-").FullName) { }

    private PlacementCoordinatorTests(string dir) : base(MakeConfig(dir), "placement-test")
    {
        _dir = dir;
        _coordinator = Sys.ActorOf(JobCoordinator.Props(CoordinatorSettings.From(Sys.Settings.Config)), "coordinator");
    }

    private static Config MakeConfig(string dir)
    {
        return TestConfig.Coordinator(dir, Token);
    }

    public new void Dispose()
    {
        base.Dispose();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    private async Task<IReadOnlyList<string>> Submit(string manifest)
    {
        _coordinator.Tell(new OperatorProtocol.SubmitManifest("fleet.toml", manifest, Token), TestActor);
        var reply = await ExpectMsgAsync<object>(TimeSpan.FromSeconds(10));
        return reply is OperatorProtocol.ManifestAccepted ok ? ok.AddedJobIds : throw new Xunit.Sdk.XunitException($"manifest refused: {reply}");
    }

    private async Task<TestProbe> Worker(string id, WorkerCapability capability, int slots = 1, bool draining = false)
    {
        var probe = CreateTestProbe(id);
        _coordinator.Tell(new WorkerProtocol.Register(id, capability, slots, [], draining), probe);
        await probe.ExpectMsgAsync<WorkerProtocol.Registered>(TimeSpan.FromSeconds(5));
        return probe;
    }

    private async Task<IReadOnlyList<OperatorProtocol.JobView>> Jobs()
    {
        _coordinator.Tell(new OperatorProtocol.ListJobs(null, null), TestActor);
        return (await ExpectMsgAsync<OperatorProtocol.JobList>(TimeSpan.FromSeconds(5))).Jobs;
    }

    private static string Job(string model, string mode, string extra = "") => $"[[jobs]]\nmodel = \"{model}\"\nmode = \"{mode}\"\n{extra}\n";

    [Fact]
    public async Task A_worker_receives_only_jobs_its_capability_and_host_policy_allow_highest_priority_first()
    {
        var ids = await Submit("""
            [[hosts]]
            name = "laptop"
            deny_jobs = ["transformer"]

            """ +
            Job("knn", "oracle") +
            Job("gru", "oracle", "require_cuda = true") +
            Job("transformer", "oracle") +
            Job("mlp", "oracle", "min_ram_gib = 32") +
            Job("gbt", "oracle", "priority = 7"));

        var laptop = await Worker("laptop-1", Laptop, slots: 5);
        var leases = new[] { await laptop.ExpectMsgAsync<WorkerProtocol.Lease>(), await laptop.ExpectMsgAsync<WorkerProtocol.Lease>() };

        Assert.Equal(["gbt", "knn"], leases.Select(l => l.Job.Model)); // priority 7 first, then the oldest
        Assert.All(leases, l => Assert.Equal(JobStatus.Leased, Jobs().Result.Single(j => j.JobId == l.JobId).Status)); // written before sent
        var pending = (await Jobs()).Where(j => j.Status == JobStatus.Pending).ToDictionary(j => j.Model);
        Assert.Equal(["gru", "mlp", "transformer"], pending.Keys.Order());
        Assert.Contains("laptop-1: needs CUDA", pending["gru"].Unschedulable);
        Assert.Contains("laptop-1: needs 32 GiB of RAM; laptop has 16", pending["mlp"].Unschedulable);
        Assert.Contains("laptop-1: host laptop's policy does not allow transformer:oracle", pending["transformer"].Unschedulable);

        // A GPU box joins: the CUDA and memory-hungry jobs become schedulable and go to it.
        var gpu = await Worker("gpu-1", GpuBox, slots: 3);
        var gpuLeases = new[] { await gpu.ExpectMsgAsync<WorkerProtocol.Lease>(), await gpu.ExpectMsgAsync<WorkerProtocol.Lease>(), await gpu.ExpectMsgAsync<WorkerProtocol.Lease>() };
        Assert.Equal(["gru", "mlp", "transformer"], gpuLeases.Select(l => l.Job.Model).Order());
        Assert.All(await Jobs(), j => Assert.Null(j.Unschedulable));
        Assert.Equal(5, ids.Count);
    }
}
