using System.Collections.Immutable;
using Akka.Event;
using Cis490.Coordinator.Operator;
using Cis490.Protocols;
using Cis490.Protocols.Artifacts;
using Cis490.Protocols.DataSets;
using Cis490.Protocols.Jobs;
using Cis490.Protocols.Operator;
using Cis490.Protocols.Workers;
using Cis490.Shared.Manifest;
using static Cis490.Coordinator.Jobs.CoordinatorCommands;
using static Cis490.Protocols.Jobs.JobEvents;
using static Cis490.Protocols.Operator.OperatorQueries;

namespace Cis490.Coordinator.Jobs;

/// <summary>The result of <see cref="CoordinatorState.Decide"/>: the state after the command, the events to persist (already
/// folded into <see cref="State"/>), the effects to perform once every one of them is written, and, when the command was
/// refused, why (the refusal is also in the reply effect, in the protocol's terms).</summary>
public sealed record Outcome(CoordinatorState State, IReadOnlyList<ICoordinatorEvent> Events, IReadOnlyList<Effect> Effects, Refusal? Refusal)
{
    /// <summary>For each of <see cref="Events"/>, the job it is about as it was just before it (null: not a job's event, or a new
    /// job). The coordinator makes the event's metrics and spans from it once the event is written, without folding the events
    /// into a second table of its own.</summary>
    public IReadOnlyList<JobState?> JobsBefore { get; init; } = [];

    /// <summary>The messages this outcome answers its command with.</summary>
    public IEnumerable<object> Replies => Effects.OfType<Effect.Reply>().Select(r => r.Message);

    /// <summary>The messages this outcome sends to the worker actor at <paramref name="endpoint"/>.</summary>
    public IEnumerable<object> SentTo(string endpoint) => Effects.OfType<Effect.Send>().Where(s => s.Endpoint == endpoint).Select(s => s.Message);
}

public sealed partial record CoordinatorState
{
    /// <summary>Decides <paramref name="command"/> at <paramref name="now"/>: a protocol message (worker, trainer, upload, operator
    /// request or query) or one of <see cref="CoordinatorCommands"/>. Pure: the same state, command and time give the same outcome.
    /// A command this coordinator does not know is refused with <see cref="ErrorKind.Invalid"/>, never thrown.</summary>
    public Outcome Decide(object command, DateTimeOffset now)
    {
        var step = new Step(this, now);
        switch (command)
        {
            case Recovered: step.Recovered(); break;
            case CoordinatorCommands.Register r: step.Register(r); step.Dispatch(); break;
            case EndpointGone g: step.EndpointGone(g.Endpoint); step.Dispatch(); break;
            case NodeLost n: step.NodeLost(n); step.Dispatch(); break;
            case Tick: step.ExpireOverdue(); step.Dispatch(); break;
            case LeaseRequest r: step.RequestLease(r); break;
            case FromWorker f:
                if (step.SpeaksFor(f)) return Decide(f.Message, now);
                break;
            case TrainerProtocol.ReportMetrics m: step.MergeMetrics(m); break;
            case TrainerProtocol.Started m: step.Started(m); break;
            case TrainerProtocol.Heartbeat m: step.Heartbeat(m); break;
            case TrainerProtocol.Failed m: step.EndLease(m.JobId, m.LeaseId, m.Error, countsAsAttempt: true); step.Dispatch(); break;
            case WorkerProtocol.LeaseDeclined m:
                step.EndLease(m.JobId, m.LeaseId, $"declined by worker: {m.Reason}", countsAsAttempt: false);
                step.Dispatch();
                break;
            case ArtifactProtocol.OfferUpload m: step.Offer(m); break;
            case Stored m: step.Stored(m); step.Dispatch(); break;
            case OperatorProtocol.SubmitManifest m: step.Manifest(m.FileName, m.Text, m.AllIds); step.Dispatch(); break;
            case OperatorProtocol.CancelJob m: step.Operate(m.JobId, id => step.State.Table.Cancel(id, m.Reason, now)); step.Dispatch(); break;
            case OperatorProtocol.RequeueJob m: step.Operate(m.JobId, id => step.State.Table.Requeue(id, now)); step.Dispatch(); break;
            case OperatorProtocol.ListJobs m:
                if (ListJobs(m, now, out var listProblem) is { } list) step.Reply(list);
                else step.Refuse(ErrorKind.Invalid, listProblem!, r => new OperatorProtocol.OperatorError(r.Message, r.Kind));
                break;
            case ShowJob m: step.ShowJob(m.JobId); break;
            case GetJobLogs m: step.JobLogs(m); break;
            case GetStatus: step.Reply(Status(now)); break;
            case ListWorkers: step.Reply(new WorkerList(Workers.Values.Select(WorkerView).ToList(), now)); break;
            case ListArtifacts or GetArtifact: step.Do(new Effect.ToStore(command)); break;
            case DataSetProtocol.Publish m: step.Publish(m); break;
            case DataSetStored m: step.DataSetStored(m); break;
            case DataSetProtocol.Fetch m: step.Fetch(m); break;
            case DataSetProtocol.ListDataSets: step.Reply(new DataSetProtocol.DataSetList(Table.DataSets)); break;
            case CheckHealth h:
                step.Reply(new CoordinatorHealth(h.SequenceNr, h.WritesInFlight, Table.Jobs.Count, Table.LiveCount, Workers.Count, now));
                break;
            default:
                step.Refuse(ErrorKind.Invalid, $"the coordinator does not take {command.GetType().Name} (are all nodes the same version?)",
                    r => new OperatorProtocol.OperatorError(r.Message, r.Kind));
                break;
        }
        return step.Result();
    }

