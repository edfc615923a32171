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

    /// <summary>A table of <paramref name="jobs"/> with its indexes built (a recovery from a snapshot: 100 000 jobs at once).</summary>
    /// <remarks>Built in bulk, not job by job: the dictionary by id is most of the work, so it is built beside the other indexes
    /// (<see cref="Parallel.Invoke(Action[])"/> runs both on this thread when no other is free: a busy pool never makes it wait).
    /// The result is the same table whichever runs where.</remarks>
    private static JobTable Indexed(IEnumerable<JobState> jobs, long lastLeaseId, long nextSeq, IReadOnlyList<HostPolicy> hosts)
    {
        var all = jobs as JobState[] ?? jobs.ToArray();
        ImmutableDictionary<string, JobState> byId = Empty.Jobs;
        var others = (Pending: ImmutableSortedSet<PendingKey>.Empty, BySeq: ImmutableList<SeqKey>.Empty, Live: Empty.LiveByWorker, LiveCount: 0);
        if (all.Length < ParallelFrom) (byId, others) = (ById(all), OtherIndexes(all));
        else Parallel.Invoke(() => byId = ById(all), () => others = OtherIndexes(all));
        return Empty with
        {
            LastLeaseId = lastLeaseId, NextSeq = nextSeq, Hosts = hosts,
            Jobs = byId, PendingOrder = others.Pending, BySeq = others.BySeq, LiveByWorker = others.Live, LiveCount = others.LiveCount,
        };
    }

    /// <summary>Below this many jobs a second thread costs more than it saves.</summary>
    private const int ParallelFrom = 4096;

    /// <summary>The jobs by id. Added in the order of their keys' hash codes, the dictionary's tree (ordered by hash code) grows at one
    /// edge, whose nodes stay in the CPU's cache: about half the time of adding them in table order at 100 000 jobs (issue 17).</summary>
    private static ImmutableDictionary<string, JobState> ById(JobState[] all)
    {
        var comparer = StringComparer.Ordinal;
        var hashes = new int[all.Length];
        var pairs = new KeyValuePair<string, JobState>[all.Length];
        for (var i = 0; i < all.Length; i++)
        {
            hashes[i] = comparer.GetHashCode(all[i].JobId);
            pairs[i] = new(all[i].JobId, all[i]);
        }
        Array.Sort(hashes, pairs);
        return ImmutableDictionary.CreateRange(comparer, pairs);
    }

    /// <summary>The pending order, the seq order and the live leases by worker, each built from a list in one go (a balanced tree
    /// made from sorted items) instead of one insertion per job.</summary>
    private static (ImmutableSortedSet<PendingKey>, ImmutableList<SeqKey>, ImmutableDictionary<string, ImmutableHashSet<string>>, int) OtherIndexes(JobState[] all)
    {
        var pending = new List<PendingKey>(all.Length);
        var bySeq = new SeqKey[all.Length];
        var inSeqOrder = true;
        var live = new Dictionary<string, ImmutableHashSet<string>.Builder>(StringComparer.Ordinal);
        var liveCount = 0;
        for (var i = 0; i < all.Length; i++)
        {
            var j = all[i];
            bySeq[i] = new SeqKey(j.Seq, j.JobId);
            if (i > 0 && bySeq[i - 1].Seq > j.Seq) inSeqOrder = false;
            if (j.Status == JobStatus.Pending) pending.Add(PendingKey.Of(j));
            if (j.HoldsLease && j.WorkerId is { } w)
            {
                if (!live.TryGetValue(w, out var b)) live[w] = b = ImmutableHashSet.CreateBuilder<string>(StringComparer.Ordinal);
                if (b.Add(j.JobId)) liveCount++;
            }
        }
        // Snapshots list the jobs in seq order (ToSnapshot); older JSON ones may not.
        if (!inSeqOrder) Array.Sort(bySeq, BySeqOrder.Instance);
        return (ImmutableSortedSet.CreateRange(pending), ImmutableList.CreateRange(bySeq),
            live.ToImmutableDictionary(kv => kv.Key, kv => kv.Value.ToImmutable(), StringComparer.Ordinal), liveCount);
    }
}
