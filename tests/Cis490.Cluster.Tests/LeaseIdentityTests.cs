using Akka.Actor;
using Akka.Cluster.Tools.Singleton;
using Cis490.Protocols;
using Cis490.Protocols.Artifacts;
using Cis490.Protocols.Jobs;
using Cis490.Shared.Config;
using Cis490.Shared.Hosting;
using Xunit;
using Xunit.Abstractions;

namespace Cis490.Cluster.Tests;

/// <summary>A lease belongs to the worker it was granted to: another member of the cluster that knows the job and lease ids (they
/// are in <c>jobs show</c>) cannot heartbeat, fail or complete it, and the job goes on and completes on its own lease.</summary>
[Collection(ClusterCollection.Name)]
public sealed class LeaseIdentityTests(DataFixture data, ITestOutputHelper output)
{
    [Fact]
    public async Task A_member_that_is_not_the_lease_holder_cannot_heartbeat_fail_or_complete_it_and_the_job_completes_on_its_lease()
    {
        await using var h = new ClusterHarness(data.Small);
        var coordinator = await h.StartCoordinator();
        await h.StartWorker("worker-a");
        var manifest = Path.Combine(h.DataDir, "one.toml");
        File.WriteAllText(manifest, "[[jobs]]\nmodel = \"transformer\"\nmode = \"realistic\"\nhyper = { max_epochs = 25, patience = 200 }\n");
        var submit = await h.RunShellAsOperator("manifest", "submit", manifest, "--coordinator", h.Address);
        Assert.True(submit.Exit == 0, submit.Stderr + submit.Stdout);
        var running = (await h.WaitFor(j => j.Single() is { Status: JobStatus.Running, Progress.Epoch: >= 1 }, TimeSpan.FromMinutes(2), "job training")).Single();

        // Another member of the cluster, in this test's own process: it joins through the seed like any node (loopback, no TLS)
        // and speaks for worker-a's lease through the singleton proxy, as a rogue worker program would.
        var config = HoconLoader.Load(["base.conf"], NodeRuntime.AddressOverrides("127.0.0.1", 0, [h.Seed]) + "\nakka.cluster.roles = [\"worker\"]")
            .WithFallback(ClusterSingleton.DefaultConfig())
            .WithFallback(Akka.Cluster.Tools.PublishSubscribe.DistributedPubSub.DefaultConfig()); // the coordinator's receptionist gossips through it
        var rogue = ActorSystem.Create("cis490", config);
        try
        {
            var up = new TaskCompletionSource();
            Akka.Cluster.Cluster.Get(rogue).RegisterOnMemberUp(() => up.TrySetResult());
            await up.Task.WaitAsync(TimeSpan.FromSeconds(30));
            var proxy = rogue.ActorOf(ClusterSingletonProxy.Props("/user/job-coordinator",
                ClusterSingletonProxySettings.Create(rogue).WithRole("coordinator")), "proxy");
            var wait = TimeSpan.FromSeconds(15);

            var beat = await proxy.Ask<object>(new TrainerProtocol.Heartbeat(running.JobId, running.LeaseId, new TrainingProgress(999, 999, null, null, 1, "rogue")), wait);
            var failed = await proxy.Ask<object>(new TrainerProtocol.Failed(running.JobId, running.LeaseId, "rogue says it failed"), wait);
            var upload = await proxy.Ask<object>(new ArtifactProtocol.OfferUpload(running.JobId, running.LeaseId, "../../../tmp", "oracle",
                new string('a', 64), 10, new Dictionary<string, double>()), wait);

            output.WriteLine($"{beat}\n{failed}\n{upload}");
            Assert.Equal(ErrorKind.Forbidden, Assert.IsType<TrainerProtocol.Refused>(beat).Kind);
            Assert.Equal(ErrorKind.Forbidden, Assert.IsType<TrainerProtocol.Refused>(failed).Kind);
            var refusedUpload = Assert.IsType<ArtifactProtocol.UploadRefused>(upload);
            Assert.Contains("belongs to worker worker-a", refusedUpload.Reason);
            Assert.False(refusedUpload.LeaseLost);
        }
        finally
        {
            await rogue.Terminate();
        }

        // Nothing changed for the job: same lease, no attempt counted, the rogue's progress not taken; then it completes on it.
        var now = (await h.Jobs()).Single();
        Assert.Equal((JobStatus.Running, running.LeaseId, 0), (now.Status, now.LeaseId, now.FailedAttempts));
        Assert.NotEqual(999, now.Progress?.Epoch);
        var log = File.ReadAllLines(coordinator.LogPath);
        Assert.Contains(log, l => l.Contains("Refused Heartbeat from akka.tcp://cis490@127.0.0.1:") && l.Contains("belongs to worker worker-a"));
        Assert.Contains(log, l => l.Contains("Refused Failed from akka.tcp://cis490@127.0.0.1:"));
        var done = (await h.WaitFor(j => j.Single().Status == JobStatus.Completed, TimeSpan.FromMinutes(4), "job completed")).Single();
        Assert.Equal((running.LeaseId, "worker-a", 0), (done.LeaseId, done.WorkerId, done.FailedAttempts));
        Assert.Single(File.ReadAllLines(Path.Combine(h.DataDir, "models", "index.jsonl")));
        // The one bundle sits in the job's own folder; the store holds nothing else.
        Assert.Equal(["transformer_realistic"], Directory.GetDirectories(Path.Combine(h.DataDir, "models")).Select(Path.GetFileName)
            .Where(d => d != ".incoming"));
    }
}