    // ---------- views (replies to queries) ----------

    /// <summary>One job's row as operators see it.</summary>
    public OperatorProtocol.JobView JobView(JobState j) => OperatorViews.JobView(j, Progress.GetValueOrDefault(j.JobId), Unschedulable(j));

    /// <summary>The queue at a glance. Members are the cluster's, which the operator endpoint adds (the coordinator decides
    /// about jobs and workers, not about membership).</summary>
    public StatusView Status(DateTimeOffset now) =>
        new([], Workers.Count, Workers.Values.Sum(FreeSlots), OperatorViews.JobCounts(Table),
            Table.PendingJobs.Count(j => Unschedulable(j) is not null), now);

    private WorkerView WorkerView(WorkerEntry w) =>
        new(w.WorkerId, w.Address, w.Capability, w.Slots, Table.LeasesOf(w.WorkerId).OrderBy(j => j.Seq).Select(j => j.JobId).ToList(),
            LastSeen(w), w.Draining);

    /// <summary>One decision in the making: the state moves on with every event, so later rules of the same command see it.</summary>
    private sealed partial class Step(CoordinatorState state, DateTimeOffset now)
    {
        private readonly List<ICoordinatorEvent> _events = [];
        private readonly List<JobState?> _jobsBefore = [];
        private readonly List<Effect> _effects = [];
        private Refusal? _refusal;

        public CoordinatorState State { get; private set; } = state;

        public Outcome Result() => new(State, _events, _effects, _refusal) { JobsBefore = _jobsBefore };

        private void Persist(ICoordinatorEvent e)
        {
            _jobsBefore.Add(e is IJobEvent j ? State.Table.Jobs.GetValueOrDefault(j.JobId) : null);
            State = State.Apply(e);
            _events.Add(e);
        }

        public void Do(Effect e) => _effects.Add(e);

        public void Reply(object message) => Do(new Effect.Reply(message));

        private void Log(LogLevel level, string text) => Do(new Effect.Log(level, text));

        public void Refuse(ErrorKind kind, string message, Func<Refusal, object> reply) => Refuse(new Refusal(kind, message), reply);

        private void Refuse(Refusal refusal, Func<Refusal, object> reply)
        {
            _refusal = refusal;
            Reply(reply(refusal));
        }

        // ---------- workers ----------

        public void Recovered()
        {
            // Recovered leases get a full heartbeat deadline from now, and none expires before the grace is over: their workers
            // come back (rejoin, re-register) and report them, and the jobs go on with no attempt counted.
            var grace = State.Policy.RecoveredLeaseGrace;
            State = State with
            {
                LastBeat = State.Table.LiveLeases.ToImmutableDictionary(j => j.JobId, _ => now),
                GraceUntil = grace > TimeSpan.Zero ? now + grace : null,
                InGrace = State.Table.LiveLeases.Select(j => j.JobId).ToImmutableHashSet(),
            };
            Log(LogLevel.InfoLevel, $"JobCoordinator recovered {State.Table.Jobs.Count} jobs ({State.Table.LiveCount} live leases, " +
                                    $"last lease id {State.Table.LastLeaseId}); recovered leases cannot expire for {grace.TotalSeconds:0} s");
        }

