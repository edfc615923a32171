using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Cis490.Protocols;
using Cis490.Protocols.Jobs;
using Cis490.Protocols.Workers;
using Cis490.WorkerNode.Trainer;

namespace Cis490.WorkerNode.Node;

/// <summary>A worker node: registers with the coordinator (and re-registers, which survives coordinator restarts), takes leases
/// while it has free slots, and supervises one <see cref="TrainerActor"/> per lease.</summary>
public sealed partial class WorkerNodeActor : ReceiveActor, IWithTimers
{
    private sealed class RegisterTick : INoSerializationVerificationNeeded
    {
        public static readonly RegisterTick Instance = new();
    }

    private sealed class CoordinatorAbsent : INoSerializationVerificationNeeded
    {
        public static readonly CoordinatorAbsent Instance = new();
    }

    /// <summary>Why the node leaves when the coordinator is gone for good.</summary>
    public sealed class CoordinatorGoneReason : CoordinatedShutdown.Reason
    {
        public static readonly CoordinatorGoneReason Instance = new();
        public override int ExitCode => 0;
    }

    /// <summary>Asked by coordinated shutdown on SIGTERM: take no new leases, let running jobs finish within the drain grace,
    /// hand back the rest, then answer <see cref="Drained"/>.</summary>
    public sealed class Drain : INoSerializationVerificationNeeded
    {
        public static readonly Drain Instance = new();
    }

    /// <summary>The node holds no lease any more: it may leave the cluster.</summary>
    public sealed record Drained(int Finished, int HandedBack) : INoSerializationVerificationNeeded;

    private sealed class DrainGraceOver : INoSerializationVerificationNeeded
    {
        public static readonly DrainGraceOver Instance = new();
    }

    /// <summary>From a trainer: its lease reached an outcome the coordinator acknowledged (or it no longer owns the lease).</summary>
    public sealed record TrainerDone(string JobId, long LeaseId) : INoSerializationVerificationNeeded;

    /// <summary>Asked by coordinated shutdown when the actor system ends for any reason but a signal (downed, coordinator gone):
    /// hand every running trainer process over to the process-wide <see cref="DetachedTrainers"/>, then answer
    /// <see cref="TrainersDetached"/>. The next actor system's node adopts them.</summary>
    public sealed class DetachTrainers : INoSerializationVerificationNeeded
    {
        public static readonly DetachTrainers Instance = new();
    }

    /// <summary>Every trainer has detached or stopped; <paramref name="Detached"/> of them were handed over.</summary>
    public sealed record TrainersDetached(int Detached) : INoSerializationVerificationNeeded;

    private sealed record KeepOver(string JobId, long LeaseId) : INoSerializationVerificationNeeded;

    /// <param name="LostSince">Since when no coordinator has confirmed the lease (null: confirmed, or granted by a live one).</param>
    /// <param name="Listed">Listed in a registration sent since it was last lost: a <c>Registered</c> reply then confirms it.</param>
    /// <param name="Detaching">Told to detach: its stop is no failure.</param>
    private sealed record Running(long LeaseId, IActorRef Trainer, bool Done, DateTimeOffset? LostSince = null, bool Listed = false, bool Detaching = false);

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly WorkerSettings _settings;
    private readonly WorkerCapability _capability;
    private readonly IActorRef _coordinator;
    private readonly ITrainerLauncher _launcher;
    private readonly DetachedTrainers _detached;
    private readonly Dictionary<string, Running> _running = new();
    private IActorRef? _drainRequester;
    private IActorRef _dataSets = ActorRefs.Nobody;

    /// <summary>The highest lease id this node has received: a lease up to it that the node does not list is not running here,
    /// and the coordinator ends it at once (a newer one may still be on its way, so it is judged only up to this id).</summary>
    private long _lastLeaseSeen;
    private IActorRef? _detachRequester;
    private int _finishedWhileDraining;
    private readonly HashSet<string> _handedBack = [];
    private readonly HashSet<UniqueAddress> _coordinators = [];
    private DateTimeOffset? _refusedSince;
    private readonly HashSet<UniqueAddress> _unreachable = [];
    private bool? _coordinatorReachable; // null until the first cluster snapshot

