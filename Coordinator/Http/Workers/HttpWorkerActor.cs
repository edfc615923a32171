using Akka.Actor;
using Akka.Event;
using Akka.Streams;
using Akka.Streams.Dsl;
using Cis490.Protocols.Artifacts;
using Cis490.Protocols.Jobs;
using Cis490.Protocols.Workers;
using static Cis490.Coordinator.Http.Workers.HttpWorkerCommands;

namespace Cis490.Coordinator.Http.Workers;

/// <summary>One HTTP worker as the coordinator sees it: a worker like any other. It registers with the coordinator (one free slot
/// while a claim waits), takes pushed leases for waiting claims and declines the rest, and turns the worker's heartbeat, fail and
/// upload requests into the trainer and artifact protocols, so fencing and heartbeat expiry apply unchanged.</summary>
public sealed class HttpWorkerActor : ReceiveActor, IWithTimers
{
    private sealed class RegisterTick : INoSerializationVerificationNeeded { public static readonly RegisterTick Instance = new(); }
    private sealed record ClaimTimeout(long Seq) : INoSerializationVerificationNeeded;
    private sealed record KeepAlive(string JobId, long LeaseId) : INoSerializationVerificationNeeded;
    private sealed record UploadAckTimeout(string JobId, long LeaseId) : INoSerializationVerificationNeeded;

    /// <summary>A request waiting for the coordinator's answer about a lease.</summary>
    private sealed record Pending(IActorRef ReplyTo, bool IsFail);

    /// <summary>An upload offered to the store: the spooled file and who waits for the outcome.</summary>
    private sealed record Offered(string Path, IActorRef ReplyTo);

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly string _workerId;
    private readonly IActorRef _coordinator;
    private readonly HttpSettings _settings;
    private readonly HttpWorkerLeases _leases;
    private readonly Dictionary<(string, long), Pending> _pending = new();
    private readonly Dictionary<(string, long), Offered> _uploads = new();
    private WorkerCapability? _capability;
    private IActorRef? _claim;
    private long _claimSeq;
    private DateTimeOffset _lastRequest = DateTimeOffset.UtcNow;

    public ITimerScheduler Timers { get; set; } = null!;

    public HttpWorkerActor(string workerId, IActorRef coordinator, HttpSettings settings)
    {
        _workerId = workerId;
        _coordinator = coordinator;
        _settings = settings;
        _leases = new HttpWorkerLeases(workerId);

        Receive<ICommand>(m =>
        {
            _lastRequest = DateTimeOffset.UtcNow;
            Handle(m);
        });
        Receive<WorkerProtocol.Lease>(OnLease);
        Receive<WorkerProtocol.Registered>(_ => { });
        Receive<WorkerProtocol.RevokeLease>(m => Lose(m.JobId, m.LeaseId, $"revoked by the coordinator: {m.Reason}"));
        Receive<TrainerProtocol.Acknowledged>(OnAcknowledged);
        Receive<TrainerProtocol.Refused>(m => Lose(m.JobId, m.LeaseId, m.Reason));
        Receive<ArtifactProtocol.UploadReady>(OnUploadReady);
        Receive<ArtifactProtocol.UploadCompleted>(OnUploadCompleted);
        Receive<ArtifactProtocol.UploadRefused>(OnUploadRefused);
        Receive<UploadAckTimeout>(m => UploadFailed(m.JobId, m.LeaseId,
            $"no answer from the artifact store within {_settings.UploadAckTimeout.TotalSeconds:F0} s; PUT the model again"));
        Receive<KeepAlive>(m =>
        {
            if (_leases.Get(m.JobId, m.LeaseId) is { Uploading: true } live)
                _coordinator.Tell(new TrainerProtocol.Heartbeat(m.JobId, m.LeaseId, live.Progress ?? Uploading));
            else Timers.Cancel(("keepalive", m.JobId));
        });
        Receive<ClaimTimeout>(m =>
        {
            if (m.Seq != _claimSeq || _claim is null) return;
            _claim.Tell(new NoWork(_settings.ClaimWait));
            _claim = null;
            Register();
        });
        Receive<RegisterTick>(_ => OnTick());
    }

    public static Props Props(string workerId, IActorRef coordinator, HttpSettings settings) =>
        Akka.Actor.Props.Create(() => new HttpWorkerActor(workerId, coordinator, settings));

    private static readonly TrainingProgress Uploading = new(0, 0, null, null, 0, "uploading over HTTP");

    protected override void PreStart() => Timers.StartPeriodicTimer("register", RegisterTick.Instance, _settings.RegisterInterval);