        public void Register(CoordinatorCommands.Register r)
        {
            var m = r.Message;
            var previous = State.Workers.GetValueOrDefault(m.WorkerId);
            // A worker id belongs to one node at a time. Another node (another host:port) cannot take it while the holder is
            // registered: it is forgotten as soon as its connection drops, it is unreachable or removed, so a crashed worker's
            // restart is never kept out for long, but a second machine started with the same --worker-id (or a stranger) is.
            if (previous is not null && previous.Address != r.Address)
            {
                var why = $"worker id {m.WorkerId} is held by the live node {previous.Address} (last heard {(now - State.LastSeen(previous)).TotalSeconds:F0} s ago); " +
                          $"{r.Address} cannot take it: give this node its own --worker-id, or stop the other";
                Log(LogLevel.WarningLevel, $"Refused the registration of {r.Address}: {why}");
                Refuse(ErrorKind.Conflict, why, x => new WorkerProtocol.RegistrationRefused(m.WorkerId, x.Message, x.Kind));
                return;
            }
            var newIncarnation = previous is not null && previous.Endpoint != r.Endpoint;
            if (previous is null || newIncarnation)
            {
                if (previous is not null) Do(new Effect.Unwatch(previous.Endpoint));
                Do(new Effect.Watch(r.Endpoint));
                Log(LogLevel.InfoLevel, $"Worker {m.WorkerId} registered from {r.Address}: {m.Slots} slot(s), {m.Capability.Cores} cores, " +
                                        $"{m.Capability.RamGib:F1} GiB RAM, cuda={m.Capability.Cuda}, families " +
                                        (m.Capability.Families is { } f ? string.Join(",", f) : "(not said: all)"));
            }
            if (m.Draining && !(previous?.Draining ?? false))
                Log(LogLevel.InfoLevel, $"Worker {m.WorkerId} is draining: no new leases; its {m.Held.Count} running lease(s) finish or are handed back");
            State = State with
            {
                Workers = State.Workers.SetItem(m.WorkerId, new WorkerEntry(m.WorkerId, r.Endpoint, r.Address, m.Capability, m.Slots, now, m.Draining)),
            };

            // A lease the worker still runs but that is no longer its own (re-leased, cancelled, expired) must stop there.
            var held = m.Held.Select(h => (h.JobId, h.LeaseId)).ToHashSet();
            foreach (var h in m.Held)
            {
                var reason = State.Table.Fence(h.JobId, h.LeaseId)?.Message
                             ?? (State.Table.Jobs[h.JobId].WorkerId != m.WorkerId ? "lease belongs to another worker" : null);
                if (reason is not null) Do(new Effect.Send(r.Endpoint, new WorkerProtocol.RevokeLease(h.JobId, h.LeaseId, reason)));
                // A recovered lease reported back is re-attached: its deadline runs from now. (Otherwise a registration says
                // nothing about the trainer: a worker lists a hung trainer's lease too, and only heartbeats keep a lease alive.)
                else if (State.InGrace?.Contains(h.JobId) == true) State = State.HeardFrom(h.JobId, now);
            }
            // A lease granted to this worker that it does not report is not running there: it ends at once, not counted as an
            // attempt, and the slot is free again. For a new incarnation (its process restarted) that is every lease of the old
            // one; for the same incarnation only those it has seen (LastLeaseSeen), since a newer one may be on its way to it.
            var missing = State.Table.LeasesOf(m.WorkerId)
                .Where(j => !held.Contains((j.JobId, j.LeaseId)) && (newIncarnation || j.LeaseId <= m.LastLeaseSeen))
                .OrderBy(j => j.Seq).ToList();
            foreach (var j in missing)
                EndUncounted(j, newIncarnation ? $"worker {m.WorkerId} restarted without it" : $"worker {m.WorkerId} no longer runs it");
            Reply(new WorkerProtocol.Registered(m.WorkerId, State.Table.LeaseCountOf(m.WorkerId)));
        }

