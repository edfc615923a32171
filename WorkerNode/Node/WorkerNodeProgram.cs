using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Tools.Singleton;
using Akka.Event;
using Akka.Streams;
using Cis490.Shared.Capability;
using Cis490.Shared.Cli;
using Cis490.Shared.Config;
using Cis490.Shared.Hosting;
using Cis490.Shared.Tls;
using Cis490.Training.Data;
using Cis490.WorkerNode.Cli;
using Cis490.WorkerNode.Trainer;

namespace Cis490.WorkerNode.Node;

/// <summary>The <c>worker</c> command: a worker node that joins the cluster through its seeds, runs a
/// <see cref="WorkerNodeActor"/>, and joins again whenever it leaves, until a signal drains and stops it.</summary>
public static class WorkerNodeProgram
{
    /// <summary>The options of <c>worker</c>.</summary>
    /// <param name="Slots">Null: <c>cis490.worker.slots</c> from the HOCON.</param>
    /// <param name="WorkDir">Null: a folder named after the worker id under the system's temporary folder.</param>
    /// <param name="WorkerId">Null: the certificate's name with TLS, else the machine name and the node's port.</param>
    /// <param name="TlsDir">The enrolment folder (<c>--tls</c>); null: CIS490_TLS_DIR or cis490.tls.dir, else plain TCP (loopback only unless Insecure).</param>
    public sealed record Options(
        IReadOnlyList<string> Seeds, int Port, string Hostname, string? DataDir, int? Slots, string? WorkDir, string? WorkerId, string? ConfigFile,
        string? TlsDir = null, bool Insecure = false);

    public static Options Parse(CommandLine c)
    {
        var seeds = c.Require("seed").Split(',', StringSplitOptions.RemoveEmptyEntries);
        var port = c.GetInt("port");
        var hostname = c.Get("hostname")!;
        var dataDir = c.Get("data") is { } data ? Path.GetFullPath(data) : null;
        var slotsText = c.Get("slots");
        var workDir = c.Get("work-dir");
        var workerId = c.Get("worker-id");
        var config = c.Get("config");
        var tlsDir = c.Get("tls");
        var insecure = c.Flag("insecure");
        int? slots = null;
        if (slotsText is not null)
        {
            if (!int.TryParse(slotsText, out var n) || n < 1) throw new CliException($"--slots must be a positive integer, got '{slotsText}'");
            slots = n;
        }
        return new Options(seeds, port, hostname, dataDir, slots, workDir, workerId, config, tlsDir, insecure);
    }