    private void Handle(ICommand command)
    {
        switch (command)
        {
            case Claim c:
                _capability = c.Capability;
                _claim?.Tell(new NoWork(TimeSpan.Zero)); // a newer claim of the same worker replaces a waiting one
                _claim = Sender;
                Timers.StartSingleTimer("claim", new ClaimTimeout(++_claimSeq), _settings.ClaimWait);
                Register();
                return;
            case AbandonClaim:
                if (_claim is null) return;
                _claim.Tell(new NoWork(TimeSpan.Zero));
                _claim = null;
                Timers.Cancel("claim");
                Register();
                return;
            case Complete c:
                Sender.Tell(CompleteAnswer(c));
                return;
            case ILeaseCommand l when _leases.Refusal(l.JobId, l.LeaseId) is { } refusal:
                if (l is Upload stale) TryDelete(stale.Path);
                Sender.Tell(new Rejected(RejectKind.StaleLease, l.JobId, l.LeaseId, refusal));
                return;
            case HandBack h:
                if (_leases.Get(h.JobId, h.LeaseId) is { Started: false, Uploading: false })
                {
                    _log.Warning("HTTP worker {0}: the claim's client went away; handing lease {1} of job {2} back", _workerId, h.LeaseId, h.JobId);
                    _coordinator.Tell(new WorkerProtocol.LeaseDeclined(h.JobId, h.LeaseId, $"the claim of HTTP worker {_workerId} was cut off before its answer"));
                    End(h.JobId, h.LeaseId, HttpWorkerLeases.Lost, "handed back: the claim's client went away");
                }
                return;
            case Beat b:
                if (_leases.MarkStarted(b.JobId, b.LeaseId, b.Progress))
                {
                    _pending[(b.JobId, b.LeaseId)] = new Pending(Sender, IsFail: false);
                    _coordinator.Tell(new TrainerProtocol.Started(b.JobId, b.LeaseId, _workerId));
                }
                else
                {
                    _coordinator.Tell(new TrainerProtocol.Heartbeat(b.JobId, b.LeaseId, _leases.Get(b.JobId, b.LeaseId)!.Progress ?? Running));
                    Sender.Tell(new Accepted(b.JobId, b.LeaseId, JobStatus.Running));
                }
                return;
            case Fail f:
                _pending[(f.JobId, f.LeaseId)] = new Pending(Sender, IsFail: true);
                _coordinator.Tell(new TrainerProtocol.Failed(f.JobId, f.LeaseId, f.Error));
                return;
            case BeginUpload b:
                if (!_leases.SetUploading(b.JobId, b.LeaseId, true))
                {
                    Sender.Tell(new Rejected(RejectKind.Busy, b.JobId, b.LeaseId, $"an upload for lease {b.LeaseId} of job {b.JobId} is already in progress"));
                    return;
                }
                _coordinator.Tell(new TrainerProtocol.Heartbeat(b.JobId, b.LeaseId, Uploading));
                Timers.StartPeriodicTimer(("keepalive", b.JobId), new KeepAlive(b.JobId, b.LeaseId), _settings.UploadKeepAliveInterval);
                Sender.Tell(new Accepted(b.JobId, b.LeaseId, "uploading"));
                return;
            case AbortUpload a:
                _leases.SetUploading(a.JobId, a.LeaseId, false);
                Timers.Cancel(("keepalive", a.JobId));
                return;
            case Upload u:
                var job = _leases.Get(u.JobId, u.LeaseId)!.Job;
                _uploads[(u.JobId, u.LeaseId)] = new Offered(u.Path, Sender);
                _coordinator.Tell(new ArtifactProtocol.OfferUpload(u.JobId, u.LeaseId, job.Model, job.Mode, u.Sha256, u.Bytes, u.Metrics));
                Timers.StartSingleTimer(("ack", u.JobId), new UploadAckTimeout(u.JobId, u.LeaseId), _settings.UploadAckTimeout);
                return;
        }
    }

    private static readonly TrainingProgress Running = new(0, 0, null, null, 0, "running (HTTP worker)");

    private object CompleteAnswer(Complete c)
    {
        if (_leases.EndedOf(c.JobId, c.LeaseId) is { Outcome: HttpWorkerLeases.Completed } done)
            return new Accepted(c.JobId, c.LeaseId, JobStatus.Completed, done.Sha256, done.Deduplicated);
        if (_leases.Get(c.JobId, c.LeaseId) is { } live)
            return live.Uploading
                ? new Rejected(RejectKind.Busy, c.JobId, c.LeaseId, $"the upload for lease {c.LeaseId} is still in progress; complete once PUT /v1/model/{c.JobId} has answered")
                : new Rejected(RejectKind.NotUploaded, c.JobId, c.LeaseId, $"no model was stored for lease {c.LeaseId} of job {c.JobId}; PUT /v1/model/{c.JobId} first");
        return new Rejected(RejectKind.StaleLease, c.JobId, c.LeaseId, _leases.Refusal(c.JobId, c.LeaseId)!);
    }

    private void OnLease(WorkerProtocol.Lease lease)
    {
        if (_claim is null || _leases.HoldsJob(lease.JobId))
        {
            // Not a failed attempt: the coordinator puts the job back at once.
            _coordinator.Tell(new WorkerProtocol.LeaseDeclined(lease.JobId, lease.LeaseId,
                _claim is null ? $"HTTP worker {_workerId} has no claim waiting" : $"HTTP worker {_workerId} already runs this job"));
            return;
        }
        _leases.Add(lease);
        _log.Info("HTTP worker {0} claimed job {1} ({2}/{3}) under lease {4}", _workerId, lease.JobId, lease.Job.Model, lease.Job.Mode, lease.LeaseId);
        _claim.Tell(new Granted(lease.Job, lease.LeaseId));
        _claim = null;
        Timers.Cancel("claim");
        Register();
    }

