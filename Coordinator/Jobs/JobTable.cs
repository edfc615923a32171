using System.Collections.Immutable;
using Cis490.Protocols;
using Cis490.Protocols.DataSets;
using Cis490.Protocols.Jobs;
using static Cis490.Protocols.Jobs.JobEvents;

namespace Cis490.Coordinator.Jobs;

/// <summary>Why a command was refused: its <see cref="ErrorKind"/> (what clients decide by) and a message for people.</summary>
public sealed record Refusal(ErrorKind Kind, string Message)
{
    public override string ToString() => Message;
}

/// <summary>The outcome of a decision about one job: the event to persist, or why the command was refused (nothing to persist).</summary>
public readonly record struct Decision(IJobEvent? Event, Refusal? Refusal)
{
    public static Decision Refuse(ErrorKind kind, string reason) => new(null, new Refusal(kind, reason));
    public static Decision Refuse(Refusal refusal) => new(null, refusal);
    public static Decision Accept(IJobEvent e) => new(e, null);
}

/// <summary>How long a failed attempt waits before its job may be leased again: <c>Base × 2^(failures before)</c>, at most <c>Max</c>.</summary>
public sealed record RetryPolicy(TimeSpan Base, TimeSpan Max)
{
    public static readonly RetryPolicy None = new(TimeSpan.Zero, TimeSpan.Zero);

    public TimeSpan Delay(int failuresBefore) =>
        Base <= TimeSpan.Zero ? TimeSpan.Zero : TimeSpan.FromTicks(Math.Min(Max.Ticks, Base.Ticks * (1L << Math.Min(failuresBefore, 30))));
}