    public ITimerScheduler Timers { get; set; } = null!;

    public WorkerNodeActor(WorkerSettings settings, WorkerCapability capability, IActorRef coordinator, ITrainerLauncher launcher, DetachedTrainers detached)
    {
        _settings = settings;
        _capability = capability;
        _coordinator = coordinator;
        _launcher = launcher;
        _detached = detached;

        Receive<RegisterTick>(_ => Register());
        Receive<WorkerProtocol.Registered>(m =>
        {
            _refusedSince = null;
            Confirmed(m);
        });
        Receive<WorkerProtocol.RegistrationRefused>(RegistrationRefused);
        // Leases and revokes are obeyed only from the coordinator: the singleton on a coordinator-role member, or the proxy.
        Receive<WorkerProtocol.Lease>(m => { if (FromCoordinator(m)) TakeLease(m); });
        Receive<WorkerProtocol.RevokeLease>(m => { if (FromCoordinator(m)) Revoke(m); });
        Receive<TrainerDone>(m =>
        {
            if (_running.TryGetValue(m.JobId, out var r) && r.LeaseId == m.LeaseId) _running[m.JobId] = r with { Done = true };
        });
        Receive<Terminated>(TrainerStopped);
        Receive<Drain>(_ => StartDrain());
        Receive<DrainGraceOver>(_ => HandBack());
        Receive<DetachTrainers>(_ => StartDetach());
        Receive<KeepOver>(GiveUp);
        Receive<ClusterEvent.CurrentClusterState>(s =>
        {
            _coordinators.Clear();
            _coordinators.UnionWith(s.Members.Where(IsCoordinator).Select(m => m.UniqueAddress));
            _unreachable.Clear();
            _unreachable.UnionWith(s.Unreachable.Select(m => m.UniqueAddress));
            CoordinatorsChanged();
        });
        Receive<ClusterEvent.IMemberEvent>(e =>
        {
            if (IsCoordinator(e.Member)) _coordinators.Add(e.Member.UniqueAddress);
            else _coordinators.Remove(e.Member.UniqueAddress);
            CoordinatorsChanged();
        });
        Receive<ClusterEvent.UnreachableMember>(e =>
        {
            _unreachable.Add(e.Member.UniqueAddress);
            CoordinatorsChanged();
        });
        Receive<ClusterEvent.ReachableMember>(e =>
        {
            _unreachable.Remove(e.Member.UniqueAddress);
            CoordinatorsChanged();
        });
        Receive<CoordinatorAbsent>(_ =>
        {
            _log.Warning("No reachable coordinator for {0}; leaving to join again through the seeds (trainers keep running)", _settings.CoordinatorAbsentTimeout);
            CoordinatedShutdown.Get(Context.System).Run(CoordinatorGoneReason.Instance);
        });
    }

    private static bool IsCoordinator(Member m) => m.HasRole("coordinator") && m.Status is MemberStatus.Up or MemberStatus.WeaklyUp;

