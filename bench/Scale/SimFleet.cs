using System.Diagnostics;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Tools.Singleton;
using Akka.Streams;
using Cis490.Protocols.Workers;
using Cis490.Shared.Config;
using Cis490.Shared.Hosting;

namespace Cis490.Bench.Scale;

/// <summary>The simulated fleet: a few actor systems in this process, each joining the coordinator's cluster as a worker-role member
/// (as a worker node does: worker.conf, the singleton proxy), hosting one <see cref="SimWorker"/> per simulated worker between them.
/// Several members, not one: a real fleet spreads its workers' remoting traffic (and Akka's system messages: the coordinator's
/// watches, every upload's StreamRef) over one association per node; 1 000 workers behind one association overflowed its
/// system-message buffer (20 000) at the first stall of this process.</summary>
public sealed class SimFleet : IAsyncDisposable
{
    private static readonly WorkerCapability Capability = new("bench-scale", 1, 1, false, 0, null, "none", "bench", "Linux", ["knn"]);

    private readonly IReadOnlyList<ActorSystem> _systems;
    private readonly List<IActorRef> _workers = [];

    public ScaleStats Stats { get; } = new();
    public ScaleTimings Timings { get; }

    private SimFleet(IReadOnlyList<ActorSystem> systems, ScaleTimings timings)
    {
        _systems = systems;
        Timings = timings;
    }

    public int Members => _systems.Count;

    /// <summary>Joins <paramref name="members"/> members to the cluster at <paramref name="seed"/> and waits until they are Up.</summary>
    public static async Task<SimFleet> Join(string seed, (TimeSpan Min, TimeSpan Max) duration, int members)
    {
        var joined = await Task.WhenAll(Enumerable.Range(0, members).Select(_ => JoinOne(seed, duration)));
        return new SimFleet(joined.Select(j => j.System).ToList(), joined[0].Timings);
    }

    private static async Task<(ActorSystem System, ScaleTimings Timings)> JoinOne(string seed, (TimeSpan Min, TimeSpan Max) duration)
    {
        var config = HoconLoader.Load(["worker.conf"], NodeRuntime.AddressOverrides("127.0.0.1", 0, [seed]) + """

            # A thousand workers log nothing they would not log on their own nodes, and the failure detector's warnings about
            # this process's own stalls are counted by the bench (StallWatch) instead of printed ten times over.
            akka.loglevel = ERROR
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
        return (system, timings);
    }

    /// <summary>Starts <paramref name="count"/> workers, named sim-0001…, spread over the members, each registering at once.</summary>
    public void Start(int count, int seed)
    {
        var proxies = _systems.Select(s => s.ActorOf(ClusterSingletonProxy.Props("/user/job-coordinator",
            ClusterSingletonProxySettings.Create(s).WithRole("coordinator")), "job-coordinator-proxy")).ToList();
        for (var i = 1; i <= count; i++)
        {
            var id = $"sim-{i:D4}";
            var member = (i - 1) % _systems.Count;
            _workers.Add(_systems[member].ActorOf(SimWorker.Props(id, proxies[member], Capability, Stats, Timings, seed * 100_003 + i), id));
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

    /// <summary>Leaves the cluster (the coordinator ends the fleet's leases) and ends the actor systems.</summary>
    public async ValueTask DisposeAsync() => await Task.WhenAll(_systems.Select(async system =>
    {
        try { await CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.ClrExitReason.Instance).WaitAsync(TimeSpan.FromSeconds(30)); }
        catch (TimeoutException) { await system.Terminate(); }
    }));
}
