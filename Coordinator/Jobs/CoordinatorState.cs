using System.Collections.Immutable;
using Cis490.Protocols;
using Cis490.Protocols.Jobs;
using Cis490.Protocols.Workers;
using Cis490.Shared.Jobs;
using static Cis490.Protocols.Jobs.JobEvents;

namespace Cis490.Coordinator.Jobs;

/// <summary>The rules a coordinator decides by, from HOCON (<c>cis490.coordinator</c>; coordinator.conf says why each value).</summary>
/// <param name="RecoveredLeaseGrace">After a recovery, how long a recovered lease cannot expire: its worker has this long to
/// come back and report it (a coordinator restart must not cost the trainers their work).</param>
/// <param name="ErrorsShown">How many of a rejected manifest's errors its answer gives in full (the rest are counted by kind).</param>
/// <param name="IdsShown">How many new and known job ids a manifest's acceptance gives (the rest are counted).</param>
public sealed record CoordinatorPolicy(TimeSpan HeartbeatDeadline, RetryPolicy Retry, TimeSpan PreferCudaWait, TimeSpan RecoveredLeaseGrace = default,
    int ErrorsShown = 50, int IdsShown = 10)
{
    public static CoordinatorPolicy From(CoordinatorSettings s) =>
        new(s.HeartbeatDeadline, s.Retry, s.PreferCudaWait, s.RecoveredLeaseGrace, s.ManifestErrorsShown, s.ManifestIdsShown);
}

/// <summary>A registered worker as the coordinator sees it (volatile: workers re-register after a coordinator restart).</summary>
/// <param name="Endpoint">Key of the worker's actor (see <see cref="CoordinatorCommands.Register"/>): where its leases are sent.</param>
public sealed record WorkerEntry(
    string WorkerId,
    string Endpoint,
    string Address,
    WorkerCapability Capability,
    int Slots,
    DateTimeOffset LastSeen,
    bool Draining)
{
    /// <summary>Whether the actor at <paramref name="senderPath"/> (a path with its address, no uid) is the worker actor at
    /// <paramref name="endpoint"/> (its key: path with address and <c>#uid</c>) or one of its descendants (its trainers).</summary>
    public static bool IsSelfOrChild(string endpoint, string senderPath)
    {
        var hash = endpoint.LastIndexOf('#');
        var path = hash >= 0 ? endpoint[..hash] : endpoint;
        return senderPath == path || (senderPath.Length > path.Length && senderPath.StartsWith(path, StringComparison.Ordinal) && senderPath[path.Length] == '/');
    }
}

