using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Akka.Remote;
using Akka.Pattern;
using Akka.Persistence;
using Cis490.Coordinator.Artifacts;
using Cis490.Coordinator.DataSets;
using Cis490.Coordinator.Operator;
using Cis490.Coordinator.Persistence;
using Cis490.Coordinator.Telemetry;
using Cis490.Shared.Telemetry;
using Cis490.Protocols;
using Cis490.Protocols.Jobs;
using Cis490.Protocols.Operator;
using static Cis490.Coordinator.Jobs.CoordinatorCommands;
using static Cis490.Protocols.Jobs.JobEvents;

namespace Cis490.Coordinator.Jobs;

/// <summary>The cluster-singleton job coordinator. It decides nothing itself: each message becomes a command for
/// <see cref="CoordinatorState.Decide"/>, whose events it persists and whose effects (replies, leases, revocations, log lines)
/// it performs only once every one of those events is in the journal.</summary>
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

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly CoordinatorSettings _settings;
    private readonly JobLogBuffer _logs;
    private readonly SnapshotSchedule _snapshots;

    /// <summary>The state every decision is made against: it moves on as soon as a command is decided, so the next command sees
    /// it while the journal writes in the background (many writes share one round trip).</summary>
    private CoordinatorState _state;

    /// <summary>The job table as the journal has confirmed it: what snapshots are made of. Not a second fold of the events: each
    /// decision keeps the table it left (<see cref="Held.TableAfter"/>), and a written batch's last one is exactly what its
    /// events and every earlier one's make (the table changes through events only).</summary>
    private JobTable _persisted = JobTable.Empty;

    /// <summary>Decided commands waiting for the journal: one write in flight at a time, everything decided meanwhile goes in the
    /// next one (<see cref="GroupCommit{THeld}"/>).</summary>
    private readonly GroupCommit<Held> _commit;

    /// <summary>Events handed to the journal and not yet confirmed.</summary>
    private int _writesInFlight;

    /// <summary>A decided command's effects and whom they answer, held until its events are written; the job table after it, and
    /// the job each of its events is about as it was before it (for the metrics and spans of what is written).</summary>
    private sealed record Held(IReadOnlyList<Effect> Effects, IActorRef Requester, JobTable TableAfter, IReadOnlyList<JobState?> JobsBefore);

    /// <summary>The worker actors commands came from, by the key decisions name them with (<see cref="Key"/>).</summary>
    private readonly Dictionary<string, IActorRef> _endpoints = new(StringComparer.Ordinal);

    private IActorRef _store = ActorRefs.Nobody;
    private IActorRef _dataSets = ActorRefs.Nobody;

    /// <summary>This node's record of the coordinator's starts and failures (shared with the operator endpoint's health answer).</summary>
    private readonly CoordinatorRestarts _restarts;

    /// <summary>Stopping because of a hand-over, not a failure.</summary>
    private bool _handingOver;

    /// <summary>Since this incarnation started (its recovery time), and since the snapshot in flight was asked for.</summary>
    private readonly System.Diagnostics.Stopwatch _started = System.Diagnostics.Stopwatch.StartNew();
    private long _snapshotAsked;
    private readonly RecoveryPhases _recovery = new();

    /// <summary>This incarnation's report of the job table to the <c>cis490_jobs</c> gauge (read at scrape time).</summary>
    private IDisposable? _jobsGauge;

    public override string PersistenceId => PersistenceIdValue;
    public ITimerScheduler Timers { get; set; } = null!;

    public JobCoordinator(CoordinatorSettings settings)
    {
        _settings = settings;
        _logs = new JobLogBuffer(settings.JobLogLines, settings.JobLogJobs);
        _snapshots = new SnapshotSchedule(settings.SnapshotEvery, settings.SnapshotTableFraction, settings.SnapshotTimeShare);
        _state = CoordinatorState.Initial(CoordinatorPolicy.From(settings));
        _commit = new GroupCommit<Held>(settings.WriteBatchMaxEvents);
        _restarts = CoordinatorRestarts.Get(Context.System);
        _restarts.Starting();

        Recover<SnapshotOffer>(o =>
        {
            _recovery.SnapshotOffered();
            _persisted = JobTable.FromSnapshot((JobTableSnapshot)o.Snapshot);
            _recovery.SnapshotIndexed();
            _snapshots.RecoveredFrom();
        });
        // No snapshots while replaying; the replayed events count towards the next one.
        Recover<ICoordinatorEvent>(e =>
        {
            _persisted = _persisted.Apply(e);
            _recovery.Replayed();
            _snapshots.Written(1);
        });
        Recover<Batch>(b =>
        {
            foreach (var e in b.Events)
            {
                _persisted = _persisted.Apply(e);
                _recovery.Replayed();
            }
            _snapshots.Written(b.Events.Count);
        });
        Recover<RecoveryCompleted>(_ => OnRecovered());

        Command<Protocols.Workers.WorkerProtocol.Register>(m =>
        {
            _endpoints[Key(Sender)] = Sender;
            Handle(new Register(m, Key(Sender), Sender.Path.Address.ToString()), Sender);
        });
        Command<Protocols.Workers.WorkerProtocol.RequestLease>(m => Handle(new LeaseRequest(m, Key(Sender)), Sender));
        Command<Terminated>(t =>
        {
            _endpoints.Remove(Key(t.ActorRef)); // that incarnation never comes back
            Handle(new EndpointGone(Key(t.ActorRef)), ActorRefs.Nobody);
        });
        Command<ArtifactStore.Stored>(m =>
        {
            Cis490Metrics.ArtifactsStored.Add(1, new KeyValuePair<string, object?>("deduplicated", m.Deduplicated ? "true" : "false"));
            if (!m.Deduplicated) Cis490Metrics.ArtifactBytesStored.Add(m.Offer.Bytes);
            Handle(new Stored(m.Offer, m.Deduplicated), m.ReplyTo);
        });
        Command<DataSetStore.Stored>(m => Handle(new DataSetStored(m.DataSet), m.ReplyTo));
        Command<OperatorQueries.GetHealth>(_ => Handle(new CheckHealth(LastSequenceNr, _writesInFlight + _commit.WaitingEvents), Sender));
        Command<CollectGarbage>(Collect);
        Command<WriteNext>(_ =>
        {
            _gathering = false;
            Flush();
        });
        Command<Tick>(_ => Handle(Tick.Instance, ActorRefs.Nobody));
        // A lost node's leases end on the first sign, long before the cluster removes it: the dropped connection (a killed
        // process resets it at once) or the failure detector's verdict. Fencing makes that safe for a node that was only paused.
        Command<ClusterEvent.UnreachableMember>(u => Handle(new NodeLost(u.Member.Address.ToString(), "is unreachable"), ActorRefs.Nobody));
        Command<DisassociatedEvent>(d => Handle(new NodeLost(d.RemoteAddress.ToString(), "dropped its connection"), ActorRefs.Nobody));
        // Stop only once every write in flight is in the journal: the next node replays it. What waits for the write in flight
        // goes to the journal now, behind it (Akka keeps the writes in order); from here on every command is written at once.
        Command<HandOver>(_ =>
        {
            _handingOver = true;
            if (_commit.TakeAll() is { } waiting) Write(waiting);
            DeferAsync(HandOver.Instance, _ => Context.Stop(Self));
        });
        Command<SaveSnapshotSuccess>(s =>
        {
            _snapshots.Ended(_started.Elapsed);
            Cis490Metrics.SnapshotSave.Record(System.Diagnostics.Stopwatch.GetElapsedTime(_snapshotAsked).TotalSeconds);
            // Everything up to the snapshot is in it: older events and snapshots only slow recovery down.
            DeleteMessages(s.Metadata.SequenceNr);
            DeleteSnapshots(new SnapshotSelectionCriteria(s.Metadata.SequenceNr - 1));
        });
        Command<SaveSnapshotFailure>(f =>
        {
            _snapshots.Ended(_started.Elapsed);
            _log.Warning("Snapshot at event {0} failed: {1}; recovery replays more events until the next one", f.Metadata.SequenceNr, f.Cause.Message);
        });
        Command<DeleteMessagesSuccess>(_ => { });
        Command<DeleteMessagesFailure>(f => _log.Warning("Deleting events behind a snapshot failed: {0}", f.Cause.Message));
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(f => _log.Warning("Deleting old snapshots failed: {0}", f.Cause.Message));
        // Every other message of our protocol (trainers, uploads, operator requests and queries) is a command as it is; one
        // this version does not know is refused by Decide with a typed error, never dropped.
        // Lease messages carry who sent them: only the worker a lease was granted to may speak for it (Decide checks).
        Command<IWithLease>(m =>
        {
            if (m is TrainerProtocol.Heartbeat) Cis490Metrics.HeartbeatsReceived.Add(1);
            Handle(new FromWorker(m, Sender.Path.ToStringWithAddress()), Sender);
        });
        Command<ICis490Message>(m => Handle(m, Sender));
    }

    /// <summary>The singleton's Props: this actor under Akka's own <see cref="BackoffSupervisor"/>, which starts it again after a
    /// growing pause when it stops unexpectedly (Akka.Persistence stops an actor whose journal write fails: a database restart
    /// or a full disk must not leave the fleet without a coordinator) and stops with it after <see cref="HandOver"/>, so the
    /// hand-over still waits for the writes in flight. Requests that arrive during a restart pause are answered "unavailable".</summary>
    /// <remarks>An exception in a handler stops the coordinator too (rather than Akka's default immediate restart), so every
    /// failure goes through the growing pause: a failure that repeats on every start cannot spin. Failed starts in a row are
    /// bounded by <see cref="CoordinatorSettings.RestartLimit"/> (<see cref="OnRecoveryFailure"/>).</remarks>
    public static Props SupervisedProps(CoordinatorSettings settings) =>
        BackoffSupervisor.Props(
            Backoff.OnStop(Props(settings), "coordinator", settings.RestartBackoffMin, settings.RestartBackoffMax, randomFactor: 0.2, maxNrOfRetries: -1)
                .WithSupervisorStrategy(new OneForOneStrategy(_ => Directive.Stop))
                .WithFinalStopMessage(m => m is HandOver)
                .WithReplyWhileStopped(new OperatorProtocol.OperatorError(
                    "the coordinator is restarting after a failure (see its node's log); try again in a few seconds", ErrorKind.Unavailable)));

    public static Props Props(CoordinatorSettings settings) => Akka.Actor.Props.Create(() => new JobCoordinator(settings));

    protected override void PreStart()
    {
        base.PreStart();
        if (((ExtendedActorSystem)Context.System).Provider is not ClusterActorRefProvider) return; // a local test system
        Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.UnreachableMember));
        Context.System.EventStream.Subscribe(Self, typeof(DisassociatedEvent));
    }

    protected override void PostStop()
    {
        if (((ExtendedActorSystem)Context.System).Provider is ClusterActorRefProvider) Cluster.Get(Context.System).Unsubscribe(Self);
        Context.System.EventStream.Unsubscribe(Self);
        _restarts.Stopped(_handingOver);
        _jobsGauge?.Dispose();
        base.PostStop();
    }

    /// <summary>The journal could not give back the job table (Akka.Persistence stops the actor after this). A failure no restart
    /// can cure (a damaged SQLite file, an event this version cannot read), or <see cref="CoordinatorSettings.RestartLimit"/>
    /// failed starts in a row, shuts the node down with a <see cref="CoordinatorCannotRecover"/> reason (Program prints it and
    /// exits non-zero); anything else (the database restarting or unreachable) is left to the backoff supervisor's next start.</summary>
    protected override void OnRecoveryFailure(Exception reason, object? message = null)
    {
        var journal = JournalName(Context.System);
        var cause = $"{reason.GetType().Name}: {reason.Message.TrimEnd('.')}";
        var failed = _restarts.FailedStart(cause, DateTimeOffset.UtcNow);
        string? fatal = null;
        if (JournalFaults.Unrecoverable(reason) is { } why)
            fatal = $"The job table cannot be recovered from the journal ({journal}): {why}. {JournalFaults.Advice(journal)}";
        else if (failed >= _settings.RestartLimit)
            fatal = $"The coordinator failed to recover its job table {failed} times in a row (cis490.coordinator.restart-limit = {_settings.RestartLimit}); " +
                    $"last: {cause}. Check that the journal ({journal}) is reachable and healthy, then start the node again.";
        if (fatal is null)
        {
            _log.Error(reason, "Recovering the job table from the journal ({0}) failed (start {1} in a row; the node gives up after {2}): {3}. " +
                               "Starting again after a pause.", journal, failed, _settings.RestartLimit, cause);
            return;
        }
        _log.Error(reason, "{0}", fatal);
        CoordinatedShutdown.Get(Context.System).Run(new CoordinatorCannotRecover(fatal));
    }

    /// <summary>The journal refused a batch (it could not store an event; Akka.Persistence would go on). The state already holds the
    /// batch's decisions, so going on would act on what the journal does not have: stop, as after a failed write, and let the
    /// backoff supervisor start a coordinator that recovers what is written. None of the batch's effects has left.</summary>
    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        _restarts.Crashed($"the journal rejected event {sequenceNr}: {cause.GetType().Name}: {cause.Message}", DateTimeOffset.UtcNow);
        base.OnPersistRejected(cause, @event, sequenceNr);
        Context.Stop(Self);
    }

    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
    {
        _restarts.Crashed($"writing event {sequenceNr} failed: {cause.GetType().Name}: {cause.Message}", DateTimeOffset.UtcNow);
        base.OnPersistFailure(cause, @event, sequenceNr);
    }

    /// <summary>The journal's name for people (the SQLite file, or the PostgreSQL server), from the plugin's HOCON.</summary>
    private static string JournalName(ActorSystem system)
    {
        var config = system.Settings.Config;
        var plugin = config.GetString("akka.persistence.journal.plugin", "");
        return plugin.Length == 0
            ? "the default journal"
            : JournalFaults.Describe(config.GetString($"{plugin}.provider-name", ""), config.GetString($"{plugin}.connection-string", ""));
    }

    private void OnRecovered()
    {
        _store = Context.ActorOf(ArtifactStore.Props(_settings.ModelsDir, _settings.UploadTimeout), "artifact-store");
        _dataSets = Context.ActorOf(DataSetStore.Props(_settings.DataSetsDir, _settings.UploadTimeout), "data-set-store");
        _state = _state with { Table = _persisted };
        _restarts.Recovered();
        Cis490Metrics.Recovery.Record(_started.Elapsed.TotalSeconds);
        _log.Info("JobCoordinator {0}", _recovery.Completed());
        _jobsGauge = Cis490Metrics.ReportJobs(() => JobMetrics.ByStatus(_persisted)); // an immutable table: safe to read from the scrape
        Timers.StartPeriodicTimer("check-leases", Tick.Instance, _settings.LeaseCheckInterval);
        Handle(Recovered.Instance, ActorRefs.Nobody);
    }

    private void PerformAll(IReadOnlyList<Held> held)
    {
        foreach (var h in held) Perform(h.Effects, h.Requester);
    }

    private void Perform(IReadOnlyList<Effect> effects, IActorRef requester)
    {
        foreach (var effect in effects)
        {
            switch (effect)
            {
                case Effect.Reply { Message: OperatorQueries.CoordinatorHealth h }:
                    var now = _restarts.Now();
                    requester.Tell(h with { Restarts = now.Restarts, LastFailure = now.LastFailure });
                    break;
                case Effect.Reply r: requester.Tell(r.Message); break;
                case Effect.Send s when _endpoints.TryGetValue(s.Endpoint, out var worker): worker.Tell(s.Message); break;
                case Effect.Send s: _log.Debug("Not sent to {0} (gone): {1}", s.Endpoint, s.Message.GetType().Name); break;
                case Effect.Watch w when _endpoints.TryGetValue(w.Endpoint, out var worker): Context.Watch(worker); break;
                case Effect.Watch: break;
                case Effect.Unwatch u:
                    if (_endpoints.Remove(u.Endpoint, out var old)) Context.Unwatch(old);
                    break;
                case Effect.ToStore t: _store.Tell(t.Message, requester); break;
                case Effect.ToDataSets d: _dataSets.Tell(d.Message, requester); break;
                case Effect.RecordProgress p: _logs.Record(p.JobId, p.LeaseId, DateTimeOffset.UtcNow, p.Latest, p.Lines); break;
                case Effect.ReplyLogs l:
                    var (lines, next) = _logs.Read(l.JobId, l.After, MaxLogLinesPerReply);
                    requester.Tell(new OperatorQueries.JobLogs(l.JobId, l.Status, lines, next, OperatorViews.IsFinished(l.Status)));
                    break;
                case Effect.Log line: _log.Log(line.Level, line.Text); break;
                default: throw new InvalidOperationException($"no interpretation for effect {effect.GetType().Name}");
            }
        }
    }

    /// <summary>Most log lines in one <see cref="OperatorQueries.JobLogs"/> reply: 200 lines of ~200 bytes stay well inside
    /// Akka.Remote's 128 000-byte frame. A reader asks again with <c>After</c> until a reply has no lines.</summary>
    public const int MaxLogLinesPerReply = 200;

    /// <summary>The key a worker actor is named by in decisions: its path with its incarnation's uid, so a restarted worker
    /// node (same path, new uid) is a new endpoint.</summary>
    public static string Key(IActorRef actor) => actor.Path.ToSerializationFormat();
}
