using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using Cis490.Coordinator.Artifacts;
using Cis490.Protocols;
using Cis490.Protocols.Artifacts;
using Cis490.Protocols.Jobs;
using Cis490.Protocols.Operator;
using Cis490.Protocols.Workers;
using Cis490.Shared.Manifest;
using static Cis490.Protocols.Jobs.JobEvents;

namespace Cis490.Coordinator.Jobs;

/// <summary>The cluster-singleton job coordinator: persists every job transition, hands out fenced leases, and completes jobs
/// once their artifact is stored. Its state is <see cref="JobTable"/>, a fold over its events; it replies only after persisting.</summary>
public sealed partial class JobCoordinator : ReceivePersistentActor, IWithTimers
{
    public const string PersistenceIdValue = "job-coordinator";

    /// <summary>The singleton manager's stop message (local only). Unlike a PoisonPill it waits in the mailbox behind a persist in
    /// flight, so every event this node wrote is in the journal before the next oldest node starts the singleton and replays it.</summary>
    public sealed class HandOver : INoSerializationVerificationNeeded
    {
        public static readonly HandOver Instance = new();
        private HandOver() { }
    }

    private sealed class CheckLeases : INoSerializationVerificationNeeded
    {
        public static readonly CheckLeases Instance = new();
    }

    private sealed class Dispatch : INoSerializationVerificationNeeded
    {
        public static readonly Dispatch Instance = new();
    }

    /// <summary>A registered worker node as the coordinator sees it (volatile: workers re-register after a restart).</summary>
    private sealed record WorkerEntry(string WorkerId, IActorRef Ref, WorkerCapability Capability, int Slots, DateTimeOffset LastSeen, bool Draining);

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly CoordinatorSettings _settings;
    private readonly Operator.OperatorToken _token;
    private readonly Dictionary<string, WorkerEntry> _workers = new();
    private readonly Dictionary<string, DateTimeOffset> _lastBeat = new();
    private readonly Dictionary<string, TrainingProgress> _progress = new();
    private IActorRef _store = ActorRefs.Nobody;
    /// <summary>The table every decision is made against: it moves on as soon as an event is decided, so the next command sees
    /// it while the journal writes in the background (many writes share one round trip). Nothing leaves the actor (a reply, a
    /// lease) before its event is written; if a write fails the actor stops and the guard recovers it from the journal.</summary>
    private JobTable _table = JobTable.Empty;

    /// <summary>The events the journal has confirmed, folded: what snapshots are made of.</summary>
    private JobTable _persisted = JobTable.Empty;

    public override string PersistenceId => PersistenceIdValue;
    public ITimerScheduler Timers { get; set; } = null!;

