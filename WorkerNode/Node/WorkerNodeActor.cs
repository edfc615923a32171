using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Cis490.Protocols.Jobs;
using Cis490.Protocols.Workers;
using Cis490.WorkerNode.Trainer;

namespace Cis490.WorkerNode.Node;

/// <summary>A worker node: registers with the coordinator (and re-registers, which survives coordinator restarts), takes leases
/// while it has free slots, and supervises one <see cref="TrainerActor"/> per lease.</summary>
public sealed class WorkerNodeActor : ReceiveActor, IWithTimers
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

    private sealed record Running(long LeaseId, IActorRef Trainer, bool Done);

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly WorkerSettings _settings;
    private readonly WorkerCapability _capability;
    private readonly IActorRef _coordinator;
    private readonly ITrainerLauncher _launcher;
    private readonly Dictionary<string, Running> _running = new();
    private IActorRef? _drainRequester;
    private int _finishedWhileDraining;
    private readonly HashSet<string> _handedBack = [];

    public ITimerScheduler Timers { get; set; } = null!;

    public WorkerNodeActor(WorkerSettings settings, WorkerCapability capability, IActorRef coordinator, ITrainerLauncher launcher)
    {
        _settings = settings;
        _capability = capability;
        _coordinator = coordinator;
        _launcher = launcher;

        Receive<RegisterTick>(_ => Register());
        Receive<WorkerProtocol.Registered>(m => _log.Debug("Registered with the coordinator ({0} running lease(s) there)", m.RunningLeases));
        Receive<WorkerProtocol.Lease>(TakeLease);
        Receive<WorkerProtocol.RevokeLease>(Revoke);
        Receive<TrainerDone>(m =>
        {
            if (_running.TryGetValue(m.JobId, out var r) && r.LeaseId == m.LeaseId) _running[m.JobId] = r with { Done = true };
        });
        Receive<Terminated>(TrainerStopped);
        Receive<Drain>(_ => StartDrain());
        Receive<DrainGraceOver>(_ => HandBack());
        Receive<ClusterEvent.CurrentClusterState>(s => WatchCoordinators(s.Members.Any(IsCoordinator)));
        Receive<ClusterEvent.IMemberEvent>(_ => WatchCoordinators(Cluster.Get(Context.System).State.Members.Any(m => IsCoordinator(m) && m.Status == MemberStatus.Up)));
        Receive<CoordinatorAbsent>(_ =>
        {
            _log.Warning("No coordinator in the cluster for {0}; leaving to join again through the seeds", _settings.CoordinatorAbsentTimeout);
            CoordinatedShutdown.Get(Context.System).Run(CoordinatorGoneReason.Instance);
        });
    }

    private static bool IsCoordinator(Member m) => m.HasRole("coordinator") && m.Status is MemberStatus.Up or MemberStatus.WeaklyUp;

    private void WatchCoordinators(bool present)
    {
        if (present) Timers.Cancel("coordinator-absent");
        else if (!Timers.IsTimerActive("coordinator-absent"))
            Timers.StartSingleTimer("coordinator-absent", CoordinatorAbsent.Instance, _settings.CoordinatorAbsentTimeout);
    }

    /// <param name="launcher">Starts each lease's trainer process: <see cref="OsTrainerLauncher.Instance"/> in production.</param>
    public static Props Props(WorkerSettings settings, WorkerCapability capability, IActorRef coordinator, ITrainerLauncher launcher) =>
        Akka.Actor.Props.Create(() => new WorkerNodeActor(settings, capability, coordinator, launcher));

    protected override void PreStart()
    {
        Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot, typeof(ClusterEvent.IMemberEvent));
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

    private void Register()
    {
        var held = _running.Select(r => new WorkerProtocol.HeldLease(r.Key, r.Value.LeaseId)).ToList();
        _coordinator.Tell(new WorkerProtocol.Register(_settings.WorkerId, _capability, _settings.Slots, held, Draining: _drainRequester is not null));
    }

    private void TakeLease(WorkerProtocol.Lease lease)
    {
        // A trainer whose lease has reached its outcome (Done) no longer holds a slot, though its actor may not have stopped yet:
        // the coordinator grants the next lease as soon as it records the completion, which can arrive before that stop.
        var busy = _running.Count(r => !r.Value.Done);
        if (_running.ContainsKey(lease.JobId) || busy >= _settings.Slots || _drainRequester is not null)
        {
            Sender.Tell(new WorkerProtocol.LeaseDeclined(lease.JobId, lease.LeaseId,
                _drainRequester is not null ? "the worker is draining (shutting down)"
                : _running.ContainsKey(lease.JobId) ? "already running this job" : $"all {_settings.Slots} slot(s) busy"));
            return;
        }
        _log.Info("Lease {0}: training job {1} ({2}/{3} {4})", lease.LeaseId, lease.JobId, lease.Job.Model, lease.Job.Mode, lease.Job.HyperJson);
        var trainer = Context.ActorOf(TrainerActor.Props(lease, _settings, _capability, _coordinator, _launcher), $"trainer-{lease.LeaseId}");
        Context.Watch(trainer);
        _running[lease.JobId] = new Running(lease.LeaseId, trainer, false);
    }

    private void Revoke(WorkerProtocol.RevokeLease m)
    {
        if (!_running.TryGetValue(m.JobId, out var r) || r.LeaseId != m.LeaseId) return;
        _log.Warning("Lease {0} of job {1} revoked: {2}; stopping its trainer", m.LeaseId, m.JobId, m.Reason);
        _running[m.JobId] = r with { Done = true }; // the coordinator already ended it: nothing to report
        Context.Stop(r.Trainer);
    }

    private void TrainerStopped(Terminated t)
    {
        var (jobId, run) = _running.FirstOrDefault(kv => kv.Value.Trainer.Equals(t.ActorRef));
        if (jobId is null) return;
        _running.Remove(jobId);
        if (!run.Done)
            _coordinator.Tell(new TrainerProtocol.Failed(jobId, run.LeaseId, $"trainer on worker {_settings.WorkerId} stopped unexpectedly (see the worker's log)"));
        Register(); // a slot is free: say so at once rather than at the next tick
        if (_drainRequester is not null)
        {
            if (!_handedBack.Contains(jobId)) _finishedWhileDraining++;
            FinishDrainIfIdle();
        }
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