    private void OnAcknowledged(TrainerProtocol.Acknowledged m)
    {
        if (!_pending.Remove((m.JobId, m.LeaseId), out var pending)) return;
        if (pending.IsFail) End(m.JobId, m.LeaseId, HttpWorkerLeases.Failed, $"reported failed; job is now {m.Status}");
        pending.ReplyTo.Tell(new Accepted(m.JobId, m.LeaseId, m.Status));
    }

    private void OnUploadReady(ArtifactProtocol.UploadReady m)
    {
        if (!_uploads.TryGetValue((m.JobId, m.LeaseId), out var offered)) return;
        FileIO.FromFile(new FileInfo(offered.Path), ArtifactProtocol.MaxChunkBytes)
            .Select(bs => bs.ToArray())
            .RunWith(m.Sink.Sink, Context.Materializer());
    }

    private void OnUploadCompleted(ArtifactProtocol.UploadCompleted m)
    {
        _log.Info("HTTP worker {0}: job {1} completed by lease {2}, artifact {3}{4}", _workerId, m.JobId, m.LeaseId, m.Sha256, m.Deduplicated ? " (deduplicated)" : "");
        var replyTo = FinishUpload(m.JobId, m.LeaseId);
        End(m.JobId, m.LeaseId, HttpWorkerLeases.Completed, "artifact stored", m.Sha256, m.Deduplicated);
        replyTo?.Tell(new Accepted(m.JobId, m.LeaseId, JobStatus.Completed, m.Sha256, m.Deduplicated));
    }

    private void OnUploadRefused(ArtifactProtocol.UploadRefused m)
    {
        if (m.LeaseLost) Lose(m.JobId, m.LeaseId, m.Reason);
        else UploadFailed(m.JobId, m.LeaseId, $"upload refused: {m.Reason}; PUT the model again");
    }

    private void UploadFailed(string jobId, long leaseId, string reason)
    {
        _log.Warning("HTTP worker {0}: upload for job {1} lease {2} failed: {3}", _workerId, jobId, leaseId, reason);
        var replyTo = FinishUpload(jobId, leaseId);
        _leases.SetUploading(jobId, leaseId, false);
        replyTo?.Tell(new Rejected(RejectKind.UploadFailed, jobId, leaseId, reason));
    }

    /// <summary>Stops the upload's timers and file; returns who waits for its outcome.</summary>
    private IActorRef? FinishUpload(string jobId, long leaseId)
    {
        Timers.Cancel(("keepalive", jobId));
        Timers.Cancel(("ack", jobId));
        if (!_uploads.Remove((jobId, leaseId), out var offered)) return null;
        TryDelete(offered.Path);
        return offered.ReplyTo;
    }

    /// <summary>The coordinator ended the lease (revoke, refusal, lost upload): every waiting request gets a 409.</summary>
    private void Lose(string jobId, long leaseId, string reason)
    {
        if (_leases.Get(jobId, leaseId) is null && !_pending.ContainsKey((jobId, leaseId)) && !_uploads.ContainsKey((jobId, leaseId))) return;
        _log.Warning("HTTP worker {0}: lease {1} of job {2} lost: {3}", _workerId, leaseId, jobId, reason);
        End(jobId, leaseId, HttpWorkerLeases.Lost, reason);
        var rejected = new Rejected(RejectKind.StaleLease, jobId, leaseId, reason);
        if (_pending.Remove((jobId, leaseId), out var pending)) pending.ReplyTo.Tell(rejected);
        FinishUpload(jobId, leaseId)?.Tell(rejected);
    }

    private void End(string jobId, long leaseId, string outcome, string reason, string? sha = null, bool dedup = false)
    {
        _leases.End(jobId, leaseId, outcome, reason, sha, dedup);
        Register(); // one slot fewer held: say so now, not at the next tick
    }

    /// <summary>Registers with one free slot while a claim waits, none otherwise, so the coordinator pushes leases only to a waiting claim.</summary>
    private void Register()
    {
        if (_capability is null) return;
        _coordinator.Tell(new WorkerProtocol.Register(_workerId, _capability, _leases.Count + (_claim is null ? 0 : 1), _leases.Held));
    }

    private void OnTick()
    {
        var idle = _leases.Count == 0 && _claim is null && _uploads.Count == 0;
        if (idle && DateTimeOffset.UtcNow - _lastRequest > _settings.WorkerIdleTimeout)
        {
            _log.Info("HTTP worker {0}: no request for {1}; forgetting it", _workerId, _settings.WorkerIdleTimeout);
            Context.Stop(Self);
            return;
        }
        Register();
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { }
    }
}
