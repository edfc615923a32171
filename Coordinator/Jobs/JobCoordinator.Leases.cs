using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using Cis490.Coordinator.Artifacts;
using Cis490.Protocols;
using Cis490.Protocols.Artifacts;
using Cis490.Protocols.Jobs;
using Cis490.Protocols.Operator;
using Cis490.Protocols.Workers;
using Cis490.Shared.Jobs;
using Cis490.Shared.Manifest;
using static Cis490.Protocols.Jobs.JobEvents;

namespace Cis490.Coordinator.Jobs;

/// <summary>Workers and their leases: registration, dispatch, heartbeats, completion, expiry.</summary>
public sealed partial class JobCoordinator
{
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
        if (m.Draining && !(previous?.Draining ?? false))
            _log.Info("Worker {0} is draining: no new leases; its {1} running lease(s) finish or are handed back", m.WorkerId, m.Held.Count);
        _workers[m.WorkerId] = new WorkerEntry(m.WorkerId, Sender, m.Capability, m.Slots, DateTimeOffset.UtcNow, m.Draining);

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
        Commit(decision.Event!, _ => sender.Tell(new TrainerProtocol.Acknowledged(m.JobId, m.LeaseId, JobStatus.Running)));
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
        RecordProgress(m);
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
        Commit(decision.Event!, _ =>
        {
            Forget(o.JobId);
            _log.Info("Job {0} completed by lease {1}: artifact {2}", o.JobId, o.LeaseId, o.Sha256);
            m.ReplyTo.Tell(new ArtifactProtocol.UploadCompleted(o.JobId, o.LeaseId, o.Sha256, m.Deduplicated));
            Self.Tell(Dispatch.Instance);
        });
    }

    private void EndLease(string jobId, long leaseId, string reason, bool countsAsAttempt)
    {
        var sender = Sender;
        var decision = _table.EndLease(jobId, leaseId, reason, countsAsAttempt, DateTimeOffset.UtcNow, _settings.Retry);
        if (decision.Refusal is not null)
        {
            sender.Tell(new TrainerProtocol.Refused(jobId, leaseId, decision.Refusal));
            return;
        }
        var status0 = _table.Apply(decision.Event!).Jobs[jobId].Status; // what this lease's end makes of the job
        Commit(decision.Event!, _ =>
        {
            Forget(jobId);
            var status = status0;
            _log.Warning("Job {0} lease {1} ended ({2}); job is now {3}", jobId, leaseId, reason, status);
            sender.Tell(new TrainerProtocol.Acknowledged(jobId, leaseId, status));
            Self.Tell(Dispatch.Instance);
        });
    }

    private void WorkerGone(Terminated t)
    {
        // The node, not the job, failed: its jobs are retried at once (no backoff), on another worker.
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
                $"no heartbeat for {_settings.HeartbeatDeadline.TotalSeconds:F0} s from worker {j.WorkerId}", true, now, _settings.Retry).Event!))
            .ToList();
        foreach (var (job, e) in expired)
            if (job.WorkerId is { } w && _workers.TryGetValue(w, out var worker))
                worker.Ref.Tell(new WorkerProtocol.RevokeLease(job.JobId, job.LeaseId, "heartbeat deadline passed"));
        PersistEnded(expired.Select(x => x.Event).ToList());
    }

    private void PersistEnded(IReadOnlyList<IJobEvent> events)
    {
        if (events.Count == 0) return;
        CommitAll(events, e =>
        {
            Forget(e.JobId);
            _log.Warning("Job {0}: {1}", e.JobId, ((LeaseEnded)e).Reason);
        });
        DeferAsync(Dispatch.Instance, d => Self.Tell(d));
    }

    /// <summary>Grants leases while some registered worker has a free slot and some pending job fits it (constraints, host
    /// policy, prefer_cuda wait); highest priority first, then oldest. CUDA workers choose first. One batch of events.</summary>
    private void DispatchWork()
    {
        var projected = _table;
        var grants = new List<(LeaseGranted Event, IActorRef Worker)>();
        var now = DateTimeOffset.UtcNow;
        var workers = _workers.Values.Where(w => !w.Draining)
            .OrderByDescending(w => Placement.Effective(w.Capability, Placement.PolicyFor(w.Capability.Hostname, _table.Hosts)).Cuda)
            .ThenBy(w => w.WorkerId, StringComparer.Ordinal)
            .ToList();
        foreach (var worker in workers)
        {
            var free = worker.Slots - projected.LeasesOf(worker.WorkerId).Count();
            for (; free > 0; free--)
            {
                var next = projected.NextPending(now, j => MayTake(worker, j, now));
                if (next is null) break;
                var granted = (LeaseGranted)projected.Grant(next.JobId, worker.WorkerId, now).Event!;
                projected = projected.Apply(granted);
                grants.Add((granted, worker.Ref));
            }
        }
        if (grants.Count == 0) return;
        var byEvent = grants.ToDictionary(g => g.Event, g => g.Worker);
        _table = projected; // the grants are decided: the next command must not grant these jobs again
        Written(grants.Select(g => g.Event).ToList(), e =>
        {
            _lastBeat[e.JobId] = DateTimeOffset.UtcNow;
            _log.Info("Leased job {0} to worker {1} (lease {2})", e.JobId, e.WorkerId, e.LeaseId);
            byEvent[e].Tell(new WorkerProtocol.Lease(_table.Jobs[e.JobId].Spec, e.LeaseId));
        });
    }

    /// <summary>Whether <paramref name="worker"/> may take <paramref name="job"/> now. A prefer_cuda job skips a worker without
    /// CUDA while a CUDA worker that could run it is connected, until it has waited <c>prefer-cuda-wait</c>.</summary>
    private bool MayTake(WorkerEntry worker, JobState job, DateTimeOffset now)
    {
        if (Placement.Refusal(job.Spec, worker.Capability, _table.Hosts) is not null) return false;
        if (!job.Spec.Needs.PreferCuda || HasCuda(worker)) return true;
        if (now - JobTable.PendingSince(job) >= _settings.PreferCudaWait) return true;
        return !_workers.Values.Any(w => !w.Draining && HasCuda(w) && Placement.Refusal(job.Spec, w.Capability, _table.Hosts) is null);
    }

    private bool HasCuda(WorkerEntry w) => Placement.Effective(w.Capability, Placement.PolicyFor(w.Capability.Hostname, _table.Hosts)).Cuda;

    /// <summary>Why no connected worker could ever run a pending job (its constraints or the hosts' policy), or null when one could.</summary>
    private string? Unschedulable(JobState job)
    {
        if (job.Status != JobStatus.Pending) return null;
        if (_workers.Count == 0) return "no worker is connected";
        var reasons = _workers.Values.OrderBy(w => w.WorkerId, StringComparer.Ordinal)
            .Select(w => (w.WorkerId, Reason: Placement.Refusal(job.Spec, w.Capability, _table.Hosts)))
            .ToList();
        return reasons.Any(r => r.Reason is null)
            ? null
            : "no connected worker can run it: " + string.Join("; ", reasons.Select(r => $"{r.WorkerId}: {r.Reason}"));
    }
}
