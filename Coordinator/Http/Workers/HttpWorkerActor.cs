using Akka.Actor;
using Akka.Event;
using Akka.Streams;
using Akka.Streams.Dsl;
using Cis490.Protocols.Artifacts;
using Cis490.Protocols.Jobs;
using Cis490.Protocols.Workers;
using static Cis490.Coordinator.Http.Workers.HttpWorkerCommands;

namespace Cis490.Coordinator.Http.Workers;

/// <summary>One HTTP worker as the coordinator sees it: a worker like any other. It registers with the coordinator (with no free
/// slot: nothing is ever pushed to it), asks for a lease when a claim comes (<see cref="WorkerProtocol.RequestLease"/>, again every
/// claim-poll-interval while the claim may wait), and turns the worker's heartbeat, fail and upload requests into the trainer and
/// artifact protocols, so fencing and heartbeat expiry apply unchanged (with the lease's own, longer, legacy deadline).</summary>
public sealed class HttpWorkerActor : ReceiveActor, IWithTimers
{
    private sealed class RegisterTick : INoSerializationVerificationNeeded { public static readonly RegisterTick Instance = new(); }
    private sealed record ClaimTimeout(long Seq) : INoSerializationVerificationNeeded;
    private sealed record ClaimPoll(long Seq) : INoSerializationVerificationNeeded;
    private sealed record RequestTimeout(long Seq) : INoSerializationVerificationNeeded;
    private sealed record KeepAlive(string JobId, long LeaseId) : INoSerializationVerificationNeeded;
    private sealed record UploadAckTimeout(string JobId, long LeaseId) : INoSerializationVerificationNeeded;