/// <summary>The JobCoordinator's whole state: the persisted job table (a fold over <see cref="JobEvents"/>) and what lives only
/// while the coordinator runs — registered workers, lease clocks, the latest progress of each running job, and the policy.
/// Every decision is <see cref="Decide"/>: a pure function of this state, a command and the time.</summary>
public sealed partial record CoordinatorState(
    JobTable Table,
    ImmutableSortedDictionary<string, WorkerEntry> Workers,
    ImmutableDictionary<string, DateTimeOffset> LastBeat,
    ImmutableDictionary<string, TrainingProgress> Progress,
    CoordinatorPolicy Policy,
    DateTimeOffset? GraceUntil = null,
    ImmutableHashSet<string>? InGrace = null)
{
    /// <summary>A coordinator that knows nothing yet.</summary>
    public static CoordinatorState Initial(CoordinatorPolicy policy, JobTable? table = null) =>
        new(table ?? JobTable.Empty, ImmutableSortedDictionary.Create<string, WorkerEntry>(StringComparer.Ordinal),
            ImmutableDictionary<string, DateTimeOffset>.Empty, ImmutableDictionary<string, TrainingProgress>.Empty, policy);

    /// <summary>Folds one event: the table moves on; a lease's clock starts with its grant and start, and is forgotten with its end.</summary>
    public CoordinatorState Apply(ICoordinatorEvent e)
    {
        var next = this with { Table = Table.Apply(e) };
        return e switch
        {
            LeaseGranted g => next with { LastBeat = LastBeat.SetItem(g.JobId, g.At), Progress = Progress.Remove(g.JobId) },
            JobStarted s => next with { LastBeat = LastBeat.SetItem(s.JobId, s.At) },
            JobCompleted or LeaseEnded or JobCancelled => next with
            {
                LastBeat = LastBeat.Remove(((IJobEvent)e).JobId), Progress = Progress.Remove(((IJobEvent)e).JobId),
            },
            _ => next,
        };
    }

    /// <summary>The worker registered from <paramref name="endpoint"/>, if any.</summary>
    public WorkerEntry? WorkerAt(string endpoint) => Workers.Values.FirstOrDefault(w => w.Endpoint == endpoint);

    /// <summary>Whether a worker has CUDA as placement sees it (what it detected, lowered by its host's declaration).</summary>
    public bool HasCuda(WorkerEntry w) => Placement.Effective(w.Capability, Placement.PolicyFor(w.Capability.Hostname, Table.Hosts)).Cuda;

    /// <summary>Free slots of a worker: its slots less the live leases it holds.</summary>
    public int FreeSlots(WorkerEntry w) => Math.Max(0, w.Slots - Table.LeaseCountOf(w.WorkerId));

    /// <summary>Whether <paramref name="worker"/> may take <paramref name="job"/> at <paramref name="now"/>: the job's constraints and
    /// the host's policy allow it, and a prefer_cuda job skips a worker without CUDA while a CUDA worker that could run it is
    /// connected, until it has waited <see cref="CoordinatorPolicy.PreferCudaWait"/>.</summary>
    public bool MayTake(WorkerEntry worker, JobState job, DateTimeOffset now)
    {
        if (Placement.Refusal(job.Spec, worker.Capability, Table.Hosts) is not null) return false;
        if (!job.Spec.Needs.PreferCuda || HasCuda(worker)) return true;
        if (now - JobTable.PendingSince(job) >= Policy.PreferCudaWait) return true;
        return !Workers.Values.Any(w => !w.Draining && HasCuda(w) && Placement.Refusal(job.Spec, w.Capability, Table.Hosts) is null);
    }

    /// <summary>Why no connected worker could ever run a pending job (its constraints or the hosts' policy), or null when one could
    /// (or the job is not pending).</summary>
    public string? Unschedulable(JobState job)
    {
        if (job.Status != JobStatus.Pending) return null;
        if (Workers.Count == 0) return "no worker is connected";
        var reasons = Workers.Values.Select(w => (w.WorkerId, Reason: Placement.Refusal(job.Spec, w.Capability, Table.Hosts))).ToList();
        if (reasons.Any(r => r.Reason is null)) return null;
        // The family first when no connected worker can train it at all: that is what the operator has to fix (a library to install).
        var family = Workers.Values.All(w => !w.Capability.CanTrain(job.Spec.Model))
            ? $"no connected worker can train {job.Spec.Model} (the family is missing on every worker); "
            : "no connected worker can run it: ";
        return family + string.Join("; ", reasons.Select(r => $"{r.WorkerId}: {r.Reason}"));
    }

    /// <summary>The leases whose trainer has not been heard from within the heartbeat deadline at <paramref name="now"/>, except
    /// recovered leases not heard from since, while the grace after the recovery lasts (<see cref="CoordinatorPolicy.RecoveredLeaseGrace"/>).</summary>
    public IEnumerable<JobState> Overdue(DateTimeOffset now) =>
        Table.LiveLeases.Where(j => now - LastBeat.GetValueOrDefault(j.JobId, now) > DeadlineOf(j) && !Protected(j.JobId, now));

    /// <summary>A lease's heartbeat deadline: its own when its worker asked for one (a polling HTTP worker), else the policy's.</summary>
    public TimeSpan DeadlineOf(JobState job) =>
        job.LeaseDeadlineSeconds is > 0 and var s ? TimeSpan.FromSeconds(s) : Policy.HeartbeatDeadline;

    /// <summary>Whether a lease recovered from the journal is still within the grace after the recovery and not heard from since.</summary>
    private bool Protected(string jobId, DateTimeOffset now) => GraceUntil > now && InGrace is { } g && g.Contains(jobId);

    /// <summary>The coordinator heard from a lease's trainer or worker at <paramref name="now"/>: its deadline runs from now, and a
    /// recovered lease leaves the grace (it is back).</summary>
    public CoordinatorState HeardFrom(string jobId, DateTimeOffset now) =>
        this with { LastBeat = LastBeat.SetItem(jobId, now), InGrace = InGrace?.Remove(jobId) };

    /// <summary>When the coordinator last heard from a worker: its latest registration or the latest heartbeat of a job it runs.</summary>
    public DateTimeOffset LastSeen(WorkerEntry w) =>
        Table.LeasesOf(w.WorkerId).Select(j => LastBeat.GetValueOrDefault(j.JobId, w.LastSeen)).Append(w.LastSeen).Max();

    /// <summary>A refusal of a lease message, in the trainer protocol's terms.</summary>
    internal static TrainerProtocol.Refused Refused(string jobId, long leaseId, Refusal r) => new(jobId, leaseId, r.Message, r.Kind);

    /// <summary>Whether a kind of refusal is about a lease that is gone (fencing) rather than about the request.</summary>
    internal static bool LeaseLost(Refusal r) => r.Kind is ErrorKind.StaleLease or ErrorKind.NotFound;
}
