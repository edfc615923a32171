using System.Data.Common;
using System.Text.RegularExpressions;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using Cis490.Coordinator.Jobs;
using Cis490.Coordinator.Persistence;
using Cis490.Protocols.Operator;
using Cis490.Protocols.Workers;
using LinqToDB.Interceptors;
using Microsoft.Data.Sqlite;
using Xunit;

namespace Cis490.Coordinator.Tests;

/// <summary>Group commit in the JobCoordinator on a real SQLite journal whose writes a test can hold or fail (a linq2db
/// interceptor on the journal's own connections): commands decided while a write is in flight are written together after it,
/// no effect (a lease, a reply) leaves before its events are in the journal, and a failed write lets none of its effects out,
/// nor those of the commands waiting behind it.</summary>
public sealed class GroupCommitCoordinatorTests : TestKit, IDisposable
{
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(400);
    private readonly string _dir;
    private readonly JournalWriteGate _gate;
    private readonly IActorRef _coordinator;

    public GroupCommitCoordinatorTests() : this(Directory.CreateTempSubdirectory("cis490-group-").FullName, new JournalWriteGate()) { }

    private GroupCommitCoordinatorTests(string dir, JournalWriteGate gate)
        : base(SqliteDurability.CreateSystem("group-commit", TestConfig.Coordinator(dir, TestConfig.Token), gate))
    {
        _dir = dir;
        _gate = gate;
        _coordinator = Sys.ActorOf(JobCoordinator.Props(CoordinatorSettings.From(Sys.Settings.Config)), "coordinator");
    }

