using Akka.Event;
using Cis490.Protocols;
using Cis490.Protocols.Jobs;
using Cis490.Protocols.Workers;
using static Cis490.Coordinator.Jobs.CoordinatorCommands;
using static Cis490.Protocols.Jobs.JobEvents;

namespace Cis490.Coordinator.Jobs;

/// <summary>Workers that pull rather than offer slots (the HTTP gateway's <c>/v1</c> workers): a lease only in answer to
/// <see cref="WorkerProtocol.RequestLease"/>, with the lease's own heartbeat deadline; and metrics a lease reports after it
/// completed its job. Decided by <see cref="Decide"/>.</summary>
public sealed partial record CoordinatorState
{
    private sealed partial class Step
    {
        /// <summary>A worker that pulls rather than offers slots asks for one lease now: the next pending job it may take is leased to
        /// it (sent to its registered actor once written), or it is told why none is (<see cref="WorkerProtocol.NoLease"/>).</summary>
        public void RequestLease(LeaseRequest r)
        {
            var m = r.Message;
            NoLeaseFor(r, out var worker);
            if (worker is null) return;
            var next = State.Table.NextPending(now, j => State.MayTake(worker, j, now));
            if (next is null)
            {
                var (why, retryAfter) = NoJobFor(worker);
                Reply(new WorkerProtocol.NoLease(m.WorkerId, why, retryAfter));
                return;
            }
            var granted = (LeaseGranted)State.Table.Grant(next.JobId, worker.WorkerId, now, m.HeartbeatDeadlineSeconds).Event!;
            Persist(granted);
            Do(new Effect.Send(worker.Endpoint, new WorkerProtocol.Lease(next.Spec, granted.LeaseId)));
            Log(LogLevel.InfoLevel, $"Leased job {granted.JobId} to worker {worker.WorkerId} on its request (lease {granted.LeaseId}" +
                                    (m.HeartbeatDeadlineSeconds is { } d ? $", heartbeat deadline {d:0.#} s)" : ")"));
        }

        /// <summary>Refuses a lease request that cannot be served (worker not registered from the asking actor, draining, a bad
        /// deadline); <paramref name="worker"/> is the asking worker when it may be served.</summary>
        private void NoLeaseFor(LeaseRequest r, out WorkerEntry? worker)
        {
            var m = r.Message;
            worker = null;
            Func<Refusal, object> answer = x => new WorkerProtocol.NoLease(m.WorkerId, x.Message, 1);
            if (!State.Workers.TryGetValue(m.WorkerId, out var w))
                Refuse(ErrorKind.Unavailable, $"worker {m.WorkerId} is not registered (yet): it registers first", answer);
            else if (w.Endpoint != r.Endpoint)
            {
                Log(LogLevel.WarningLevel, $"Refused a lease request for worker {m.WorkerId} from {r.Endpoint}: it is registered from {w.Endpoint}");
                Refuse(ErrorKind.Forbidden, $"refused: worker {m.WorkerId} is registered from another actor", answer);
            }
            else if (m.HeartbeatDeadlineSeconds is { } d && !(d >= 1 && d <= 86_400))
                Refuse(ErrorKind.Invalid, $"a lease's heartbeat deadline must be 1 to 86400 s, got {d}", answer);
            else if (w.Draining) Refuse(ErrorKind.Conflict, $"worker {m.WorkerId} is draining: no new leases", answer);
            else worker = w;
        }

        /// <summary>Why no pending job can be leased to <paramref name="worker"/> now, and in how many seconds asking again may help
        /// (0: no particular time).</summary>
        private (string Why, double RetryAfter) NoJobFor(WorkerEntry worker)
        {
            var pending = State.Table.PendingJobs.ToList();
            if (pending.Count == 0) return ("no job is pending", 0);
            var fits = pending.Where(j => State.MayTake(worker, j, now)).ToList();
            if (fits.Count == 0)
                return ($"{pending.Count} pending job(s), none that worker {worker.WorkerId} may run (constraints, host policy or prefer_cuda)", 0);
            var next = fits.Min(j => j.RetryAt ?? now);
            return ($"{fits.Count} pending job(s) it may run wait out their retry backoff (the first until {next:HH:mm:ss})",
                Math.Max(0.1, (next - now).TotalSeconds));
        }

        /// <summary>Metrics the lease that completed a job reports after its upload: merged once written.</summary>
        public void MergeMetrics(TrainerProtocol.ReportMetrics m)
        {
            var decision = State.Table.MergeMetrics(m.JobId, m.LeaseId, m.Metrics, now);
            if (decision.Refusal is { } refusal)
            {
                Refuse(refusal, r => Refused(m.JobId, m.LeaseId, r));
                return;
            }
            if (m.Metrics.Count > 0) Persist(decision.Event!);
            Reply(new TrainerProtocol.Acknowledged(m.JobId, m.LeaseId, JobStatus.Completed));
        }
    }
}