    public JobCoordinator(CoordinatorSettings settings)
    {
        _settings = settings;
        _token = new Operator.OperatorToken(settings.OperatorToken);
        Recover<SnapshotOffer>(o => _table = _persisted = JobTable.FromSnapshot((JobTableSnapshot)o.Snapshot));
        Recover<ICoordinatorEvent>(e => _table = _persisted = _persisted.Apply(e)); // no snapshots while replaying
        Recover<RecoveryCompleted>(_ => OnRecovered());

        Command<OperatorProtocol.SubmitManifest>(SubmitManifest);
        Command<OperatorProtocol.ListJobs>(ListJobs);
        Command<OperatorProtocol.CancelJob>(m => Operate(m.JobId, m.Token, "cancel", id => _table.Cancel(id, m.Reason, DateTimeOffset.UtcNow)));
        Command<OperatorProtocol.RequeueJob>(m => Operate(m.JobId, m.Token, "requeue", id => _table.Requeue(id, DateTimeOffset.UtcNow)));
        QueryCommands();
        Command<WorkerProtocol.Register>(Register);
        Command<WorkerProtocol.LeaseDeclined>(m => EndLease(m.JobId, m.LeaseId, $"declined by worker: {m.Reason}", countsAsAttempt: false));
        Command<TrainerProtocol.Started>(Started);
        Command<TrainerProtocol.Heartbeat>(Heartbeat);
        Command<TrainerProtocol.Failed>(m => EndLease(m.JobId, m.LeaseId, m.Error, countsAsAttempt: true));
        Command<ArtifactProtocol.OfferUpload>(OfferUpload);
        Command<ArtifactStore.Stored>(Stored);
        Command<Terminated>(WorkerGone);
        Command<CheckLeases>(_ =>
        {
            ExpireLeases();
            DispatchWork(); // jobs whose retry backoff or prefer_cuda wait is over
        });
        Command<Dispatch>(_ => DispatchWork());
        // Stop only once every write in flight is in the journal: the next node replays it.
        Command<HandOver>(_ => DeferAsync(HandOver.Instance, _ => Context.Stop(Self)));
        Command<SaveSnapshotSuccess>(s =>
        {
            // Everything up to the snapshot is in it: older events and snapshots only slow recovery down.
            DeleteMessages(s.Metadata.SequenceNr);
            DeleteSnapshots(new SnapshotSelectionCriteria(s.Metadata.SequenceNr - 1));
        });
        Command<SaveSnapshotFailure>(f => _log.Warning("Snapshot at event {0} failed: {1}; recovery replays more events until the next one", f.Metadata.SequenceNr, f.Cause.Message));
        Command<DeleteMessagesSuccess>(_ => { });
        Command<DeleteMessagesFailure>(f => _log.Warning("Deleting events behind a snapshot failed: {0}", f.Cause.Message));
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(f => _log.Warning("Deleting old snapshots failed: {0}", f.Cause.Message));
    }

    /// <summary>Decides <paramref name="e"/>: the table moves on now, the event is written in the background, and
    /// <paramref name="then"/> (replies, leases, logs) runs once it is in the journal.</summary>
    private void Commit<TEvent>(TEvent e, Action<TEvent> then) where TEvent : ICoordinatorEvent => CommitAll([e], then);

    /// <summary><see cref="Commit{TEvent}"/> for several events, written together.</summary>
    private void CommitAll<TEvent>(IReadOnlyList<TEvent> events, Action<TEvent> then) where TEvent : ICoordinatorEvent
    {
        foreach (var e in events) _table = _table.Apply(e);
        Written(events, then);
    }

    /// <summary>Writes events already applied to <see cref="_table"/>; <paramref name="then"/> runs for each once written.</summary>
    private void Written<TEvent>(IReadOnlyList<TEvent> events, Action<TEvent> then) where TEvent : ICoordinatorEvent =>
        PersistAllAsync(events, e =>
        {
            _persisted = _persisted.Apply(e);
            // Every snapshot-every events, a snapshot of what is written (never of decisions still in flight).
            if (_settings.SnapshotEvery > 0 && LastSequenceNr % _settings.SnapshotEvery == 0)
                SaveSnapshot(_persisted.ToSnapshot());
            then(e);
        });

    public static Props Props(CoordinatorSettings settings) => Akka.Actor.Props.Create(() => new JobCoordinator(settings));

    private void OnRecovered()
    {
        _store = Context.ActorOf(ArtifactStore.Props(_settings.ModelsDir, _settings.UploadTimeout), "artifact-store");
        // Recovered leases get a full heartbeat deadline from now: their workers re-register and resume heartbeating, or expire.
        var now = DateTimeOffset.UtcNow;
        foreach (var job in _table.LiveLeases) _lastBeat[job.JobId] = now;
        Timers.StartPeriodicTimer("check-leases", CheckLeases.Instance, _settings.LeaseCheckInterval);
        if (_settings.ManifestPath is not null) Self.Tell(LoadManifestAtStart.Instance);
        _log.Info("JobCoordinator recovered {0} jobs ({1} live leases, last lease id {2})",
            _table.Jobs.Count, _table.LiveLeases.Count(), _table.LastLeaseId);
    }

    private void Forget(string jobId)
    {
        _lastBeat.Remove(jobId);
        _progress.Remove(jobId);
    }
}