    public static async Task<int> Run(Options o)
    {
        if (o.ConfigFile is not null && !File.Exists(o.ConfigFile)) throw new CliException($"--config {o.ConfigFile}: no such file");
        // --data is a pre-seeded data set; without one, every job's data set is pulled from the coordinator.
        if (o.DataDir is not null && !File.Exists(Path.Combine(o.DataDir, FeatureTable.FileName)))
            throw new CliException($"--data {o.DataDir} has no {FeatureTable.FileName}; make one with './cis490 data generate' and './cis490 data build --out {o.DataDir}', " +
                                   "or leave --data out to pull each job's data set from the coordinator");

        // --config FILE: the operator's HOCON over worker.conf (command-line options over both).
        string[] files = o.ConfigFile is null ? ["worker.conf"] : [Path.GetFullPath(o.ConfigFile), "worker.conf"];
        // Mutual TLS whenever the node is reachable beyond loopback (or --tls given); refused without it unless --insecure.
        var security = TransportSecurity.Decide(FleetRole.Worker, o.Hostname, o.TlsDir, o.Insecure,
            HoconLoader.Load(files).GetString(TransportSecurity.ConfigKey, ""));
        Console.Error.WriteLine($"worker: {security.Describe(o.Hostname)}");
        o = o with { Seeds = o.Seeds.Select(security.Seed).ToList() };
        var overrides = NodeRuntime.AddressOverrides(o.Hostname, o.Port, o.Seeds) + (o.Slots is null ? "" : $"\ncis490.worker.slots = {o.Slots}")
                        + "\n" + security.Overrides;
        var config = HoconLoader.Load(files, overrides)
            .WithFallback(ClusterSingleton.DefaultConfig())
            // The coordinator node runs DistributedPubSub (for ClusterClient); its mediator gossips to every member, so the worker
            // must know that serializer too, or it logs "Cannot find serializer with id [9]" for each gossip.
            .WithFallback(Akka.Cluster.Tools.PublishSubscribe.DistributedPubSub.DefaultConfig())
            .WithFallback(ActorMaterializer.DefaultConfig());
        // What this machine can really run, asked of the trainer itself at every start (nothing cached); none: exit, never register.
        var selfTest = await WorkerSelfTest.Run(o.WorkDir ?? Path.GetTempPath(), config.GetTimeSpan("cis490.worker.self-test-timeout"),
            line => Console.Error.WriteLine($"worker: {line}"));
        var capability = CapabilityDetector.Detect(selfTest);
        Console.Error.WriteLine($"worker: advertising {WorkerSelfTest.Describe(capability)}");
        var rejoinDelay = config.GetTimeSpan("cis490.worker.rejoin-delay");
        var keep = config.GetTimeSpan("cis490.worker.coordinator-lost-keep");
        var stopGrace = config.GetTimeSpan("cis490.worker.trainer-stop-grace");

        // Trainer processes outlive an actor system (downed, or left to find a restarted coordinator): the ending system's node
        // detaches them here and the next one adopts them. Those nobody adopts within coordinator-lost-keep are stopped here.
        var detached = new DetachedTrainers();
        using var sweeping = new CancellationTokenSource();
        var sweep = SweepLost(detached, keep, stopGrace, sweeping.Token);
        try
        {
            // One actor system per membership: when the node is downed, or no coordinator is reachable for a while, the system
            // ends and the node joins again through its seeds, until a signal asks it to stop.
            while (true)
            {
                var (stopping, id) = await RunOneMembership(o, config, security, capability, detached);
                // The same worker id in every membership: the coordinator matches the leases a new membership reports to it by id.
                o = o with { WorkerId = id };
                if (stopping) return 0;
                Console.Error.WriteLine($"worker {id}: left the cluster with {detached.Count} trainer(s) kept running; " +
                                        $"joining again through {string.Join(", ", o.Seeds)} in {rejoinDelay.TotalSeconds:F0} s");
                await Task.Delay(rejoinDelay);
            }
        }
        finally
        {
            await sweeping.CancelAsync();
            await sweep;
            // A signal while between memberships: nobody can take these leases back; the coordinator re-leases them when its
            // grace or the heartbeat deadline ends.
            foreach (var t in detached.TakeAll())
            {
                Console.Error.WriteLine($"worker {o.WorkerId}: stopping: killing the detached trainer of job {t.Lease.JobId} lease {t.Lease.LeaseId}");
                t.Abandon(stopGrace);
            }
        }
    }

    /// <summary>Stops the detached trainers that no coordinator has confirmed for <paramref name="keep"/> while no actor system
    /// adopted them (the seeds do not answer), loudly: the node actor does the same for the trainers it holds.</summary>
    private static async Task SweepLost(DetachedTrainers detached, TimeSpan keep, TimeSpan stopGrace, CancellationToken stop)
    {
        using var tick = new PeriodicTimer(TimeSpan.FromSeconds(Math.Clamp(keep.TotalSeconds / 10, 1, 30)));
        try
        {
            while (await tick.WaitForNextTickAsync(stop))
                foreach (var t in detached.TakeLostBefore(DateTimeOffset.UtcNow - keep))
                {
                    Console.Error.WriteLine($"ERROR: job {t.Lease.JobId} lease {t.Lease.LeaseId}: NO COORDINATOR has confirmed this lease for " +
                                            $"{keep} (coordinator-lost-keep, since {t.LostSince:u}); killing its trainer process {t.Process.Id}. " +
                                            "Check that a coordinator is running and that this worker's --seed reaches it.");
                    t.Abandon(stopGrace);
                }
        }
        catch (OperationCanceledException) { }
    }

