using Cis490.Coordinator.Jobs;
using Cis490.Protocols.Jobs;
using Cis490.Shared.Manifest;
using Xunit;

namespace Cis490.Coordinator.Tests;

/// <summary>The job table's indexes (pending order, live leases by worker) agree with a scan of every job after any sequence of
/// decisions, and after a snapshot round trip.</summary>
public sealed class JobTableIndexTests
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.Parse("2026-12-01T10:00:00Z");

    private static void AssertConsistent(JobTable t)
    {
        var pending = t.Jobs.Values.Where(j => j.Status == JobStatus.Pending).OrderByDescending(j => j.Spec.Priority).ThenBy(j => j.Seq)
            .Select(j => j.JobId).ToList();
        Assert.Equal(pending, t.PendingJobs.Select(j => j.JobId).ToList());
        Assert.Equal(t.Jobs.Values.Count(j => j.HoldsLease), t.LiveCount);
        Assert.Equal(t.Jobs.Values.Where(j => j.HoldsLease).Select(j => j.JobId).Order(), t.LiveLeases.Select(j => j.JobId).Order());
        foreach (var w in new[] { "w0", "w1", "w2" })
        {
            var held = t.Jobs.Values.Where(j => j.HoldsLease && j.WorkerId == w).Select(j => j.JobId).Order().ToList();
            Assert.Equal(held, t.LeasesOf(w).Select(j => j.JobId).Order().ToList());
            Assert.Equal(held.Count, t.LeaseCountOf(w));
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void After_any_sequence_of_decisions_the_indexes_agree_with_a_scan_and_survive_a_snapshot(int seed)
    {
        var manifest = string.Concat(Enumerable.Range(0, 40).Select(i =>
            $"[[jobs]]\nmodel = \"knn\"\nmode = \"oracle\"\nseed = {i}\npriority = {i % 3}\nmax_attempts = 2\n\n"));
        var t = JobTable.Empty;
        foreach (var added in t.AddJobs(ManifestLoader.Parse("m.toml", manifest).Jobs, "m.toml", T0)) t = t.Apply(added);
        var random = new Random(seed);
        var now = T0;
        for (var step = 0; step < 2000; step++)
        {
            now = now.AddSeconds(1);
            var job = t.Jobs.Values.ElementAt(random.Next(t.Jobs.Count));
            var decision = random.Next(7) switch
            {
                0 or 1 => t.Grant(job.JobId, "w" + random.Next(3), now),
                2 => t.Start(job.JobId, job.LeaseId, now),
                3 => t.EndLease(job.JobId, job.LeaseId, "x", random.Next(2) == 0, now, new RetryPolicy(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(8))),
                4 => t.Complete(job.JobId, job.LeaseId, new string('a', 64), 1, new Dictionary<string, double>(), now),
                5 => t.Cancel(job.JobId, "x", now),
                _ => t.Requeue(job.JobId, now),
            };
            if (decision.Event is { } e) t = t.Apply(e);
            if (step % 100 == 0) AssertConsistent(t);
        }
        AssertConsistent(t);
        var restored = JobTable.FromSnapshot(t.ToSnapshot());
        AssertConsistent(restored);
        Assert.Equal(t.PendingJobs.Select(j => j.JobId), restored.PendingJobs.Select(j => j.JobId));
        Assert.Equal(t.NextPending(now)?.JobId, restored.NextPending(now)?.JobId);
    }

    /// <summary>Recovery builds the indexes of a snapshot's table in bulk (in parallel from 4 096 jobs, issue 17): on a random table
    /// large enough for that path they must equal the indexes the fold kept job by job, also from a snapshot listing the jobs out of
    /// seq order (as older JSON snapshots may).</summary>
    [Theory]
    [InlineData(7, false)]
    [InlineData(8, true)]
    public void Indexes_built_in_bulk_from_a_snapshot_equal_those_the_fold_kept(int seed, bool shuffled)
    {
        var random = new Random(seed);
        var t = JobTable.Empty;
        var manifest = string.Concat(Enumerable.Range(0, 6000).Select(i =>
            $"[[jobs]]\nmodel = \"knn\"\nmode = \"oracle\"\nseed = {i}\npriority = {i % 4 - 1}\nmax_attempts = 2\n\n"));
        foreach (var added in t.AddJobs(ManifestLoader.Parse("m.toml", manifest).Jobs, "m.toml", T0)) t = t.Apply(added);
        var ids = t.Jobs.Keys.ToArray();
        var now = T0;
        for (var step = 0; step < 20_000; step++)
        {
            now = now.AddSeconds(1);
            var job = t.Jobs[ids[random.Next(ids.Length)]];
            var decision = random.Next(6) switch
            {
                0 or 1 => t.Grant(job.JobId, "w" + random.Next(40), now),
                2 => t.Start(job.JobId, job.LeaseId, now),
                3 => t.EndLease(job.JobId, job.LeaseId, "x", random.Next(2) == 0, now),
                4 => t.Complete(job.JobId, job.LeaseId, new string('b', 64), 1, new Dictionary<string, double>(), now),
                _ => random.Next(4) == 0 ? t.Cancel(job.JobId, "x", now) : t.Requeue(job.JobId, now),
            };
            if (decision.Event is { } e) t = t.Apply(e);
        }
        Assert.InRange(t.LiveCount, 100, 6000); // every kind of job is there: pending, live, finished
        Assert.InRange(t.PendingCount, 100, 6000);
        var snapshot = t.ToSnapshot();
        if (shuffled) snapshot = snapshot with { Jobs = snapshot.Jobs.OrderBy(_ => random.Next()).ToList() };

        var restored = JobTable.FromSnapshot(snapshot);

        Assert.Equal(t.Jobs.Count, restored.Jobs.Count);
        Assert.All(t.Jobs, kv => Assert.Same(kv.Value, restored.Jobs[kv.Key]));
        Assert.Equal(t.PendingJobs.Select(j => j.JobId), restored.PendingJobs.Select(j => j.JobId));
        Assert.Equal(t.LiveCount, restored.LiveCount);
        Assert.Equal(t.LiveLeases.Select(j => j.JobId).Order(), restored.LiveLeases.Select(j => j.JobId).Order());
        for (var w = 0; w < 40; w++) Assert.Equal(t.LeasesOf("w" + w).Select(j => j.JobId).Order(), restored.LeasesOf("w" + w).Select(j => j.JobId).Order());
        Assert.Equal(t.JobsAfter(null).Select(j => j.JobId), restored.JobsAfter(null).Select(j => j.JobId));
        Assert.Equal(t.JobsAfter(2999).Select(j => j.JobId), restored.JobsAfter(2999).Select(j => j.JobId));
        Assert.Equal(t.NextPending(now)?.JobId, restored.NextPending(now)?.JobId);
        AssertConsistent(restored);
    }
}