    /// <summary>A coordinator is reachable when some coordinator-role member is Up and not unreachable. Losing it starts the clock
    /// of <c>coordinator-absent-timeout</c> (then this actor system leaves, to join a restarted coordinator through the seeds) and
    /// of <c>coordinator-lost-keep</c> for every running lease (then its trainer stops, unless a coordinator confirms it first).</summary>
    private void CoordinatorsChanged()
    {
        var reachable = _coordinators.Except(_unreachable).Any();
        var was = _coordinatorReachable;
        _coordinatorReachable = reachable;
        if (reachable)
        {
            Timers.Cancel("coordinator-absent");
            if (was == false)
            {
                _log.Info("A coordinator is reachable again; resuming heartbeats and registering");
                foreach (var r in _running.Values) r.Trainer.Tell(new TrainerActor.CoordinatorReachable(true));
                Register();
            }
            return;
        }
        if (!Timers.IsTimerActive("coordinator-absent"))
            Timers.StartSingleTimer("coordinator-absent", CoordinatorAbsent.Instance, _settings.CoordinatorAbsentTimeout);
        if (was != true) return;
        var now = DateTimeOffset.UtcNow;
        _log.Warning("No coordinator reachable; {0} trainer(s) keep running, their progress held, for up to {1} unless a coordinator confirms them",
            _running.Count(r => !r.Value.Done), _settings.CoordinatorLostKeep);
        foreach (var (jobId, r) in _running.Where(r => !r.Value.Done).ToList())
        {
            r.Trainer.Tell(new TrainerActor.CoordinatorReachable(false));
            if (r.LostSince is not null) continue;
            _running[jobId] = r with { LostSince = now, Listed = false };
            StartKeepTimer(jobId, r.LeaseId, now);
        }
    }

    /// <param name="launcher">Starts each lease's trainer process: <see cref="OsTrainerLauncher.Instance"/> in production.</param>
    /// <param name="detached">The process-wide trainers between actor systems: adopted at start, filled by <see cref="DetachTrainers"/>.</param>
    public static Props Props(WorkerSettings settings, WorkerCapability capability, IActorRef coordinator, ITrainerLauncher launcher, DetachedTrainers detached) =>
        Akka.Actor.Props.Create(() => new WorkerNodeActor(settings, capability, coordinator, launcher, detached));

