using System.Collections.Immutable;
using Cis490.Protocols.Jobs;

namespace Cis490.Coordinator.Jobs;

/// <summary>The job table's indexes, kept by the fold so that the questions asked on every decision do not scan every job: the
/// pending jobs in dispatch order (priority, then age), and the live leases by worker. At 100 000 jobs a scan per lease would
/// cap the coordinator at a few hundred leases a second.</summary>
public sealed partial record JobTable
{
    /// <summary>A pending job's place in the dispatch order: highest priority first, then the oldest (lowest seq).</summary>
    private readonly record struct PendingKey(int Priority, long Seq, string JobId) : IComparable<PendingKey>
    {
        public int CompareTo(PendingKey other)
        {
            var byPriority = other.Priority.CompareTo(Priority);
            if (byPriority != 0) return byPriority;
            var bySeq = Seq.CompareTo(other.Seq);
            return bySeq != 0 ? bySeq : string.CompareOrdinal(JobId, other.JobId);
        }

        public static PendingKey Of(JobState j) => new(j.Spec.Priority, j.Seq, j.JobId);
    }

    private ImmutableSortedSet<PendingKey> PendingOrder { get; init; } = ImmutableSortedSet<PendingKey>.Empty;

    /// <summary>Every job in the order it was added (its seq, which only grows): a page of `jobs list` is a binary search and
    /// the rows after it, not a scan and a sort of the whole table.</summary>
    private ImmutableList<SeqKey> BySeq { get; init; } = ImmutableList<SeqKey>.Empty;

    private readonly record struct SeqKey(long Seq, string JobId);

    private sealed class BySeqOrder : IComparer<SeqKey>
    {
        public static readonly BySeqOrder Instance = new();
        public int Compare(SeqKey x, SeqKey y) => x.Seq.CompareTo(y.Seq);
    }

    /// <summary>The jobs added after seq <paramref name="after"/> (null: from the first), in the order they were added.</summary>
    public IEnumerable<JobState> JobsAfter(long? after)
    {
        var start = 0;
        if (after is { } a)
        {
            var i = BySeq.BinarySearch(new SeqKey(a, ""), BySeqOrder.Instance);
            start = i >= 0 ? i + 1 : ~i;
        }
        for (var i = start; i < BySeq.Count; i++) yield return Jobs[BySeq[i].JobId];
    }

    private ImmutableDictionary<string, ImmutableHashSet<string>> LiveByWorker { get; init; } =
        ImmutableDictionary.Create<string, ImmutableHashSet<string>>(StringComparer.Ordinal);

    /// <summary>How many leases are live (leased or running).</summary>
    public int LiveCount { get; private init; }

    /// <summary>How many jobs are pending.</summary>
    public int PendingCount => PendingOrder.Count;

    /// <summary>The pending jobs in dispatch order.</summary>
    public IEnumerable<JobState> PendingJobs => PendingOrder.Select(k => Jobs[k.JobId]);

    /// <summary>The table with <paramref name="after"/> in place of <paramref name="before"/> (null: a new job), indexes moved with it.</summary>
    private JobTable Replace(JobState? before, JobState after)
    {
        var pending = PendingOrder;
        var live = LiveByWorker;
        var liveCount = LiveCount;
        if (before is not null)
        {
            if (before.Status == JobStatus.Pending) pending = pending.Remove(PendingKey.Of(before));
            if (before.HoldsLease && before.WorkerId is { } w && live.TryGetValue(w, out var held))
            {
                held = held.Remove(before.JobId);
                live = held.IsEmpty ? live.Remove(w) : live.SetItem(w, held);
                liveCount--;
            }
        }
        if (after.Status == JobStatus.Pending) pending = pending.Add(PendingKey.Of(after));
        if (after.HoldsLease && after.WorkerId is { } worker)
        {
            live = live.SetItem(worker, (live.TryGetValue(worker, out var h) ? h : ImmutableHashSet.Create<string>(StringComparer.Ordinal)).Add(after.JobId));
            liveCount++;
        }
        // A new job's seq is the table's next, above every other: appending keeps BySeq in order.
        var bySeq = before is null ? BySeq.Add(new SeqKey(after.Seq, after.JobId)) : BySeq;
        return this with { Jobs = Jobs.SetItem(after.JobId, after), PendingOrder = pending, LiveByWorker = live, LiveCount = liveCount, BySeq = bySeq };
    }

    /// <summary>A table of <paramref name="jobs"/> with its indexes built.</summary>
    private static JobTable Indexed(IEnumerable<JobState> jobs, long lastLeaseId, long nextSeq, IReadOnlyList<HostPolicy> hosts)
    {
        var table = Empty with { LastLeaseId = lastLeaseId, NextSeq = nextSeq, Hosts = hosts };
        var all = jobs.ToList();
        var pending = ImmutableSortedSet.CreateBuilder<PendingKey>();
        var live = new Dictionary<string, ImmutableHashSet<string>.Builder>(StringComparer.Ordinal);
        foreach (var j in all)
        {
            if (j.Status == JobStatus.Pending) pending.Add(PendingKey.Of(j));
            if (j.HoldsLease && j.WorkerId is { } w)
            {
                if (!live.TryGetValue(w, out var b)) live[w] = b = ImmutableHashSet.CreateBuilder<string>(StringComparer.Ordinal);
                b.Add(j.JobId);
            }
        }
        return table with
        {
            Jobs = all.ToImmutableDictionary(j => j.JobId, StringComparer.Ordinal),
            PendingOrder = pending.ToImmutable(),
            LiveByWorker = live.ToImmutableDictionary(kv => kv.Key, kv => kv.Value.ToImmutable(), StringComparer.Ordinal),
            LiveCount = live.Values.Sum(b => b.Count),
            BySeq = all.OrderBy(j => j.Seq).Select(j => new SeqKey(j.Seq, j.JobId)).ToImmutableList(),
        };
    }
}