    void IDisposable.Dispose()
    {
        _gate.Release(write: true); // a test that failed while a write was held must not leave the journal's thread waiting
        Shutdown();
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    /// <summary>Events in the journal (a group-committed write is one row).</summary>
    private long JournalEvents() => Cis490.Testing.JournalEvents.Count(new SqliteConnection($"Data Source={Path.Combine(_dir, "journal.db")}"));

    private async Task Submit(int jobs)
    {
        var manifest = string.Join("\n", Enumerable.Range(1, jobs).Select(i => $"[[jobs]]\nmodel = \"knn\"\nmode = \"realistic\"\nseed = {i}\n"));
        _coordinator.Tell(new OperatorProtocol.SubmitManifest("m.toml", manifest, TestConfig.Token), TestActor);
        await ExpectMsgAsync<OperatorProtocol.ManifestAccepted>(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Commands_decided_during_a_write_go_out_after_it_and_no_lease_or_reply_leaves_before_its_events_are_written()
    {
        await Submit(3);
        var before = JournalEvents();
        var writes = _gate.WritesSeen;
        _gate.Hold();
        var w1 = CreateTestProbe();
        var w2 = CreateTestProbe();

        _coordinator.Tell(new WorkerProtocol.Register("w1", TestConfig.Worker, 2, []), w1); // 2 grants: the write that is held
        await _gate.Held.Task.WaitAsync(TimeSpan.FromSeconds(10));
        _coordinator.Tell(new WorkerProtocol.Register("w2", TestConfig.Worker, 1, []), w2); // 1 grant: waits for the next write
        _coordinator.Tell(new OperatorProtocol.ListJobs(null, null), TestActor); // writes nothing, but shows w2's grant, not written yet

        await w1.ExpectNoMsgAsync(Quiet);
        await w2.ExpectNoMsgAsync(TimeSpan.Zero);
        await ExpectNoMsgAsync(TimeSpan.Zero);
        Assert.Equal(before, JournalEvents());

        _gate.Release(write: true);

        await w1.ExpectMsgAsync<WorkerProtocol.Registered>(TimeSpan.FromSeconds(10));
        await w1.ExpectMsgAsync<WorkerProtocol.Lease>(TimeSpan.FromSeconds(10));
        Assert.True(JournalEvents() >= before + 2, "w1's lease arrived before both of its grants were in the journal");
        await w1.ExpectMsgAsync<WorkerProtocol.Lease>(TimeSpan.FromSeconds(10));
        var list = await ExpectMsgAsync<OperatorProtocol.JobList>(TimeSpan.FromSeconds(10));
        Assert.True(JournalEvents() >= before + 3, "the job list left before w2's grant, which it shows, was in the journal");
        Assert.Equal(3, list.Jobs.Count(j => j.Status == Protocols.Jobs.JobStatus.Leased));
        await w2.ExpectMsgAsync<WorkerProtocol.Registered>(TimeSpan.FromSeconds(10));
        await w2.ExpectMsgAsync<WorkerProtocol.Lease>(TimeSpan.FromSeconds(10));
        Assert.Equal(writes + 2, _gate.WritesSeen); // the held write, then one for everything decided during it
    }

    [Fact]
    public async Task A_write_is_one_journal_entry_however_many_events_and_a_new_coordinator_recovers_each_of_them()
    {
        await Submit(3); // three JobAdded: one write
        var w1 = CreateTestProbe();
        _coordinator.Tell(new WorkerProtocol.Register("w1", TestConfig.Worker, 3, []), w1); // three grants: one write
        var leases = new List<WorkerProtocol.Lease>();
        for (var i = 0; i < 3; i++) leases.Add(await w1.FishForMessageAsync<WorkerProtocol.Lease>(_ => true, TimeSpan.FromSeconds(10)));

        using (var c = new SqliteConnection($"Data Source={Path.Combine(_dir, "journal.db")};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "SELECT group_concat(manifest, ' ') FROM (SELECT manifest FROM journal ORDER BY ordering)";
            Assert.Equal("JEB JEB", cmd.ExecuteScalar());
        }
        Assert.Equal(["JE1", "JE1", "JE1", "JE2", "JE2", "JE2"], Cis490.Testing.JournalEvents.Manifests(new SqliteConnection($"Data Source={Path.Combine(_dir, "journal.db")}")));

        Watch(_coordinator);
        _coordinator.Tell(PoisonPill.Instance);
        await ExpectTerminatedAsync(_coordinator, TimeSpan.FromSeconds(10));
        var again = Sys.ActorOf(JobCoordinator.Props(CoordinatorSettings.From(Sys.Settings.Config)), "again");
        again.Tell(new OperatorProtocol.ListJobs(null, null), TestActor);
        var jobs = (await ExpectMsgAsync<OperatorProtocol.JobList>(TimeSpan.FromSeconds(10))).Jobs;
        Assert.Equal(leases.Select(l => (l.JobId, l.LeaseId)).Order(), jobs.Select(j => (j.JobId, j.LeaseId)).Order());
        Assert.All(jobs, j => Assert.Equal((Protocols.Jobs.JobStatus.Leased, "w1"), (j.Status, j.WorkerId)));
    }

    [Fact]
    public async Task A_command_of_more_events_than_a_write_takes_is_several_bounded_entries_recovered_in_order()
    {
        await Submit(2_500); // write-batch-max-events = 1 000: entries of 1 000, 1 000 and 500 events, one atomic write
        using (var c = new SqliteConnection($"Data Source={Path.Combine(_dir, "journal.db")};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "SELECT group_concat(manifest || ':' || length(message), ' ') FROM (SELECT manifest, message FROM journal ORDER BY ordering)";
            var rows = ((string)cmd.ExecuteScalar()!).Split(' ');
            Assert.True(3 == rows.Length, string.Join(" ", rows));
            Assert.All(rows, r => Assert.StartsWith("JEB:", r));
        }
        var manifests = Cis490.Testing.JournalEvents.Manifests(new SqliteConnection($"Data Source={Path.Combine(_dir, "journal.db")}"));
        Assert.Equal(2_500, manifests.Count(m => m == "JE1"));

        Watch(_coordinator);
        _coordinator.Tell(PoisonPill.Instance);
        await ExpectTerminatedAsync(_coordinator, TimeSpan.FromSeconds(10));
        var again = Sys.ActorOf(JobCoordinator.Props(CoordinatorSettings.From(Sys.Settings.Config)), "again");
        again.Tell(new OperatorProtocol.ListJobs(null, null), TestActor);
        var page = await ExpectMsgAsync<OperatorProtocol.JobList>(TimeSpan.FromSeconds(20));
        Assert.Equal(2_500, page.Total ?? page.Jobs.Count);
    }

    [Fact]
    public void Entries_keep_one_event_as_itself_a_write_as_one_batch_and_split_only_what_exceeds_the_limit()
    {
        var at = DateTimeOffset.UnixEpoch;
        Protocols.Jobs.JobEvents.ICoordinatorEvent E(int i) => new Protocols.Jobs.JobEvents.JobRequeued($"job-{i}", at);
        Assert.IsType<Protocols.Jobs.JobEvents.JobRequeued>(Assert.Single(JobCoordinator.Entries([E(0)], 3)));
        Assert.Equal(3, Assert.IsType<Protocols.Jobs.JobEvents.Batch>(Assert.Single(JobCoordinator.Entries([E(0), E(1), E(2)], 3))).Events.Count);
        var split = JobCoordinator.Entries(Enumerable.Range(0, 7).Select(E).ToList(), 3);
        Assert.Equal([3, 3], split.Take(2).Select(e => ((Protocols.Jobs.JobEvents.Batch)e).Events.Count));
        Assert.Equal("job-6", Assert.IsType<Protocols.Jobs.JobEvents.JobRequeued>(split[2]).JobId); // a last entry of one is the event
        Assert.Equal(Enumerable.Range(0, 7).Select(i => $"job-{i}"),
            split.SelectMany(e => e is Protocols.Jobs.JobEvents.Batch b ? b.Events : [(Protocols.Jobs.JobEvents.ICoordinatorEvent)e])
                .Cast<Protocols.Jobs.JobEvents.JobRequeued>().Select(r => r.JobId));
    }

    [Fact]
    public async Task A_failed_write_lets_none_of_its_effects_out_nor_those_of_the_commands_waiting_behind_it()
    {
        await Submit(2);
        var before = JournalEvents();
        _gate.Hold();
        var w1 = CreateTestProbe();
        var w2 = CreateTestProbe();
        Watch(_coordinator);

        _coordinator.Tell(new WorkerProtocol.Register("w1", TestConfig.Worker, 1, []), w1);
        await _gate.Held.Task.WaitAsync(TimeSpan.FromSeconds(10));
        _coordinator.Tell(new WorkerProtocol.Register("w2", TestConfig.Worker, 1, []), w2);
        _coordinator.Tell(new OperatorProtocol.ListJobs(null, null), TestActor);

        _gate.Release(write: false);

        await ExpectTerminatedAsync(_coordinator, TimeSpan.FromSeconds(10)); // Akka.Persistence stops it; the supervisor restarts it
        await w1.ExpectNoMsgAsync(Quiet);
        await w2.ExpectNoMsgAsync(TimeSpan.Zero);
        Assert.Equal(before, JournalEvents());
    }

    /// <summary>Holds the journal's next write inside the database call until the test releases it, then lets it through or fails
    /// it (as a full disk would). Counts the journal writes it saw (one per transaction).</summary>
    private sealed class JournalWriteGate : CommandInterceptor
    {
        private static readonly Regex JournalInsert = new(@"INSERT\s+INTO\s+\W?journal\W?\s*\(", RegexOptions.IgnoreCase);
        private readonly object _lock = new();
        private readonly HashSet<DbTransaction> _transactions = [];
        private TaskCompletionSource<bool>? _release;
        private bool _failing;

        /// <summary>Completes when the held write has reached the database.</summary>
        public TaskCompletionSource Held { get; private set; } = new();

        public int WritesSeen { get; private set; }

        public void Hold()
        {
            lock (_lock)
            {
                _release = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
                Held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }

        public void Release(bool write)
        {
            TaskCompletionSource<bool>? release;
            lock (_lock)
            {
                release = _release;
                _release = null;
                if (!write) _failing = true;
            }
            release?.TrySetResult(write);
        }

        public override DbCommand CommandInitialized(CommandEventData eventData, DbCommand command)
        {
            if (!JournalInsert.IsMatch(command.CommandText)) return command;
            TaskCompletionSource<bool>? wait = null;
            lock (_lock)
            {
                // A write may be several inserts in one transaction: only its first one waits.
                if (command.Transaction is null || _transactions.Add(command.Transaction))
                {
                    WritesSeen++;
                    wait = _release;
                }
            }
            if (wait is not null)
            {
                Held.TrySetResult();
                if (!wait.Task.Wait(TimeSpan.FromSeconds(30))) throw new TimeoutException("test: the held journal write was never released");
            }
            lock (_lock)
                if (_failing) throw new IOException("test: the journal write failed (as on a full disk)");
            return command;
        }
    }
}
