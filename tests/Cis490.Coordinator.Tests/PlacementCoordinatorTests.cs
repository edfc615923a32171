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

/// <summary>Placement by the persisted coordinator: constraints, the manifest's host policy, priority, prefer_cuda, draining workers.</summary>
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
        return TestConfig.Coordinator(dir, Token, """
            # prefer_cuda jobs wait 3 s for the GPU here (production: 2 min), so the fallback is seen within the test.
            cis490.coordinator.prefer-cuda-wait = 3s
            cis490.coordinator.lease-check-interval = 200ms
            """);
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
        await laptop.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(500));

        Assert.Equal(["gbt", "knn"], leases.Select(l => l.Job.Model)); // priority 7 first, then the oldest
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

    [Fact]
    public async Task A_job_no_worker_can_run_says_why_and_none_connected_says_so()
    {
        await Submit(Job("gru", "oracle", "require_cuda = true\nmin_vram_gib = 24"));
        Assert.Equal("no worker is connected", (await Jobs()).Single().Unschedulable);

        var gpu = await Worker("gpu-1", GpuBox);
        await gpu.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(500));
        Assert.Equal("no connected worker can run it: gpu-1: needs 24 GiB of GPU memory; gpu-box has 12", (await Jobs()).Single().Unschedulable);
    }

    [Fact]
    public async Task A_prefer_cuda_job_waits_for_a_busy_gpu_then_falls_back_to_any_worker()
    {
        await Submit(Job("knn", "oracle", "priority = 9") + Job("gru", "oracle", "prefer_cuda = true"));
        var gpu = await Worker("gpu-1", GpuBox, slots: 1);
        Assert.Equal("knn", (await gpu.ExpectMsgAsync<WorkerProtocol.Lease>()).Job.Model); // the GPU is now busy

        var laptop = await Worker("laptop-1", Laptop);
        await laptop.ExpectNoMsgAsync(TimeSpan.FromSeconds(1)); // within the wait: the gru job holds out for the GPU
        var fallback = await laptop.ExpectMsgAsync<WorkerProtocol.Lease>(TimeSpan.FromSeconds(5));
        Assert.Equal("gru", fallback.Job.Model);
    }

    [Fact]
    public async Task A_prefer_cuda_job_goes_to_the_gpu_when_both_are_free_and_at_once_when_there_is_no_gpu()
    {
        await Submit(Job("gru", "oracle", "prefer_cuda = true"));
        var laptop = await Worker("laptop-1", Laptop);
        Assert.Equal("gru", (await laptop.ExpectMsgAsync<WorkerProtocol.Lease>()).Job.Model); // no CUDA worker in the fleet: no waiting

        await Submit(Job("lstm", "oracle", "prefer_cuda = true"));
        var gpu = await Worker("gpu-1", GpuBox);
        var laptop2 = await Worker("laptop-2", Laptop);
        Assert.Equal("lstm", (await gpu.ExpectMsgAsync<WorkerProtocol.Lease>()).Job.Model);
        await laptop2.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public async Task A_draining_worker_gets_no_new_leases_and_its_hand_back_is_not_a_failed_attempt()
    {
        await Submit(Job("knn", "oracle") + Job("knn", "realistic"));
        var worker = await Worker("w1", Laptop, slots: 1);
        var lease = await worker.ExpectMsgAsync<WorkerProtocol.Lease>();
        _coordinator.Tell(new WorkerProtocol.Register("w1", Laptop, 1, [new WorkerProtocol.HeldLease(lease.JobId, lease.LeaseId)], Draining: true), worker);
        await worker.ExpectMsgAsync<WorkerProtocol.Registered>();

        _coordinator.Tell(new WorkerProtocol.LeaseDeclined(lease.JobId, lease.LeaseId, "worker w1 shut down (drain grace over)"), worker);
        await worker.ExpectMsgAsync<TrainerProtocol.Acknowledged>();
        await worker.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(500)); // a free slot, but draining: nothing new

        var job = (await Jobs()).Single(j => j.JobId == lease.JobId);
        Assert.Equal((JobStatus.Pending, 0), (job.Status, job.FailedAttempts));
        var other = await Worker("w2", Laptop, slots: 2);
        Assert.Equal(2, new[] { await other.ExpectMsgAsync<WorkerProtocol.Lease>(), await other.ExpectMsgAsync<WorkerProtocol.Lease>() }.Length);
    }
}