        public void EndpointGone(string endpoint)
        {
            // The node, not the job, failed: its jobs are retried at once (no backoff, no attempt counted), on another worker.
            if (State.WorkerAt(endpoint) is not { } gone) return;
            Forget(gone, $"worker {gone.WorkerId} left or was removed from the cluster");
        }

        public void NodeLost(NodeLost n)
        {
            foreach (var gone in State.Workers.Values.Where(w => w.Address == n.Address).ToList())
                Forget(gone, $"worker {gone.WorkerId}'s node {n.Why}");
        }

        /// <summary>Forgets a worker whose node failed and ends its leases, none counted as an attempt.</summary>
        private void Forget(WorkerEntry gone, string reason)
        {
            State = State with { Workers = State.Workers.Remove(gone.WorkerId) };
            var leases = State.Table.LeasesOf(gone.WorkerId).OrderBy(j => j.Seq).ToList();
            // Still watched: a node that was only unreachable may register again from the same actor.
            Log(LogLevel.WarningLevel, $"{reason}; ending its {leases.Count} lease(s), not counted as attempts");
            foreach (var j in leases) EndUncounted(j, reason);
        }

        /// <summary>Ends a live lease for a reason that is not the job's fault: pending again at once, no attempt counted.</summary>
        private void EndUncounted(JobState j, string reason)
        {
            Persist(State.Table.EndLease(j.JobId, j.LeaseId, $"{reason} (not counted as an attempt)", countsAsAttempt: false, now).Event!);
            Log(LogLevel.WarningLevel, $"Job {j.JobId} lease {j.LeaseId}: {reason}; pending again");
        }

        /// <summary>Ends every lease past its heartbeat deadline; its worker is told to stop once the end is written. When the
        /// worker is registered and silent, its trainer hung: an attempt, with backoff. When it is not (its node went away, or it
        /// never came back after a coordinator restart), the job is not to blame: pending again at once, no attempt counted.</summary>
        public void ExpireOverdue()
        {
            foreach (var j in State.Overdue(now).OrderBy(j => j.Seq).ToList())
            {
                var deadline = $"no heartbeat for {State.DeadlineOf(j).TotalSeconds:F0} s";
                if (j.WorkerId is not { } w || !State.Workers.TryGetValue(w, out var worker))
                {
                    EndUncounted(j, $"{deadline} and worker {j.WorkerId} is not connected");
                    continue;
                }
                var reason = $"{deadline} from worker {w}";
                Persist(State.Table.EndLease(j.JobId, j.LeaseId, reason, countsAsAttempt: true, now, State.Policy.Retry).Event!);
                Do(new Effect.Send(worker.Endpoint, new WorkerProtocol.RevokeLease(j.JobId, j.LeaseId, "heartbeat deadline passed")));
                Log(LogLevel.WarningLevel, $"Job {j.JobId}: {reason}");
            }
        }

        /// <summary>Grants leases while some registered worker has a free slot and some pending job fits it (constraints, host
        /// policy, retry backoff, prefer_cuda wait): highest priority first, then oldest; CUDA workers choose first.</summary>
        public void Dispatch()
        {
            var workers = State.Workers.Values.Where(w => !w.Draining)
                .OrderByDescending(State.HasCuda)
                .ThenBy(w => w.WorkerId, StringComparer.Ordinal)
                .ToList();
            foreach (var worker in workers)
            {
                for (var free = State.FreeSlots(worker); free > 0; free--)
                {
                    var next = State.Table.NextPending(now, j => State.MayTake(worker, j, now));
                    if (next is null) break;
                    var granted = (LeaseGranted)State.Table.Grant(next.JobId, worker.WorkerId, now).Event!;
                    Persist(granted);
                    Do(new Effect.Send(worker.Endpoint, new WorkerProtocol.Lease(next.Spec, granted.LeaseId)));
                    Log(LogLevel.InfoLevel, $"Leased job {granted.JobId} to worker {worker.WorkerId} (lease {granted.LeaseId})");
                }
            }
        }

        // ---------- operators ----------