    protected override void PreStart()
    {
        Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot,
            typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));
        _dataSets = Context.ActorOf(Data.DataSetCache.Props(_settings.DataCacheDir, _settings.DataDir, _settings.Cache, _coordinator), "data-sets");
        Adopt();
        Register();
        Timers.StartPeriodicTimer("register", RegisterTick.Instance, _settings.RegisterInterval);
    }

    protected override void PostStop() => Cluster.Get(Context.System).Unsubscribe(Self);

    /// <summary>A trainer that throws is stopped, never restarted: its process is killed in PostStop and the attempt reported failed.</summary>
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(e =>
    {
        _log.Error(e, "Trainer failed");
        return Directive.Stop;
    });

    /// <summary>Takes up the trainers a previous actor system of this process detached: they hold slots, are listed in the first
    /// registration (the coordinator re-attaches their leases, or revokes those it gave away meanwhile), and heartbeat again.</summary>
    private void Adopt()
    {
        foreach (var d in _detached.TakeAll())
        {
            if (_running.ContainsKey(d.Lease.JobId))
            {
                _log.Error("Job {0}: two detached trainers (lease {1} and {2}); stopping lease {2}'s", d.Lease.JobId, _running[d.Lease.JobId].LeaseId, d.Lease.LeaseId);
                d.Abandon(_settings.TrainerStopGrace);
                continue;
            }
            var trainer = Context.ActorOf(TrainerActor.Adopt(d, _settings, _capability, _coordinator), $"trainer-{d.Lease.LeaseId}");
            Context.Watch(trainer);
            _running[d.Lease.JobId] = new Running(d.Lease.LeaseId, trainer, false, d.LostSince);
            StartKeepTimer(d.Lease.JobId, d.Lease.LeaseId, d.LostSince);
            _log.Info("Lease {0}: adopted the running trainer of job {1} (no coordinator has confirmed it since {2:u})", d.Lease.LeaseId, d.Lease.JobId, d.LostSince);
        }
    }

    private void StartKeepTimer(string jobId, long leaseId, DateTimeOffset lostSince)
    {
        var left = lostSince + _settings.CoordinatorLostKeep - DateTimeOffset.UtcNow;
        Timers.StartSingleTimer($"keep-{jobId}", new KeepOver(jobId, leaseId), left > TimeSpan.Zero ? left : TimeSpan.Zero);
    }

    /// <summary>A coordinator answered a registration: the leases that registration listed, and that it did not revoke (a revoke
    /// comes before the answer), are its again.</summary>
    private void Confirmed(WorkerProtocol.Registered m)
    {
        _log.Debug("Registered with the coordinator ({0} running lease(s) there)", m.RunningLeases);
        foreach (var (jobId, r) in _running.Where(r => r.Value is { LostSince: not null, Listed: true, Done: false }).ToList())
        {
            _log.Info("Lease {0} of job {1}: confirmed by the coordinator after {2:F0} s without one", r.LeaseId, jobId,
                (DateTimeOffset.UtcNow - r.LostSince!.Value).TotalSeconds);
            _running[jobId] = r with { LostSince = null };
            Timers.Cancel($"keep-{jobId}");
        }
    }

    /// <summary><c>coordinator-lost-keep</c> is over and no coordinator confirmed the lease: its trainer stops (the coordinator,
    /// when it comes back, ends the lease or finds it gone).</summary>
    private void GiveUp(KeepOver m)
    {
        if (!_running.TryGetValue(m.JobId, out var r) || r.LeaseId != m.LeaseId || r.Done || r.LostSince is null) return;
        _log.Error("Job {0} lease {1}: NO COORDINATOR has confirmed this lease for {2} (coordinator-lost-keep, since {3:u}); stopping its trainer. " +
                   "Check that a coordinator is running and that this worker's --seed reaches it.", m.JobId, m.LeaseId, _settings.CoordinatorLostKeep, r.LostSince);
        _running[m.JobId] = r with { Done = true };
        Context.Stop(r.Trainer);
    }

    private void Register()
    {
        foreach (var (jobId, r) in _running.Where(r => !r.Value.Listed).ToList()) _running[jobId] = r with { Listed = true };
        var held = _running.Select(r => new WorkerProtocol.HeldLease(r.Key, r.Value.LeaseId)).ToList();
        _coordinator.Tell(new WorkerProtocol.Register(_settings.WorkerId, _capability, _settings.Slots, held, Draining: _drainRequester is not null,
            LastLeaseSeen: _lastLeaseSeen));
    }

    private void TakeLease(WorkerProtocol.Lease lease)
    {
        if (!Cis490.Shared.Jobs.JobIds.IsWellFormed(lease.JobId))
        {
            // Folders are made (and removed) from the job id: only a well-formed one may name them.
            _log.Error("Declined lease {0}: its job id is not 64 hex digits, so no folder is made from it", lease.LeaseId);
            Sender.Tell(new WorkerProtocol.LeaseDeclined(lease.JobId, lease.LeaseId, "malformed job id (not 64 hex digits)"));
            return;
        }
        _lastLeaseSeen = Math.Max(_lastLeaseSeen, lease.LeaseId);
        // A trainer whose lease has reached its outcome (Done) no longer holds a slot, though its actor may not have stopped yet:
        // the coordinator grants the next lease as soon as it records the completion, which can arrive before that stop.
        var busy = _running.Count(r => !r.Value.Done);
        if (_running.ContainsKey(lease.JobId) || busy >= _settings.Slots || _drainRequester is not null || _detachRequester is not null)
        {
            Sender.Tell(new WorkerProtocol.LeaseDeclined(lease.JobId, lease.LeaseId,
                _drainRequester is not null ? "the worker is draining (shutting down)"
                : _detachRequester is not null ? "the worker is leaving the cluster to join again"
                : _running.ContainsKey(lease.JobId) ? "already running this job" : $"all {_settings.Slots} slot(s) busy"));
            return;
        }
        _log.Info("Lease {0}: training job {1} ({2}/{3} {4}) on data set {5}", lease.LeaseId, lease.JobId, lease.Job.Model, lease.Job.Mode, lease.Job.HyperJson,
            lease.Job.DataSet ?? $"(none bound: --data {_settings.DataDir})");
        var trainer = Context.ActorOf(TrainerActor.Props(lease, _settings, _capability, _coordinator, _launcher, _dataSets), $"trainer-{lease.LeaseId}");
        Context.Watch(trainer);
        _running[lease.JobId] = new Running(lease.LeaseId, trainer, false);
    }

    private void Revoke(WorkerProtocol.RevokeLease m)
    {
        if (!_running.TryGetValue(m.JobId, out var r) || r.LeaseId != m.LeaseId) return;
        _log.Warning("Lease {0} of job {1} revoked: {2}; stopping its trainer", m.LeaseId, m.JobId, m.Reason);
        _running[m.JobId] = r with { Done = true }; // the coordinator already ended it: nothing to report
        Timers.Cancel($"keep-{m.JobId}");
        Context.Stop(r.Trainer);
    }

    private void TrainerStopped(Terminated t)
    {
        var (jobId, run) = _running.FirstOrDefault(kv => kv.Value.Trainer.Equals(t.ActorRef));
        if (jobId is null) return;
        _running.Remove(jobId);
        Timers.Cancel($"keep-{jobId}");
        if (_detachRequester is not null)
        {
            // Detached, or it finished on its own meanwhile (and said so): either way nothing to report from here.
            if (_running.Count == 0) FinishDetach();
            return;
        }
        if (!run.Done)
            _coordinator.Tell(new TrainerProtocol.Failed(jobId, run.LeaseId, $"trainer on worker {_settings.WorkerId} stopped unexpectedly (see the worker's log)"));
        Register(); // a slot is free: say so at once rather than at the next tick
        if (_drainRequester is not null)
        {
            if (!_handedBack.Contains(jobId)) _finishedWhileDraining++;
            FinishDrainIfIdle();
        }
    }

    private void StartDetach()
    {
        if (_detachRequester is not null) return;
        _detachRequester = Sender;
        var now = DateTimeOffset.UtcNow;
        foreach (var (jobId, r) in _running.Where(r => !r.Value.Done).ToList())
        {
            _running[jobId] = r with { Detaching = true };
            r.Trainer.Tell(new TrainerActor.Detach(_detached, r.LostSince ?? now));
        }
        _log.Warning("Actor system ending: detaching {0} running trainer(s); their processes keep running for the next membership",
            _running.Count(r => r.Value.Detaching));
        if (_running.Count == 0) FinishDetach();
    }

    private void FinishDetach()
    {
        Timers.CancelAll();
        _detachRequester!.Tell(new TrainersDetached(_detached.Count));
    }

    private void StartDrain()
    {
        if (_drainRequester is not null) return;
        _drainRequester = Sender;
        _log.Info("Draining: no new leases; {0} running job(s) get {1} to finish before they are handed back", _running.Count, _settings.DrainGrace);
        Register(); // tell the coordinator at once, so it stops granting
        if (_running.Count > 0) Timers.StartSingleTimer("drain-grace", DrainGraceOver.Instance, _settings.DrainGrace);
        FinishDrainIfIdle();
    }

    /// <summary>The grace is over: every job still running goes back to the coordinator (pending again, not a failed attempt).</summary>
    private void HandBack()
    {
        foreach (var (jobId, run) in _running.Where(r => !r.Value.Done).ToList())
        {
            _log.Warning("Drain grace over: handing job {0} (lease {1}) back to the coordinator and stopping its trainer", jobId, run.LeaseId);
            _coordinator.Tell(new WorkerProtocol.LeaseDeclined(jobId, run.LeaseId, $"worker {_settings.WorkerId} shut down (drain grace {_settings.DrainGrace} over)"));
            _running[jobId] = run with { Done = true };
            _handedBack.Add(jobId);
            Context.Stop(run.Trainer);
        }
        FinishDrainIfIdle();
    }

    private void FinishDrainIfIdle()
    {
        if (_drainRequester is null || _running.Count > 0) return;
        Timers.Cancel("drain-grace");
        _log.Info("Drained: {0} job(s) finished, {1} handed back; leaving the cluster", _finishedWhileDraining, _handedBack.Count);
        _drainRequester.Tell(new Drained(_finishedWhileDraining, _handedBack.Count));
    }
}
