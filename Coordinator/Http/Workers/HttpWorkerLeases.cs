using Cis490.Protocols.Jobs;
using Cis490.Protocols.Workers;

namespace Cis490.Coordinator.Http.Workers;

/// <summary>The leases one HTTP worker holds, and how recent ones ended: the gateway actor's state, free of actors.</summary>
/// <remarks>The coordinator is the authority (it fences every message again); this book lets the gateway answer a stale request
/// at once, and answer <c>complete</c> from the outcome the coordinator reported.</remarks>
public sealed class HttpWorkerLeases(string workerId, int rememberEnded = 256)
{
    /// <summary>A live lease: its job, and whether the trainer was reported started and an upload is under way.</summary>
    public sealed record Live(JobSpec Job, long LeaseId, bool Started, bool Uploading, TrainingProgress? Progress);

    /// <summary>How a lease ended: completed (with its artifact), failed, or lost (revoked, expired, refused).</summary>
    public sealed record Ended(string Outcome, string Reason, string? Sha256, bool Deduplicated);

    public const string Completed = "completed";
    public const string Failed = "failed";
    public const string Lost = "lost";

    private readonly Dictionary<string, Live> _live = new(StringComparer.Ordinal);
    private readonly Dictionary<(string, long), Ended> _ended = new();
    private readonly Queue<(string, long)> _endedOrder = new();
    private readonly Dictionary<string, long> _lastEnded = new(StringComparer.Ordinal);

    public int Count => _live.Count;
    public IEnumerable<Live> All => _live.Values;
    public bool AnyUploading => _live.Values.Any(l => l.Uploading);

    /// <summary>The held leases, as a worker reports them when it registers.</summary>
    public IReadOnlyList<WorkerProtocol.HeldLease> Held => _live.Values.Select(l => new WorkerProtocol.HeldLease(l.Job.JobId, l.LeaseId)).ToList();

    public bool HoldsJob(string jobId) => _live.ContainsKey(jobId);

    public Live? Get(string jobId, long leaseId) => _live.TryGetValue(jobId, out var l) && l.LeaseId == leaseId ? l : null;

    public void Add(WorkerProtocol.Lease lease) => _live[lease.JobId] = new Live(lease.Job, lease.LeaseId, false, false, null);

    /// <summary>Null when <paramref name="leaseId"/> is the worker's live lease of the job; otherwise why not, for the 409.</summary>
    public string? Refusal(string jobId, long leaseId)
    {
        if (Get(jobId, leaseId) is not null) return null;
        if (_ended.TryGetValue((jobId, leaseId), out var ended))
            return $"lease {leaseId} of job {jobId} has ended ({ended.Outcome}: {ended.Reason})";
        if (_live.TryGetValue(jobId, out var other))
            return $"stale lease {leaseId} for job {jobId}: worker {workerId} holds lease {other.LeaseId}";
        return $"worker {workerId} holds no lease {leaseId} for job {jobId} (it ended, or was never granted to this worker id); claim again";
    }

    /// <summary>Marks the lease started; true the first time (the coordinator is then told <c>Started</c>, later <c>Heartbeat</c>).</summary>
    public bool MarkStarted(string jobId, long leaseId, TrainingProgress? progress)
    {
        var live = Get(jobId, leaseId) ?? throw new InvalidOperationException($"no live lease {leaseId} for {jobId}");
        _live[jobId] = live with { Started = true, Progress = progress ?? live.Progress };
        return !live.Started;
    }

    /// <summary>Marks an upload begun or over; false when one is already under way (begin) or the lease is not live.</summary>
    public bool SetUploading(string jobId, long leaseId, bool uploading)
    {
        if (Get(jobId, leaseId) is not { } live || (uploading && live.Uploading)) return false;
        _live[jobId] = live with { Uploading = uploading };
        return true;
    }

    /// <summary>Ends a live lease with an outcome; remembers the last few hundred so late requests get a precise answer.</summary>
    public void End(string jobId, long leaseId, string outcome, string reason, string? sha256 = null, bool deduplicated = false)
    {
        if (Get(jobId, leaseId) is not null) _live.Remove(jobId);
        if (_ended.TryAdd((jobId, leaseId), new Ended(outcome, reason, sha256, deduplicated))) _endedOrder.Enqueue((jobId, leaseId));
        if (!_lastEnded.TryGetValue(jobId, out var last) || last < leaseId) _lastEnded[jobId] = leaseId;
        while (_endedOrder.Count > rememberEnded)
        {
            var (job, lease) = _endedOrder.Dequeue();
            _ended.Remove((job, lease));
            if (_lastEnded.TryGetValue(job, out var l) && l == lease) _lastEnded.Remove(job);
        }
    }

    /// <summary>The lease a request about <paramref name="jobId"/> means: the one it names, else the worker's live lease of the job,
    /// else the last one of the job that ended here (so a late <c>complete</c> gets its outcome); null when it held none.</summary>
    public long? Resolve(string jobId, long? named) =>
        named ?? (_live.TryGetValue(jobId, out var l) ? l.LeaseId : _lastEnded.TryGetValue(jobId, out var e) ? e : null);

    public Ended? EndedOf(string jobId, long leaseId) => _ended.GetValueOrDefault((jobId, leaseId));
}