/// <summary>The JobCoordinator's state: a pure, immutable fold over <see cref="JobEvents"/>, with the decisions that produce them.</summary>
/// <remarks>No actors here: every rule (fencing, retries, ordering) is a plain function, unit-tested on its own.</remarks>
public sealed partial record JobTable(ImmutableDictionary<string, JobState> Jobs, long LastLeaseId, long NextSeq, IReadOnlyList<HostPolicy> Hosts,
    ImmutableList<DataSetInfo>? Published = null)
{
    public static readonly JobTable Empty = new(ImmutableDictionary.Create<string, JobState>(StringComparer.Ordinal), 0, 0, []);

    // ---------- the fold ----------

    public JobTable Apply(ICoordinatorEvent e) => e switch
    {
        HostsDeclared h => this with { Hosts = h.Hosts },
        DataSetPublished d => this with { Published = DataSets.Add(d.DataSet) },
        JobAdded a when !Jobs.ContainsKey(a.JobId) => Replace(null, new JobState(Shared(a.Spec), JobStatus.Pending, NextSeq, 0, 0, null, a.At, null, null,
            null, null, ImmutableDictionary<string, double>.Empty, null)) with { NextSeq = NextSeq + 1 },
        JobAdded => this, // a replayed duplicate changes nothing
        LeaseGranted g => Update(g.JobId, j => j with
        {
            Status = JobStatus.Leased, LeaseId = g.LeaseId, WorkerId = string.Intern(g.WorkerId), LeasedAt = g.At, StartedAt = null, RetryAt = null,
            LeaseDeadlineSeconds = g.HeartbeatDeadlineSeconds,
            Attempts = Record(j, new AttemptRecord(g.LeaseId, string.Intern(g.WorkerId), g.At, null, null, "leased", null)),
        }) with { LastLeaseId = Math.Max(LastLeaseId, g.LeaseId) },
        JobStarted s => Update(s.JobId, j => j with
        {
            Status = JobStatus.Running, StartedAt = s.At, Attempts = EndAttempt(j, s.LeaseId, a => a with { StartedAt = s.At, Outcome = "running" }),
        }),
        JobCompleted c => Update(c.JobId, j => j with
        {
            Status = JobStatus.Completed, ArtifactSha256 = c.ArtifactSha256, Metrics = c.Metrics, FinishedAt = c.At, LastError = null,
            Attempts = EndAttempt(j, c.LeaseId, a => a with { EndedAt = c.At, Outcome = "completed" }),
        }),
        LeaseEnded x => Update(x.JobId, j =>
        {
            var failed = x.CountsAsAttempt ? j.FailedAttempts + 1 : j.FailedAttempts;
            var exhausted = failed >= j.Spec.MaxAttempts;
            return j with
            {
                FailedAttempts = failed,
                Status = exhausted ? JobStatus.Failed : JobStatus.Pending,
                LastError = x.CountsAsAttempt ? x.Reason : j.LastError,
                WorkerId = exhausted ? j.WorkerId : null,
                FinishedAt = exhausted ? x.At : null,
                RetryAt = exhausted ? null : x.RetryAt,
                Attempts = EndAttempt(j, x.LeaseId, a => a with
                {
                    EndedAt = x.At, Outcome = x.CountsAsAttempt ? "failed" : "handed-back", Error = x.Reason,
                }),
            };
        }),
        MetricsMerged m => Update(m.JobId, j => j with
        {
            Metrics = m.Metrics.Aggregate(j.Metrics.ToImmutableDictionary(), (all, kv) => all.SetItem(kv.Key, kv.Value)),
        }),
        JobCancelled c => Update(c.JobId, j => j with
        {
            Status = JobStatus.Cancelled, FinishedAt = c.At, LastError = $"cancelled: {c.Reason}", RetryAt = null,
            Attempts = c.LeaseId > 0 ? EndAttempt(j, c.LeaseId, a => a with { EndedAt = c.At, Outcome = "cancelled", Error = c.Reason }) : j.Attempts,
        }),
        JobRequeued r => Update(r.JobId, j => j with
        {
            Status = JobStatus.Pending, FailedAttempts = 0, WorkerId = null, FinishedAt = null, RetryAt = null,
        }),
        _ => throw new ArgumentException($"unknown job event {e.GetType().Name}"),
    };

    /// <summary>The spec as the table keeps it: the strings many jobs repeat (model, mode, hyper, split; a fleet's worker ids) are
    /// shared instances and an empty host list is the one empty array, not a copy per job decoded from each event. At 100 000 jobs
    /// that is several MB of the coordinator's memory (bench scale).</summary>
    private static JobSpec Shared(JobSpec s) => s with
    {
        Model = string.Intern(s.Model), Mode = string.Intern(s.Mode), HyperJson = string.Intern(s.HyperJson),
        SplitRecipe = string.Intern(s.SplitRecipe), TrainHosts = s.TrainHosts.Count == 0 ? [] : s.TrainHosts,
    };

    private JobTable Update(string jobId, Func<JobState, JobState> change) =>
        Jobs.TryGetValue(jobId, out var job)
            ? Replace(job, change(job))
            : throw new InvalidOperationException($"event for unknown job {jobId}");

    private static IReadOnlyList<AttemptRecord> Record(JobState j, AttemptRecord a) =>
        j.History.Count < JobState.MaxAttemptRecords ? [.. j.History, a] : [.. j.History.Skip(j.History.Count - JobState.MaxAttemptRecords + 1), a];

    private static IReadOnlyList<AttemptRecord>? EndAttempt(JobState j, long leaseId, Func<AttemptRecord, AttemptRecord> change) =>
        j.Attempts?.Select(a => a.LeaseId == leaseId ? change(a) : a).ToList();

    // ---------- snapshots ----------

    /// <summary>The table as a snapshot, jobs in the order they were added (read off the seq index). The job list is read only when
    /// the snapshot store serializes it, on its own thread: the table is immutable, so that is safe, and the coordinator's thread
    /// does not stop for 100 000 index look-ups at every snapshot while leases wait (bench scale, issue 17).</summary>
    public JobTableSnapshot ToSnapshot() => new(LastLeaseId, NextSeq, new JobsInSeqOrder(Jobs, BySeq), Hosts, DataSets);

    /// <summary>The jobs of one immutable table in seq order, read when enumerated.</summary>
    private sealed class JobsInSeqOrder(ImmutableDictionary<string, JobState> jobs, ImmutableList<SeqKey> bySeq) : IReadOnlyList<JobState>
    {
        public int Count => bySeq.Count;
        public JobState this[int index] => jobs[bySeq[index].JobId];

        public IEnumerator<JobState> GetEnumerator()
        {
            foreach (var k in bySeq) yield return jobs[k.JobId];
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    public static JobTable FromSnapshot(JobTableSnapshot s) =>
        Indexed(s.Jobs, s.LastLeaseId, s.NextSeq, s.Hosts ?? []) with { Published = s.DataSets?.ToImmutableList() };

    // ---------- decisions ----------

    /// <summary>Events for the manifest's jobs that are not known yet; known jobs keep their status (reload is idempotent).</summary>
    public IReadOnlyList<JobAdded> AddJobs(IEnumerable<JobSpec> specs, string manifestFile, DateTimeOffset now) =>
        specs.Where(s => !Jobs.ContainsKey(s.JobId)).Select(s => new JobAdded(s, manifestFile, now)).ToList();

    /// <summary>The next pending job a worker may take at <paramref name="now"/>: not waiting out a retry backoff, accepted by
    /// <paramref name="canRun"/>; highest priority first, then the oldest.</summary>
    public JobState? NextPending(DateTimeOffset now, Func<JobState, bool>? canRun = null) =>
        PendingJobs.FirstOrDefault(j => (j.RetryAt is null || j.RetryAt <= now) && (canRun is null || canRun(j)));

    /// <summary>Since when a pending job has waited for a worker: its last lease's end, else when it was added.</summary>
    public static DateTimeOffset PendingSince(JobState job) => job.History.LastOrDefault()?.EndedAt ?? job.AddedAt;

    /// <summary>Whether the manifest's host declarations differ from the table's (a reload persists them only then).</summary>
    public bool HostsDiffer(IReadOnlyList<HostPolicy> hosts) =>
        hosts.Count != Hosts.Count || hosts.Zip(Hosts).Any(p =>
            p.Item1.Hostname != p.Item2.Hostname || p.Item1.Cuda != p.Item2.Cuda || p.Item1.VramGib != p.Item2.VramGib
            || p.Item1.RamGib != p.Item2.RamGib || !p.Item1.AllowJobs.SequenceEqual(p.Item2.AllowJobs)
            || !p.Item1.DenyJobs.SequenceEqual(p.Item2.DenyJobs));

    /// <summary>A new lease on a pending job, with a lease id larger than any before.</summary>
    /// <param name="heartbeatDeadlineSeconds">The lease's own heartbeat deadline (a polling HTTP worker's); null: the policy's.</param>
    public Decision Grant(string jobId, string workerId, DateTimeOffset now, double? heartbeatDeadlineSeconds = null)
    {
        if (!Jobs.TryGetValue(jobId, out var job)) return Decision.Refuse(ErrorKind.NotFound, $"unknown job {jobId}");
        if (job.Status != JobStatus.Pending) return Decision.Refuse(ErrorKind.Conflict, $"job {jobId} is {job.Status}, not pending");
        return Decision.Accept(new LeaseGranted(jobId, LastLeaseId + 1, workerId, now, heartbeatDeadlineSeconds));
    }

    /// <summary>Merges metrics a lease reports after it completed its job (an HTTP worker's <c>complete</c> with metrics): only the
    /// lease that completed it may; an empty set changes nothing and is accepted.</summary>
    public Decision MergeMetrics(string jobId, long leaseId, IReadOnlyDictionary<string, double> metrics, DateTimeOffset now)
    {
        if (!Jobs.TryGetValue(jobId, out var job)) return Decision.Refuse(ErrorKind.NotFound, $"unknown job {jobId}");
        if (job.Status != JobStatus.Completed || job.LeaseId != leaseId)
            return job.HoldsLease && job.LeaseId == leaseId
                ? Decision.Refuse(ErrorKind.Conflict, $"job {jobId} lease {leaseId} has not completed: its metrics come with its upload, or after it")
                : Decision.Refuse(ErrorKind.StaleLease, $"lease {leaseId} did not complete job {jobId} (it is {job.Status}, lease {job.LeaseId})");
        if (metrics.Keys.FirstOrDefault(k => string.IsNullOrWhiteSpace(k) || k.Length > 64) is { } badKey)
            return Decision.Refuse(ErrorKind.Invalid, $"metric name '{badKey}' must be 1 to 64 characters");
        return Decision.Accept(new MetricsMerged(jobId, leaseId, metrics, now));
    }

    public Decision Start(string jobId, long leaseId, DateTimeOffset now) =>
        Fence(jobId, leaseId) is { } refusal ? Decision.Refuse(refusal)
        : Jobs[jobId].Status == JobStatus.Running ? Decision.Refuse(ErrorKind.Conflict, $"job {jobId} lease {leaseId} is already running")
        : Decision.Accept(new JobStarted(jobId, leaseId, now));

    public Decision Complete(string jobId, long leaseId, string sha256, long bytes, IReadOnlyDictionary<string, double> metrics, DateTimeOffset now) =>
        Fence(jobId, leaseId) is { } refusal ? Decision.Refuse(refusal)
        : Decision.Accept(new JobCompleted(jobId, leaseId, sha256, bytes, metrics, now));

    /// <summary>Ends a lease without an artifact; <paramref name="countsAsAttempt"/> is false when the worker handed it back
    /// untouched or drained. A failed attempt that leaves attempts over waits out <paramref name="retry"/>'s backoff.</summary>
    public Decision EndLease(string jobId, long leaseId, string reason, bool countsAsAttempt, DateTimeOffset now, RetryPolicy? retry = null)
    {
        if (Fence(jobId, leaseId) is { } refusal) return Decision.Refuse(refusal);
        var job = Jobs[jobId];
        var retriable = countsAsAttempt && job.FailedAttempts + 1 < job.Spec.MaxAttempts;
        var delay = retriable ? (retry ?? RetryPolicy.None).Delay(job.FailedAttempts) : TimeSpan.Zero;
        return Decision.Accept(new LeaseEnded(jobId, leaseId, reason, countsAsAttempt, now, delay > TimeSpan.Zero ? now + delay : null));
    }

    /// <summary>Cancels a job that has not finished; a live lease ends with it (its worker must be told to stop).</summary>
    public Decision Cancel(string jobId, string reason, DateTimeOffset now)
    {
        if (!Jobs.TryGetValue(jobId, out var job)) return Decision.Refuse(ErrorKind.NotFound, $"unknown job {jobId}");
        if (job.Status is JobStatus.Completed or JobStatus.Failed or JobStatus.Cancelled)
            return Decision.Refuse(ErrorKind.Conflict, $"job {jobId} is already {job.Status}; nothing to cancel");
        return Decision.Accept(new JobCancelled(jobId, job.HoldsLease ? job.LeaseId : 0, reason, now));
    }

    /// <summary>Puts a failed or cancelled job back to pending with a fresh count of attempts.</summary>
    public Decision Requeue(string jobId, DateTimeOffset now)
    {
        if (!Jobs.TryGetValue(jobId, out var job)) return Decision.Refuse(ErrorKind.NotFound, $"unknown job {jobId}");
        if (job.Status is not (JobStatus.Failed or JobStatus.Cancelled))
            return Decision.Refuse(ErrorKind.Conflict, $"job {jobId} is {job.Status}; only failed or cancelled jobs can be requeued");
        return Decision.Accept(new JobRequeued(jobId, now));
    }

    /// <summary>The job an operator means: its full id, or a prefix of at least 8 characters that names exactly one job.</summary>
    /// <remarks>A prefix naming several jobs is <see cref="ErrorKind.Invalid"/>; one too short or naming none is <see cref="ErrorKind.NotFound"/>.</remarks>
    public string? Resolve(string idOrPrefix, out Refusal? problem)
    {
        problem = null;
        if (Jobs.ContainsKey(idOrPrefix)) return idOrPrefix;
        if (idOrPrefix.Length < 8)
        {
            // Names no job (a REST path /api/jobs/abc is a resource that does not exist), though the message says how to name one.
            problem = new(ErrorKind.NotFound, $"'{idOrPrefix}' is not a job id (give the id or at least its first 8 characters)");
            return null;
        }
        var matches = Jobs.Keys.Where(k => k.StartsWith(idOrPrefix, StringComparison.Ordinal)).Take(2).ToList();
        if (matches.Count == 1) return matches[0];
        problem = matches.Count == 0
            ? new(ErrorKind.NotFound, $"no job id starts with '{idOrPrefix}'")
            : new(ErrorKind.Invalid, $"'{idOrPrefix}' names more than one job; give more characters");
        return null;
    }

    /// <summary>Fencing: a message about a lease is accepted only while that lease is the job's current, live lease.</summary>
    public Refusal? Fence(string jobId, long leaseId)
    {
        if (!Jobs.TryGetValue(jobId, out var job)) return new(ErrorKind.NotFound, $"unknown job {jobId}");
        if (job.LeaseId != leaseId) return new(ErrorKind.StaleLease, $"stale lease {leaseId} for job {jobId}: the current lease is {job.LeaseId}");
        if (!job.HoldsLease) return new(ErrorKind.StaleLease, $"lease {leaseId} of job {jobId} has ended (job is {job.Status})");
        return null;
    }

    /// <summary>The live leases a worker holds.</summary>
    public IEnumerable<JobState> LeasesOf(string workerId) =>
        LiveByWorker.TryGetValue(workerId, out var held) ? held.Select(id => Jobs[id]) : [];

    /// <summary>How many live leases a worker holds.</summary>
    public int LeaseCountOf(string workerId) => LiveByWorker.TryGetValue(workerId, out var held) ? held.Count : 0;

    /// <summary>All live leases.</summary>
    public IEnumerable<JobState> LiveLeases => LiveByWorker.Values.SelectMany(ids => ids).Select(id => Jobs[id]);
}
