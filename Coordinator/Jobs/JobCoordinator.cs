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
public sealed class JobCoordinator : ReceivePersistentActor, IWithTimers
{
    public const string PersistenceIdValue = "job-coordinator";

    private sealed class CheckLeases : INoSerializationVerificationNeeded
    {
        public static readonly CheckLeases Instance = new();
    }

    private sealed class Dispatch : INoSerializationVerificationNeeded
    {
        public static readonly Dispatch Instance = new();
    }

    /// <summary>A registered worker node as the coordinator sees it (volatile: workers re-register after a restart).</summary>
    private sealed record WorkerEntry(string WorkerId, IActorRef Ref, WorkerCapability Capability, int Slots, DateTimeOffset LastSeen);

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly CoordinatorSettings _settings;
    private readonly Dictionary<string, WorkerEntry> _workers = new();
    private readonly Dictionary<string, DateTimeOffset> _lastBeat = new();
    private readonly Dictionary<string, TrainingProgress> _progress = new();
    private IActorRef _store = ActorRefs.Nobody;
    private JobTable _table = JobTable.Empty;

    public override string PersistenceId => PersistenceIdValue;
    public ITimerScheduler Timers { get; set; } = null!;

    public JobCoordinator(CoordinatorSettings settings)
    {
        _settings = settings;
        Recover<SnapshotOffer>(o => _table = JobTable.FromSnapshot((JobTableSnapshot)o.Snapshot));
        Recover<IJobEvent>(e => _table = _table.Apply(e)); // no snapshots while replaying
        Recover<RecoveryCompleted>(_ => OnRecovered());

        Command<OperatorProtocol.SubmitManifest>(SubmitManifest);
        Command<OperatorProtocol.ListJobs>(ListJobs);
        Command<OperatorProtocol.CancelJob>(m => Operate(m.JobId, id => _table.Cancel(id, m.Reason, DateTimeOffset.UtcNow)));
        Command<OperatorProtocol.RequeueJob>(m => Operate(m.JobId, id => _table.Requeue(id, DateTimeOffset.UtcNow)));
        Command<WorkerProtocol.Register>(Register);
        Command<WorkerProtocol.LeaseDeclined>(m => EndLease(m.JobId, m.LeaseId, $"declined by worker: {m.Reason}", countsAsAttempt: false));
        Command<TrainerProtocol.Started>(Started);
        Command<TrainerProtocol.Heartbeat>(Heartbeat);
        Command<TrainerProtocol.Failed>(m => EndLease(m.JobId, m.LeaseId, m.Error, countsAsAttempt: true));
        Command<ArtifactProtocol.OfferUpload>(OfferUpload);
        Command<ArtifactStore.Stored>(Stored);
        Command<Terminated>(WorkerGone);
        Command<CheckLeases>(_ => ExpireLeases());
        Command<Dispatch>(_ => DispatchWork());
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

    /// <summary>Applies a persisted event, and snapshots the table every <c>snapshot-every</c> events.</summary>
    private void Applied(IJobEvent e)
    {
        _table = _table.Apply(e);
        if (_settings.SnapshotEvery > 0 && LastSequenceNr % _settings.SnapshotEvery == 0)
            SaveSnapshot(_table.ToSnapshot());
    }

    public static Props Props(CoordinatorSettings settings) => Akka.Actor.Props.Create(() => new JobCoordinator(settings));

    private void OnRecovered()
    {
        _store = Context.ActorOf(ArtifactStore.Props(_settings.ModelsDir, _settings.UploadTimeout), "artifact-store");
        // Recovered leases get a full heartbeat deadline from now: their workers re-register and resume heartbeating, or expire.
        var now = DateTimeOffset.UtcNow;
        foreach (var job in _table.LiveLeases) _lastBeat[job.JobId] = now;
        Timers.StartPeriodicTimer("check-leases", CheckLeases.Instance, _settings.LeaseCheckInterval);
        _log.Info("JobCoordinator recovered {0} jobs ({1} live leases, last lease id {2})",
            _table.Jobs.Count, _table.LiveLeases.Count(), _table.LastLeaseId);
    }

    private void SubmitManifest(OperatorProtocol.SubmitManifest m)
    {
        var result = ManifestLoader.Parse(m.FileName, m.Text);
        if (!result.IsValid)
        {
            _log.Warning("Rejected manifest {0}: {1} error(s)", m.FileName, result.Errors.Count);
            Sender.Tell(new OperatorProtocol.ManifestRejected(m.FileName, result.Errors));
            return;
        }
        var added = _table.AddJobs(result.Jobs, m.FileName, DateTimeOffset.UtcNow);
        var known = result.Jobs.Select(j => j.JobId).Except(added.Select(a => a.JobId)).ToList();
        var reply = new OperatorProtocol.ManifestAccepted(m.FileName, added.Select(a => a.JobId).ToList(), known);
        var sender = Sender;
        if (added.Count == 0)
        {
            sender.Tell(reply);
            return;
        }
        PersistAll(added, Applied);
        DeferAsync(reply, r =>
        {
            _log.Info("Manifest {0}: {1} new job(s), {2} already known", m.FileName, added.Count, known.Count);
            sender.Tell(r);
            Self.Tell(Dispatch.Instance);
        });
    }

    private void ListJobs(OperatorProtocol.ListJobs m)
    {
        var rows = _table.Jobs.Values
            .Where(j => m.Status is null || j.Status == m.Status)
            .Where(j => m.Model is null || j.Spec.Model == m.Model)
            .OrderBy(j => j.Seq)
            .Select(j => new OperatorProtocol.JobView(
                j.JobId, j.Spec.Model, j.Spec.Mode, j.Spec.HyperJson, j.Status, j.FailedAttempts, j.Spec.MaxAttempts, j.LeaseId,
                j.WorkerId, j.HoldsLease ? _progress.GetValueOrDefault(j.JobId) : null, j.ArtifactSha256, j.Metrics,
                j.AddedAt, j.StartedAt, j.FinishedAt, j.LastError))
            .ToList();
        Sender.Tell(new OperatorProtocol.JobList(rows, DateTimeOffset.UtcNow));
    }

    /// <summary>Cancel or requeue: resolve the id, decide, persist, then stop a live trainer and answer.</summary>
    private void Operate(string idOrPrefix, Func<string, Decision> decide)
    {
        var sender = Sender;
        var id = _table.Resolve(idOrPrefix, out var problem);
        var decision = id is null ? Decision.Refuse(problem!) : decide(id);
        if (decision.Refusal is not null)
        {
            sender.Tell(new OperatorProtocol.OperatorResult(false, id ?? idOrPrefix, id is null ? "" : _table.Jobs[id].Status, decision.Refusal));
            return;
        }
        var worker = _table.Jobs[id!].WorkerId;
        Persist(decision.Event!, e =>
        {
            Applied(e);
            Forget(e.JobId);
            var message = e switch
            {
                JobCancelled { LeaseId: > 0 } c when worker is not null && _workers.TryGetValue(worker, out var w) =>
                    Revoke(w, c) ,
                JobCancelled => "cancelled",
                _ => "requeued: pending",
            };
            _log.Info("Job {0}: {1}", e.JobId, message);
            sender.Tell(new OperatorProtocol.OperatorResult(true, e.JobId, _table.Jobs[e.JobId].Status, message));
            Self.Tell(Dispatch.Instance);
        });
    }

    private static string Revoke(WorkerEntry worker, JobCancelled c)
    {
        worker.Ref.Tell(new WorkerProtocol.RevokeLease(c.JobId, c.LeaseId, $"cancelled: {c.Reason}"));
        return $"cancelled; worker {worker.WorkerId} was told to stop lease {c.LeaseId}";
    }

    private void Register(WorkerProtocol.Register m)
    {
        var isNew = !_workers.TryGetValue(m.WorkerId, out var previous) || !previous.Ref.Equals(Sender);
        if (isNew)
        {
            if (previous is not null) Context.Unwatch(previous.Ref);
            Context.Watch(Sender);
            _log.Info("Worker {0} registered from {1}: {2} slot(s), {3} cores, {4:F1} GiB RAM, cuda={5}",
                m.WorkerId, Sender.Path.Address, m.Slots, m.Capability.Cores, m.Capability.RamGib, m.Capability.Cuda);
        }
        _workers[m.WorkerId] = new WorkerEntry(m.WorkerId, Sender, m.Capability, m.Slots, DateTimeOffset.UtcNow);

        // A lease the worker still runs but that is no longer its own (re-leased, cancelled, expired) must stop there.
        foreach (var held in m.Held)
        {
            var reason = _table.Fence(held.JobId, held.LeaseId)
                         ?? (_table.Jobs[held.JobId].WorkerId != m.WorkerId ? "lease belongs to another worker" : null);
            if (reason is not null) Sender.Tell(new WorkerProtocol.RevokeLease(held.JobId, held.LeaseId, reason));
        }

        Sender.Tell(new WorkerProtocol.Registered(m.WorkerId, _table.LeasesOf(m.WorkerId).Count()));
        DispatchWork();
    }

    private void Started(TrainerProtocol.Started m)
    {
        var sender = Sender;
        var decision = _table.Start(m.JobId, m.LeaseId, DateTimeOffset.UtcNow);
        if (decision.Refusal is not null)
        {
            sender.Tell(new TrainerProtocol.Refused(m.JobId, m.LeaseId, decision.Refusal));
            return;
        }
        _lastBeat[m.JobId] = DateTimeOffset.UtcNow;
        Persist(decision.Event!, e =>
        {
            Applied(e);
            sender.Tell(new TrainerProtocol.Acknowledged(m.JobId, m.LeaseId, JobStatus.Running));
        });
    }

    private void Heartbeat(TrainerProtocol.Heartbeat m)
    {
        if (_table.Fence(m.JobId, m.LeaseId) is { } refusal)
        {
            Sender.Tell(new TrainerProtocol.Refused(m.JobId, m.LeaseId, refusal));
            return;
        }
        _lastBeat[m.JobId] = DateTimeOffset.UtcNow;
        _progress[m.JobId] = m.Progress;
    }

    private void OfferUpload(ArtifactProtocol.OfferUpload m)
    {
        if (_table.Fence(m.JobId, m.LeaseId) is { } refusal)
        {
            Sender.Tell(new ArtifactProtocol.UploadRefused(m.JobId, m.LeaseId, refusal, LeaseLost: true));
            return;
        }
        _lastBeat[m.JobId] = DateTimeOffset.UtcNow;
        _store.Forward(m);
    }

    private void Stored(ArtifactStore.Stored m)
    {
        var o = m.Offer;
        var decision = _table.Complete(o.JobId, o.LeaseId, o.Sha256, o.Bytes, o.Metrics, DateTimeOffset.UtcNow);
        if (decision.Refusal is not null)
        {
            // The bytes are stored (content-addressed, harmless), but this lease lost the job while uploading.
            m.ReplyTo.Tell(new ArtifactProtocol.UploadRefused(o.JobId, o.LeaseId, decision.Refusal, LeaseLost: true));
            return;
        }
        Persist(decision.Event!, e =>
        {
            Applied(e);
            Forget(o.JobId);
            _log.Info("Job {0} completed by lease {1}: artifact {2}", o.JobId, o.LeaseId, o.Sha256);
            m.ReplyTo.Tell(new ArtifactProtocol.UploadCompleted(o.JobId, o.LeaseId, o.Sha256, m.Deduplicated));
            Self.Tell(Dispatch.Instance);
        });
    }

    private void EndLease(string jobId, long leaseId, string reason, bool countsAsAttempt)
    {
        var sender = Sender;
        var decision = _table.EndLease(jobId, leaseId, reason, countsAsAttempt, DateTimeOffset.UtcNow);
        if (decision.Refusal is not null)
        {
            sender.Tell(new TrainerProtocol.Refused(jobId, leaseId, decision.Refusal));
            return;
        }
        Persist(decision.Event!, e =>
        {
            Applied(e);
            Forget(jobId);
            var status = _table.Jobs[jobId].Status;
            _log.Warning("Job {0} lease {1} ended ({2}); job is now {3}", jobId, leaseId, reason, status);
            sender.Tell(new TrainerProtocol.Acknowledged(jobId, leaseId, status));
            Self.Tell(Dispatch.Instance);
        });
    }

    private void WorkerGone(Terminated t)
    {
        var gone = _workers.Values.FirstOrDefault(w => w.Ref.Equals(t.ActorRef));
        if (gone is null) return;
        _workers.Remove(gone.WorkerId);
        var now = DateTimeOffset.UtcNow;
        var ended = _table.LeasesOf(gone.WorkerId)
            .Select(j => _table.EndLease(j.JobId, j.LeaseId, $"worker {gone.WorkerId} left or was removed from the cluster", true, now).Event!)
            .ToList();
        _log.Warning("Worker {0} at {1} is gone; ending its {2} lease(s)", gone.WorkerId, t.ActorRef.Path.Address, ended.Count);
        PersistEnded(ended);
    }

    private void ExpireLeases()
    {
        var now = DateTimeOffset.UtcNow;
        var expired = _table.LiveLeases
            .Where(j => now - _lastBeat.GetValueOrDefault(j.JobId, now) > _settings.HeartbeatDeadline)
            .Select(j => (Job: j, Event: _table.EndLease(j.JobId, j.LeaseId,
                $"no heartbeat for {_settings.HeartbeatDeadline.TotalSeconds:F0} s from worker {j.WorkerId}", true, now).Event!))
            .ToList();
        foreach (var (job, e) in expired)
            if (job.WorkerId is { } w && _workers.TryGetValue(w, out var worker))
                worker.Ref.Tell(new WorkerProtocol.RevokeLease(job.JobId, job.LeaseId, "heartbeat deadline passed"));
        PersistEnded(expired.Select(x => x.Event).ToList());
    }

    private void PersistEnded(IReadOnlyList<IJobEvent> events)
    {
        if (events.Count == 0) return;
        PersistAll(events, e =>
        {
            Applied(e);
            Forget(e.JobId);
            _log.Warning("Job {0}: {1}; job is now {2}", e.JobId, ((LeaseEnded)e).Reason, _table.Jobs[e.JobId].Status);
        });
        DeferAsync(Dispatch.Instance, d => Self.Tell(d));
    }

    /// <summary>Grants leases while some registered worker has a free slot and some pending job fits; one batch of events.</summary>
    private void DispatchWork()
    {
        var projected = _table;
        var grants = new List<(LeaseGranted Event, IActorRef Worker)>();
        var now = DateTimeOffset.UtcNow;
        foreach (var worker in _workers.Values.OrderBy(w => w.WorkerId, StringComparer.Ordinal))
        {
            var free = worker.Slots - projected.LeasesOf(worker.WorkerId).Count();
            for (; free > 0; free--)
            {
                var next = projected.NextPending();
                if (next is null) break;
                var granted = (LeaseGranted)projected.Grant(next.JobId, worker.WorkerId, now).Event!;
                projected = projected.Apply(granted);
                grants.Add((granted, worker.Ref));
            }
        }
        if (grants.Count == 0) return;
        var byEvent = grants.ToDictionary(g => g.Event, g => g.Worker);
        PersistAll(grants.Select(g => g.Event), e =>
        {
            Applied(e);
            _lastBeat[e.JobId] = DateTimeOffset.UtcNow;
            _log.Info("Leased job {0} to worker {1} (lease {2})", e.JobId, e.WorkerId, e.LeaseId);
            byEvent[e].Tell(new WorkerProtocol.Lease(_table.Jobs[e.JobId].Spec, e.LeaseId));
        });
    }

    private void Forget(string jobId)
    {
        _lastBeat.Remove(jobId);
        _progress.Remove(jobId);
    }
}