        /// <summary>Validates a whole manifest; its new jobs (and host declarations, when it has any that differ) are persisted.</summary>
        public void Manifest(string fileName, string text, bool allIds = false)
        {
            var result = ManifestLoader.Parse(fileName, text);
            if (!result.IsValid)
            {
                Log(LogLevel.WarningLevel, $"Rejected manifest {fileName}: {result.Errors.Count} error(s), first: {result.Errors[0]}");
                Refuse(ErrorKind.Invalid, $"{fileName}: {result.Errors.Count} error(s)", _ => Summarise(fileName, result.Errors, State.Policy.ErrorsShown));
                return;
            }
            // Each job is bound to the data set it names, else to the latest published one (else none: the workers' --data folder).
            var (jobs, unbound) = State.Table.Bind(result);
            if (unbound.Count > 0)
            {
                Log(LogLevel.WarningLevel, $"Rejected manifest {fileName}: {unbound.Count} error(s), first: {unbound[0]}");
                Refuse(ErrorKind.Invalid, $"{fileName}: {unbound.Count} error(s)", _ => new OperatorProtocol.ManifestRejected(fileName, unbound));
                return;
            }
            // A manifest that declares [[hosts]] replaces the fleet's declaration; one without (extra jobs, say) leaves it alone.
            var declaresHosts = result.HostPolicies.Count > 0 && State.Table.HostsDiffer(result.HostPolicies);
            if (declaresHosts) Persist(new HostsDeclared(result.HostPolicies, fileName, now));
            var added = State.Table.AddJobs(jobs, fileName, now);
            foreach (var a in added) Persist(a);
            var known = jobs.Select(j => j.JobId).Except(added.Select(a => a.JobId)).ToList();
            if (_events.Count > 0)
                Log(LogLevel.InfoLevel, $"Manifest {fileName}: {added.Count} new job(s), {known.Count} already known" +
                                        (declaresHosts ? $"; {result.HostPolicies.Count} host declaration(s)" : ""));
            Reply(Summarise(fileName, added.Select(a => a.JobId).ToList(), known, allIds ? int.MaxValue : State.Policy.IdsShown));
        }

        /// <summary>Cancel or requeue: resolve the id, decide; a cancelled live lease's worker is told to stop once it is written.</summary>
        public void Operate(string idOrPrefix, Func<string, Decision> decide)
        {
            var id = State.Table.Resolve(idOrPrefix, out var problem);
            var decision = id is null ? Decision.Refuse(problem!) : decide(id);
            if (decision.Refusal is { } refusal)
            {
                var status = id is null ? "" : State.Table.Jobs[id].Status;
                Refuse(refusal, r => OperatorProtocol.OperatorResult.Refused(r.Kind, id ?? idOrPrefix, status, r.Message));
                return;
            }
            var worker = State.Table.Jobs[id!].WorkerId;
            var e = (IJobEvent)decision.Event!;
            Persist(e);
            var message = "requeued: pending";
            if (e is JobCancelled c)
            {
                message = "cancelled";
                if (c.LeaseId > 0 && worker is not null && State.Workers.TryGetValue(worker, out var w))
                {
                    Do(new Effect.Send(w.Endpoint, new WorkerProtocol.RevokeLease(c.JobId, c.LeaseId, $"cancelled: {c.Reason}")));
                    message = $"cancelled; worker {w.WorkerId} was told to stop lease {c.LeaseId}";
                }
            }
            Log(LogLevel.InfoLevel, $"Job {e.JobId}: {message}");
            Reply(new OperatorProtocol.OperatorResult(true, e.JobId, State.Table.Jobs[e.JobId].Status, message));
        }

        public void ShowJob(string idOrPrefix)
        {
            if (State.Table.Resolve(idOrPrefix, out var problem) is not { } id)
            {
                Refuse(problem!, r => new OperatorProtocol.OperatorError(r.Message, r.Kind));
                return;
            }
            var job = State.Table.Jobs[id];
            var unschedulable = State.Unschedulable(job);
            Reply(new JobDetail(State.JobView(job), job.Spec, job.History, job.RetryAt, unschedulable));
        }

        public void JobLogs(GetJobLogs m)
        {
            if (State.Table.Resolve(m.JobId, out var problem) is not { } id)
            {
                Refuse(problem!, r => new OperatorProtocol.OperatorError(r.Message, r.Kind));
                return;
            }
            Do(new Effect.ReplyLogs(id, State.Table.Jobs[id].Status, m.After));
        }
    }
}