    /// <summary>A request waiting for the coordinator's answer about a lease: a start, a failure, or metrics after completion
    /// (then <paramref name="Done"/> is how the lease ended, for the answer).</summary>
    private sealed record Pending(IActorRef ReplyTo, bool IsFail, HttpWorkerLeases.Ended? Done = null);

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
    private string? _lastNoLease;
    private IActorRef? _claim;
    private string _claimAddress = "";
    private DateTimeOffset _claimUntil;
    private long _claimSeq;
    private bool _requesting;
    private long _requestSeq;
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
        Receive<TrainerProtocol.Refused>(m =>
        {
            // Metrics after completion refused: the lease is over anyway; only that request is answered.
            if (_pending.TryGetValue((m.JobId, m.LeaseId), out var p) && p.Done is not null)
            {
                _pending.Remove((m.JobId, m.LeaseId));
                p.ReplyTo.Tell(new Rejected(m.Kind == Protocols.ErrorKind.Invalid ? RejectKind.Invalid : RejectKind.StaleLease, m.JobId, m.LeaseId, m.Reason));
                return;
            }
            Lose(m.JobId, m.LeaseId, m.Reason);
        });
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
        Receive<WorkerProtocol.NoLease>(OnNoLease);
        Receive<ClaimPoll>(m =>
        {
            if (m.Seq == _claimSeq && _claim is not null) RequestLease();
        });
        Receive<ClaimTimeout>(m =>
        {
            // The wait is over; a request still in flight answers the claim when it comes back.
            if (m.Seq != _claimSeq || _claim is null || _requesting) return;
            AnswerNoWork(_lastNoLease ?? "no job came within the claim's wait", _settings.RetryAfter);
        });
        Receive<RequestTimeout>(m =>
        {
            if (m.Seq != _requestSeq || !_requesting) return;
            _requesting = false;
            _log.Warning("HTTP worker {0}: no answer from the coordinator to a lease request within {1}", _workerId, _settings.AskTimeout);
            if (_claim is not null) AnswerNoWork($"the coordinator did not answer within {_settings.AskTimeout.TotalSeconds:0.#} s (starting or moving?)", _settings.RetryAfter);
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
                _claim?.Tell(new NoWork("a newer claim of the same worker replaced this one", TimeSpan.Zero));
                _claim = Sender;
                _claimAddress = c.ClientAddress;
                _claimUntil = DateTimeOffset.UtcNow + c.Wait;
                _lastNoLease = null;
                Timers.StartSingleTimer("claim", new ClaimTimeout(++_claimSeq), c.Wait);
                Register();
                RequestLease();
                return;
            case AbandonClaim:
                if (_claim is null) return;
                _claim.Tell(new NoWork("the claim's client went away", TimeSpan.Zero));
                _claim = null;
                Timers.Cancel("claim");
                return;
            case HandBack h:
                if (_leases.Get(h.JobId, h.LeaseId) is { Started: false, Uploading: false })
                {
                    _log.Warning("HTTP worker {0}: the claim's client went away; handing lease {1} of job {2} back", _workerId, h.LeaseId, h.JobId);
                    _coordinator.Tell(new WorkerProtocol.LeaseDeclined(h.JobId, h.LeaseId, $"the claim of HTTP worker {_workerId} was cut off before its answer"));
                    End(h.JobId, h.LeaseId, HttpWorkerLeases.Lost, "handed back: the claim's client went away");
                }
                return;
            case Upload u:
                if (_leases.Refusal(u.JobId, u.LeaseId) is { } stale)
                {
                    TryDelete(u.Path);
                    Sender.Tell(new Rejected(RejectKind.StaleLease, u.JobId, u.LeaseId, stale));
                    return;
                }
                var job = _leases.Get(u.JobId, u.LeaseId)!.Job;
                _uploads[(u.JobId, u.LeaseId)] = new Offered(u.Path, Sender);
                _coordinator.Tell(new ArtifactProtocol.OfferUpload(u.JobId, u.LeaseId, job.Model, job.Mode, u.Sha256, u.Bytes, u.Metrics));
                Timers.StartSingleTimer(("ack", u.JobId), new UploadAckTimeout(u.JobId, u.LeaseId), _settings.UploadAckTimeout);
                return;
            case AbortUpload a:
                _leases.SetUploading(a.JobId, a.LeaseId, false);
                Timers.Cancel(("keepalive", a.JobId));
                return;
            case ILeaseCommand l:
                OnLeaseRequest(l);
                return;
        }
    }

    /// <summary>A heartbeat, failure, upload start or completion about one of this worker's jobs: the lease it names, or (naming
    /// none) the worker's lease of that job. A lease that is not live gets the precise 409 (or the completion's outcome).</summary>
    private void OnLeaseRequest(ILeaseCommand l)
    {
        if (_leases.Resolve(l.JobId, l.LeaseId) is not { } leaseId)
        {
            Sender.Tell(new Rejected(RejectKind.StaleLease, l.JobId, null,
                $"HTTP worker {_workerId} holds no lease of job {l.JobId} (it ended long ago, or was never granted to this worker); claim again"));
            return;
        }
        if (l is Complete c)
        {
            OnComplete(c, leaseId);
            return;
        }
        if (_leases.Refusal(l.JobId, leaseId) is { } refusal)
        {
            Sender.Tell(new Rejected(RejectKind.StaleLease, l.JobId, leaseId, refusal));
            return;
        }
        switch (l)
        {
            case Beat b:
                if (StartIfNew(b.JobId, leaseId, b.Progress, Sender)) return;
                _coordinator.Tell(new TrainerProtocol.Heartbeat(b.JobId, leaseId, _leases.Get(b.JobId, leaseId)!.Progress ?? Running));
                Sender.Tell(new Accepted(b.JobId, leaseId, JobStatus.Running));
                return;
            case Fail f:
                // Not reported started first: its acknowledgement would answer this request. A failure ends a lease in any state.
                _pending[(f.JobId, leaseId)] = new Pending(Sender, IsFail: true);
                _coordinator.Tell(new TrainerProtocol.Failed(f.JobId, leaseId, f.Error));
                return;
            case BeginUpload b:
                if (!_leases.SetUploading(b.JobId, leaseId, true))
                {
                    Sender.Tell(new Rejected(RejectKind.Busy, b.JobId, leaseId, $"an upload for lease {leaseId} of job {b.JobId} is already in progress"));
                    return;
                }
                StartIfNew(b.JobId, leaseId, null, null);
                _coordinator.Tell(new TrainerProtocol.Heartbeat(b.JobId, leaseId, Uploading));
                Timers.StartPeriodicTimer(("keepalive", b.JobId), new KeepAlive(b.JobId, leaseId), _settings.UploadKeepAliveInterval);
                Sender.Tell(new UploadBegun(_workerId, b.JobId, leaseId));
                return;
        }
    }

