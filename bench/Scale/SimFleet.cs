using System.Diagnostics;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Tools.Singleton;
using Akka.Streams;
using Cis490.Protocols.Workers;
using Cis490.Shared.Config;
using Cis490.Shared.Hosting;

namespace Cis490.Bench.Scale;

/// <summary>The simulated fleet: one actor system that joins the coordinator's cluster as a worker-role member (as a worker node
/// does: worker.conf, the singleton proxy) and hosts one <see cref="SimWorker"/> per simulated worker.</summary>
public sealed class SimFleet : IAsyncDisposable
{
    private static readonly WorkerCapability Capability = new("bench-scale", 1, 1, false, 0, null, "none", "bench", "Linux", ["knn"]);

    private readonly ActorSystem _system;
    private readonly List<IActorRef> _workers = [];

    public ScaleStats Stats { get; } = new();
    public ScaleTimings Timings { get; }

    private SimFleet(ActorSystem system, ScaleTimings timings)
    {
        _system = system;
        Timings = timings;
    }

    /// <summary>Joins the cluster at <paramref name="seed"/> and waits until this member is Up.</summary>
    public static async Task<SimFleet> Join(string seed, (TimeSpan Min, TimeSpan Max) duration)
    {
        var config = HoconLoader.Load(["worker.conf"], NodeRuntime.AddressOverrides("127.0.0.1", 0, [seed]) + """

            # A thousand workers log nothing they would not log on their own nodes; the bench prints what matters.
            akka.loglevel = WARNING
            """)
            .WithFallback(ClusterSingleton.DefaultConfig())
            .WithFallback(Akka.Cluster.Tools.PublishSubscribe.DistributedPubSub.DefaultConfig())
            .WithFallback(ActorMaterializer.DefaultConfig());
        var timings = new ScaleTimings(config.GetTimeSpan("cis490.worker.heartbeat-interval"), config.GetTimeSpan("cis490.worker.register-interval"), duration);
        var system = ActorSystem.Create(config.GetString("cis490.system-name"), config);
        var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Cluster.Get(system).RegisterOnMemberUp(() => up.TrySetResult());
        if (await Task.WhenAny(up.Task, Task.Delay(TimeSpan.FromSeconds(60))) != up.Task)
        {
            await system.Terminate();
            throw new TimeoutException($"the simulated fleet's member did not become Up in the cluster at {seed} within 60 s");
        }
        return new SimFleet(system, timings);
    }

    /// <summary>Starts <paramref name="count"/> workers, named sim-0001…, each registering at once.</summary>
    public void Start(int count, int seed)
    {
        var proxy = _system.ActorOf(ClusterSingletonProxy.Props("/user/job-coordinator",
            ClusterSingletonProxySettings.Create(_system).WithRole("coordinator")), "job-coordinator-proxy");
        for (var i = 1; i <= count; i++)
        {
            var id = $"sim-{i:D4}";
            _workers.Add(_system.ActorOf(SimWorker.Props(id, proxy, Capability, Stats, Timings, seed * 100_003 + i), id));
        }
    }

    public void Tell(object message)
    {
        foreach (var w in _workers) w.Tell(message);
    }

    /// <summary>Asks every worker to flood <paramref name="perWorker"/> heartbeats and waits for every answer; heartbeats handled and
    /// the wall time. The coordinator answers each worker's marker after that worker's heartbeats (one sender, in order).</summary>
    public async Task<(long Heartbeats, TimeSpan Wall)> Flood(int perWorker, TimeSpan timeout)
    {
        Stats.ResetFlood();
        var clock = Stopwatch.StartNew();
        Tell(new SimWorker.Flood(perWorker));
        while (Stats.FloodState().Answers < _workers.Count && clock.Elapsed < timeout) await Task.Delay(5);
        var (answers, heartbeats) = Stats.FloodState();
        if (answers < _workers.Count)
            throw new TimeoutException($"heartbeat flood: {answers} of {_workers.Count} workers were answered within {timeout.TotalSeconds:F0} s");
        return (heartbeats, clock.Elapsed);
    }

    /// <summary>Leaves the cluster (the coordinator ends the fleet's leases) and ends the actor system.</summary>
    public async ValueTask DisposeAsync()
    {
        try { await CoordinatedShutdown.Get(_system).Run(CoordinatedShutdown.ClrExitReason.Instance).WaitAsync(TimeSpan.FromSeconds(30)); }
        catch (TimeoutException) { await _system.Terminate(); }
    }
}
