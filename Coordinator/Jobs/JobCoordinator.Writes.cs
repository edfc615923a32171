using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using Cis490.Coordinator.Telemetry;
using Cis490.Shared.Telemetry;
using static Cis490.Protocols.Jobs.JobEvents;

namespace Cis490.Coordinator.Jobs;

/// <summary>The JobCoordinator's write path: each command decided, held with its effects, and written by group commit as one
/// journal entry per write (<see cref="Batch"/>); effects performed only once their events are written; snapshots and the
/// collection after a large write scheduled from the confirmations.</summary>
public sealed partial class JobCoordinator
{
    /// <summary>Decides <paramref name="command"/> and holds its effects until its events, and those of every command decided
    /// before it, are written: at once when the journal is idle, else in the next write (group commit). A command without events
    /// waits only behind the writes before it; with none in flight its effects are performed now.</summary>
    private void Handle(object command, IActorRef requester)
    {
        var outcome = _state.Decide(command, DateTimeOffset.UtcNow);
        _state = outcome.State;
        _commit.Add(outcome.Events, new Held(outcome.Effects, requester, outcome.State.Table, outcome.JobsBefore));
        if (_handingOver && _commit.TakeAll() is { } now) Write(now);
        else Flush();
    }

    /// <summary>Hands what waits to the journal when no write is in flight (performing at once what has nothing to write).</summary>
    private void Flush()
    {
        if (_gathering) return;
        while (_commit.Next() is { } batch)
        {
            if (batch.Events.Count == 0)
            {
                PerformAll(batch.Held);
                continue;
            }
            Write(batch);
            return;
        }
    }

    /// <summary>Persists a batch as one write: one journal entry (the event itself, or a <see cref="Batch"/> of them), so one
    /// row, one round trip and one acknowledgement however many commands it carries (a command of more than
    /// <c>write-batch-max-events</c> events: several entries, one atomic write). Its effects are performed once it is
    /// confirmed; if the write fails, Akka.Persistence stops the actor before any callback, so none of them leaves.</summary>
    private void Write(GroupCommit<Held>.Batch batch)
    {
        if (batch.Events.Count == 0)
        {
            DeferAsync(batch, b => PerformAll(b.Held)); // behind the writes already in flight (a hand-over)
            return;
        }
        _writesInFlight += batch.Events.Count;
        var asked = System.Diagnostics.Stopwatch.GetTimestamp();
        var entries = Entries(batch.Events, _settings.WriteBatchMaxEvents);
        var unconfirmed = entries.Count;
        PersistAllAsync(entries, _ =>
        {
            if (--unconfirmed > 0) return; // the entries of one write are one atomic write: the last confirms them all
            _writesInFlight -= batch.Events.Count;
            // Metrics and trace spans of what is now written (never of replayed events: those were counted when written). The
            // job each event is about as it was before it comes in the batch's event order (commands' events are in the same order).
            var e = 0;
            foreach (var held in batch.Held)
                foreach (var before in held.JobsBefore)
                {
                    var written = batch.Events[e++];
                    JobMetrics.Record(JobMetrics.For(before, written));
                    if (JobTracing.Enabled) foreach (var span in JobTraces.For(before, written)) JobTracing.Emit(span);
                }
            _persisted = batch.Held[^1].TableAfter;
            _snapshots.Written(batch.Events.Count);
            // A snapshot of what is written (never of decisions still in flight), as often as SnapshotSchedule says: checked once
            // a whole write is confirmed, as the table is known only between writes.
            if (_snapshots.Due(_persisted.Jobs.Count, _started.Elapsed))
            {
                _snapshotAsked = System.Diagnostics.Stopwatch.GetTimestamp();
                SaveSnapshot(_persisted.ToSnapshot());
            }
            Cis490Metrics.JournalWrite.Record(System.Diagnostics.Stopwatch.GetElapsedTime(asked).TotalSeconds);
            _commit.Written();
            PerformAll(batch.Held);
            if (_settings.CollectAfterWriteOf > 0 && batch.Events.Count >= _settings.CollectAfterWriteOf)
                Self.Tell(new CollectGarbage(batch.Events.Count)); // behind the replies just sent
            if (_settings.GatherBeforeWrite)
            {
                // The next write starts when this message comes round: every command already in the mailbox goes into it.
                _gathering = true;
                Self.Tell(WriteNext.Instance);
            }
            else Flush();
        });
    }

    /// <summary>A write of <see cref="Events"/> events (a large manifest) was confirmed: collect what it left behind (local only).</summary>
    private sealed record CollectGarbage(int Events) : INoSerializationVerificationNeeded;

    /// <summary>One full, compacting collection after a write of at least <c>collect-after-write-of</c> events. A 100 000-job
    /// manifest leaves ~9 KB per job of parsed specs, events and serialized entries that lived through the seconds it took and so
    /// reached the oldest generation, where the GC may not look again for a long time: bench scale measured 9.4 KB per job of GC
    /// heap and 10.4 KB of RSS 3 s after such a submit, against 1.5 KB once recovered (issue 17: ≤ 2 KB per job). One pause, once
    /// per such manifest, returns it.</summary>
    private void Collect(CollectGarbage m)
    {
        var before = GC.GetTotalMemory(false);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        System.Runtime.GCSettings.LargeObjectHeapCompactionMode = System.Runtime.GCLargeObjectHeapCompactionMode.CompactOnce;
        // Aggressive: compacting, and the freed memory is handed back to the OS now rather than kept committed for later (with
        // Forced the GC heap fell to ~1 KB per job but RSS stayed at 9.3 KB per job for minutes).
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        // Committed: what the runtime still holds from the OS (it returns freed memory gradually, so RSS falls later than the heap).
        _log.Info("Collected after a write of {0} events: managed heap {1:F0} -> {2:F0} MB in {3} ms, {4:F0} MB committed (cis490.coordinator.collect-after-write-of = {5})",
            m.Events, before / 1e6, GC.GetTotalMemory(false) / 1e6, clock.ElapsedMilliseconds, GC.GetGCMemoryInfo().TotalCommittedBytes / 1e6,
            _settings.CollectAfterWriteOf);
    }

    /// <summary>A write was confirmed and the next one waits for <see cref="WriteNext"/> (<see cref="CoordinatorSettings.GatherBeforeWrite"/>).</summary>
    private bool _gathering;

    /// <summary>The coordinator's message to itself that starts the next write once the commands ahead of it in the mailbox are
    /// decided (local only, never leaves the node).</summary>
    private sealed class WriteNext : INoSerializationVerificationNeeded
    {
        public static readonly WriteNext Instance = new();
        private WriteNext() { }
    }

    /// <summary>A write's journal entries: the event itself, or <see cref="Batch"/>es of at most <paramref name="max"/> events (only
    /// one command's own events exceed it: a large manifest's, which then stay one atomic write of several bounded rows instead
    /// of one row of tens of megabytes).</summary>
    public static IReadOnlyList<object> Entries(IReadOnlyList<ICoordinatorEvent> events, int max)
    {
        if (events.Count == 1) return [events[0]];
        if (events.Count <= max) return [new Batch(events)];
        var entries = new List<object>((events.Count + max - 1) / max);
        for (var i = 0; i < events.Count; i += max)
        {
            var n = Math.Min(max, events.Count - i);
            entries.Add(n == 1 ? events[i] : new Batch(events.Skip(i).Take(n).ToArray()));
        }
        return entries;
    }
}