    /// <summary>The first sign of life of a lease (heartbeat, upload or failure) reports the trainer started, as a worker node's
    /// trainer does; true when it did (the start's acknowledgement then answers <paramref name="replyTo"/>).</summary>
    private bool StartIfNew(string jobId, long leaseId, TrainingProgress? progress, IActorRef? replyTo)
    {
        if (!_leases.MarkStarted(jobId, leaseId, progress)) return false;
        if (replyTo is not null) _pending[(jobId, leaseId)] = new Pending(replyTo, IsFail: false);
        _coordinator.Tell(new TrainerProtocol.Started(jobId, leaseId, _workerId));
        if (progress is not null) _coordinator.Tell(new TrainerProtocol.Heartbeat(jobId, leaseId, progress)); // what operators see
        return replyTo is not null;
    }

    private static readonly TrainingProgress Running = new(0, 0, null, null, 0, "running (HTTP worker)");

    /// <summary>Answers a completion from the lease's outcome: completed (its metrics merged, its declared sha256 checked), or why not.</summary>
    private void OnComplete(Complete c, long leaseId)
    {
        if (_leases.EndedOf(c.JobId, leaseId) is { Outcome: HttpWorkerLeases.Completed } done)
        {
            if (c.Sha256 is { } declared && declared != done.Sha256)
            {
                Sender.Tell(new Rejected(RejectKind.Conflict, c.JobId, leaseId,
                    $"job {c.JobId} was completed with artifact {done.Sha256}, not the declared {declared}; nothing changed"));
                return;
            }
            if (c.Metrics.Count == 0)
            {
                Sender.Tell(new Accepted(c.JobId, leaseId, JobStatus.Completed, done.Sha256, done.Deduplicated));
                return;
            }
            _pending[(c.JobId, leaseId)] = new Pending(Sender, IsFail: false, done);
            _coordinator.Tell(new TrainerProtocol.ReportMetrics(c.JobId, leaseId, c.Metrics));
            return;
        }
        if (_leases.Get(c.JobId, leaseId) is { } live)
        {
            Sender.Tell(live.Uploading
                ? new Rejected(RejectKind.Busy, c.JobId, leaseId, $"the upload for lease {leaseId} is still in progress; complete once PUT /v1/model/{c.JobId} has answered")
                : new Rejected(RejectKind.NotUploaded, c.JobId, leaseId, $"no model was stored for lease {leaseId} of job {c.JobId}; PUT /v1/model/{c.JobId} first"));
            return;
        }
        Sender.Tell(new Rejected(RejectKind.StaleLease, c.JobId, leaseId, _leases.Refusal(c.JobId, leaseId)!));
    }

    /// <summary>Asks the coordinator for one lease, unless a request is already in flight; its answer is a Lease or a NoLease.</summary>
    private void RequestLease()
    {
        if (_requesting || _capability is null) return;
        _requesting = true;
        _coordinator.Tell(new WorkerProtocol.RequestLease(_workerId, _settings.LegacyHeartbeatDeadline.TotalSeconds));
        Timers.StartSingleTimer("request", new RequestTimeout(++_requestSeq), _settings.AskTimeout);
    }