    /// <summary>Runs one actor system until it terminates. Stopping: a signal ended it (the node should stop, not rejoin).</summary>
    private static async Task<(bool Stopping, string WorkerId)> RunOneMembership(Options o, Akka.Configuration.Config config,
        TransportSecurity security, Protocols.Workers.WorkerCapability capability, DetachedTrainers detached)
    {
        var stopping = false;
        var bootstrap = Akka.Actor.BootstrapSetup.Create().WithConfig(config);
        var system = ActorSystem.Create(config.GetString("cis490.system-name"),
            security.Setup() is { } tls ? Akka.Actor.Setup.ActorSystemSetup.Create(bootstrap, tls) : Akka.Actor.Setup.ActorSystemSetup.Create(bootstrap));
        if (security.Insecure) system.Log.Warning(security.Describe(o.Hostname));
        else system.Log.Info(security.Describe(o.Hostname));
        CoordinatedShutdown.Get(system).AddTask(CoordinatedShutdown.PhaseBeforeServiceUnbind, "note-signal", () =>
        {
            stopping |= CoordinatedShutdown.Get(system).ShutdownReason is CoordinatedShutdown.ClrExitReason;
            return Task.FromResult(Akka.Done.Instance);
        });
        var signals = NodeRuntime.ShutdownOnSignals(system);
        var self = Cluster.Get(system).SelfAddress;
        // With TLS the worker is named by its certificate unless told otherwise.
        var id = o.WorkerId ?? security.Enrolment?.Name ?? $"{Environment.MachineName}-{self.Port}";
        var work = Path.GetFullPath(o.WorkDir ?? Path.Combine(Path.GetTempPath(), "cis490-work", id));
        var settings = WorkerSettings.From(config, id, o.DataDir, work);

        var proxy = system.ActorOf(ClusterSingletonProxy.Props("/user/job-coordinator",
            ClusterSingletonProxySettings.Create(system).WithRole("coordinator")), "job-coordinator-proxy");
        IActorRef? node = null;
        Cluster.Get(system).RegisterOnMemberUp(() =>
            node = system.ActorOf(WorkerNodeActor.Props(settings, capability, proxy, OsTrainerLauncher.Instance, detached), "worker"));
        // A signal drains the node before it leaves: no new leases, running jobs finish within the grace, the rest is handed
        // back. Not when the cluster downed the node or the coordinator is gone: nobody would take the hand-back.
        CoordinatedShutdown.Get(system).AddTask(CoordinatedShutdown.PhaseBeforeServiceUnbind, "drain", async () =>
        {
            if (node is null || CoordinatedShutdown.Get(system).ShutdownReason is not CoordinatedShutdown.ClrExitReason) return Akka.Done.Instance;
            await node.Ask<WorkerNodeActor.Drained>(WorkerNodeActor.Drain.Instance, settings.DrainGrace + TimeSpan.FromSeconds(15));
            return Akka.Done.Instance;
        });
        // Any other end (downed, coordinator gone): the trainers are detached, not killed, and the next membership adopts them.
        CoordinatedShutdown.Get(system).AddTask(CoordinatedShutdown.PhaseBeforeServiceUnbind, "detach-trainers", async () =>
        {
            if (node is null || CoordinatedShutdown.Get(system).ShutdownReason is CoordinatedShutdown.ClrExitReason) return Akka.Done.Instance;
            try
            {
                // Local and quick (each trainer hands over its state and stops); the bound only keeps a wedged actor from holding the exit.
                await node.Ask<WorkerNodeActor.TrainersDetached>(WorkerNodeActor.DetachTrainers.Instance, TimeSpan.FromSeconds(10));
            }
            catch (AskTimeoutException)
            {
                Console.Error.WriteLine($"worker {id}: trainers did not detach within 10 s; those not detached are killed with the actor system");
            }
            return Akka.Done.Instance;
        });
        NodeRuntime.AnnounceWhenUp(system, "worker", $"worker-id={id}");
        await system.WhenTerminated;
        foreach (var s in signals) s.Dispose();
        if (CoordinatedShutdown.Get(system).ShutdownReason is WorkerNodeActor.RegistrationRefusedReason refused)
            throw new WorkerStopped(refused.Message, 4);
        return (stopping, id);
    }
}

/// <summary>The node stops for good with <paramref name="exitCode"/>: a fault the operator must fix (the program prints the message).</summary>
public sealed class WorkerStopped(string message, int exitCode) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
