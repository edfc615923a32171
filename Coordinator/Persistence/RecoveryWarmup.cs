using System.Diagnostics;
using Akka.Actor;
using Cis490.Coordinator.Jobs;
using Cis490.Protocols.Jobs;

namespace Cis490.Coordinator.Persistence;

/// <summary>Runs the job table's recovery path once on a small made-up table, off the actors' threads, while a coordinator node's
/// persistence plugins start (<see cref="JournalWarmup"/> starts it): the snapshot written and read through the node's own
/// serializer, the table indexed from it, events of every kind decided, serialized, read back and applied.</summary>
/// <remarks>A restarted coordinator otherwise compiles this code in the middle of its recovery: the framework's collections over
/// our value types (the pending order's and the seq index's keys, the sorts that build them) are not in any ReadyToRun image and
/// start as unoptimised tier-0 code, and the serializer builds its JSON metadata for each event type on first use (the coordinator's
/// log counted ~200 methods compiled while indexing 100 000 jobs and ~330 while replaying 1 300 events, issue 17). Compiled here,
/// before the snapshot arrives, the recovery finds them ready (and the hottest promoted to optimised code). Nothing here touches
/// the journal or any state: a failure only costs that head start, and is logged.</remarks>
public static class RecoveryWarmup
{
    /// <summary>Jobs in the made-up table: enough for the bulk indexing's parallel path and for its sorts to be called hot.</summary>
    private const int Jobs = 6000;

    /// <summary>Runs the warm-up; returns how long it took.</summary>
    public static TimeSpan Run(ActorSystem system)
    {
        var clock = Stopwatch.StartNew();
        var at = DateTimeOffset.UtcNow;
        var serialization = system.Serialization;
        T RoundTrip<T>(T value) where T : class
        {
            var serializer = serialization.FindSerializerFor(value);
            var manifest = Akka.Serialization.Serialization.ManifestFor(serializer, value);
            return (T)serialization.Deserialize(serializer.ToBinary(value), serializer.Identifier, manifest);
        }

        // A snapshot of pending jobs (two priorities) through the serializer, indexed as a recovery does; then events of every
        // kind on a few of its jobs, each decided by the table itself (so valid), through the serializer and applied.
        // Jobs of the kinds a real table holds, so that the same paths are compiled: pending (two priorities), leased by a few
        // workers, completed with its lease history, metrics and artifact hash.
        var jobs = Enumerable.Range(0, Jobs).Select(i =>
        {
            var spec = new JobSpec(Convert.ToHexStringLower([.. BitConverter.GetBytes((long)i), .. new byte[24]]), "knn", "realistic", "{}", "host", [], i, i % 2, 3);
            var attempt = new AttemptRecord(i + 1, $"warm-up-{i % 3}", at, at, i % 10 == 1 ? at : null, i % 10 == 1 ? "completed" : "running", null);
            return (i % 10) switch
            {
                0 => new JobState(spec, JobStatus.Running, i, 0, i + 1, attempt.WorkerId, at, at, at, null, null, new Dictionary<string, double>(), null,
                    Attempts: [attempt]),
                1 => new JobState(spec, JobStatus.Completed, i, 0, i + 1, attempt.WorkerId, at, at, at, at, new string('c', 64),
                    new Dictionary<string, double> { ["val_macro_f1"] = 0.5 }, null, Attempts: [attempt]),
                _ => new JobState(spec, JobStatus.Pending, i, 0, 0, null, at, null, null, null, null, new Dictionary<string, double>(), null),
            };
        }).ToList();
        var table = JobTable.FromSnapshot(RoundTrip(new JobTableSnapshot(Jobs, Jobs, jobs)));
        if (table.Jobs.Count != Jobs) throw new InvalidOperationException($"the warm-up table came back with {table.Jobs.Count} jobs, not {Jobs}");
        foreach (var i in Enumerable.Range(0, 200).Where(i => i % 10 >= 2).Take(60))
        {
            var id = jobs[i].JobId;
            var lease = table.LastLeaseId + 1;
            var first = i % 4 == 3 ? table.Cancel(id, "warm-up", at) : table.Grant(id, "warm-up", at);
            if (first.Event is { } e1) table = table.Apply(RoundTrip(e1));
            var second = (i % 4) switch
            {
                0 => table.EndLease(id, lease, "warm-up", countsAsAttempt: true, at),
                1 => table.Start(id, lease, at),
                2 => table.Complete(id, lease, new string('a', 64), 1, new Dictionary<string, double> { ["f1"] = 0.5 }, at),
                _ => table.Requeue(id, at),
            };
            if (second.Event is { } e2) table = table.Apply(RoundTrip(e2));
        }
        var spec = jobs[0].Spec with { JobId = new string('f', 64) };
        foreach (var added in table.AddJobs([spec], "warm-up.toml", at)) table = table.Apply(RoundTrip(added));
        return clock.Elapsed;
    }
}