    private void OnNoLease(WorkerProtocol.NoLease m)
    {
        _requesting = false;
        Timers.Cancel("request");
        _lastNoLease = m.Reason;
        if (_claim is null) return;
        var left = _claimUntil - DateTimeOffset.UtcNow;
        if (left <= TimeSpan.Zero)
        {
            var after = m.RetryAfterSeconds > 0 ? TimeSpan.FromSeconds(Math.Min(m.RetryAfterSeconds, _settings.RetryAfter.TotalSeconds)) : _settings.RetryAfter;
            AnswerNoWork(m.Reason, after);
            return;
        }
        Timers.StartSingleTimer("poll", new ClaimPoll(_claimSeq), left < _settings.ClaimPollInterval ? left : _settings.ClaimPollInterval);
    }

    private void AnswerNoWork(string reason, TimeSpan retryAfter)
    {
        _claim?.Tell(new NoWork(reason, retryAfter));
        _claim = null;
        Timers.Cancel("claim");
        Timers.Cancel("poll");
    }

    private void OnLease(WorkerProtocol.Lease lease)
    {
        _requesting = false;
        Timers.Cancel("request");
        if (_claim is null || _leases.HoldsJob(lease.JobId))
        {
            // Asked for, but its claim is gone (the client went away, the request answered late): not a failed attempt, and
            // the coordinator puts the job back at once.
            _coordinator.Tell(new WorkerProtocol.LeaseDeclined(lease.JobId, lease.LeaseId,
                _claim is null ? $"HTTP worker {_workerId}'s claim ended before the lease came" : $"HTTP worker {_workerId} already runs this job"));
            return;
        }
        _leases.Add(lease);
        Context.Parent.Tell(new LeaseBound(_workerId, lease.JobId, lease.LeaseId, _claimAddress, Live: true));
        _log.Info("HTTP worker {0} claimed job {1} ({2}/{3}) under lease {4}", _workerId, lease.JobId, lease.Job.Model, lease.Job.Mode, lease.LeaseId);
        _claim.Tell(new Granted(lease.Job, lease.LeaseId, _workerId));
        _claim = null;
        Timers.Cancel("claim");
        Timers.Cancel("poll");
        Register();
    }

    private void OnAcknowledged(TrainerProtocol.Acknowledged m)
    {
        if (!_pending.Remove((m.JobId, m.LeaseId), out var pending)) return;
        if (pending.IsFail) End(m.JobId, m.LeaseId, HttpWorkerLeases.Failed, $"reported failed; job is now {m.Status}");
        pending.ReplyTo.Tell(new Accepted(m.JobId, m.LeaseId, m.Status, pending.Done?.Sha256, pending.Done?.Deduplicated ?? false));
    }

    private void OnUploadReady(ArtifactProtocol.UploadReady m)
    {
        if (!_uploads.TryGetValue((m.JobId, m.LeaseId), out var offered)) return;
        Shared.Artifacts.BundleStreams.FromFile(offered.Path, Context.System.Settings.Config).RunWith(m.Sink.Sink, Context.Materializer());
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
        var wasLive = _leases.Get(jobId, leaseId) is not null;
        _leases.End(jobId, leaseId, outcome, reason, sha, dedup);
        if (wasLive) Context.Parent.Tell(new LeaseBound(_workerId, jobId, leaseId, "", Live: false));
        Register(); // one lease fewer held: say so now, not at the next tick
    }

    /// <summary>Registers with as many slots as leases held, so never a free one: the coordinator pushes nothing to an HTTP worker;
    /// it leases only in answer to a claim's <see cref="WorkerProtocol.RequestLease"/>.</summary>
    private void Register()
    {
        if (_capability is null) return;
        _coordinator.Tell(new WorkerProtocol.Register(_workerId, _capability, _leases.Count, _leases.Held));
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
