using System.Data.Common;
using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Configuration;
using Cis490.Coordinator.Jobs;
using Cis490.Coordinator.Operator;
using Cis490.Coordinator.Persistence;
using Cis490.Protocols.Operator;
using LinqToDB.Interceptors;
using Microsoft.Data.Sqlite;
using Xunit;

namespace Cis490.Coordinator.Tests;

/// <summary>Faults are loud and bounded: a damaged or unreadable journal stops the node with what to do, a passing failure is
/// retried a bounded number of times while health says the coordinator is restarting, and SQLite's durability level is in
/// force on the journal's own connections.</summary>
public sealed class JournalFaultTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cis490-faults-").FullName;
    private readonly List<ActorSystem> _systems = [];

    private string Db => Path.Combine(_dir, "journal.db");

    public void Dispose()
    {
        foreach (var s in _systems) s.Terminate().Wait(TimeSpan.FromSeconds(10));
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    private Config MakeConfig(string settings = "", string? connection = null)
    {
        return TestConfig.Coordinator(_dir, TestConfig.Token, "persistence-sqlite.conf", $"""
            akka.persistence.journal.sql.connection-string = "{connection ?? $"Data Source={Db}"}"
            akka.persistence.snapshot-store.sql.connection-string = "{connection ?? $"Data Source={Db}"}"
            """, settings);
    }

    private ActorSystem Start(Config config, params IInterceptor[] observers)
    {
        var system = SqliteDurability.CreateSystem("faults-" + _systems.Count, config, observers);
        _systems.Add(system);
        return system;
    }

    /// <summary>A journal with one accepted manifest in it, written by a coordinator that then stopped.</summary>
    private async Task MakeJournal()
    {
        var system = Start(MakeConfig());
        var coordinator = system.ActorOf(JobCoordinator.Props(CoordinatorSettings.From(system.Settings.Config)), "coordinator");
        var reply = await coordinator.Ask<object>(new OperatorProtocol.SubmitManifest("m.toml", TestConfig.OneKnnJob, TestConfig.Token), TimeSpan.FromSeconds(20));
        Assert.IsType<OperatorProtocol.ManifestAccepted>(reply);
        await system.Terminate();
        SqliteConnection.ClearAllPools();
    }

    private static async Task<CoordinatorCannotRecover> ShutDownWith(ActorSystem system, TimeSpan within)
    {
        var terminated = await Task.WhenAny(system.WhenTerminated, Task.Delay(within));
        Assert.True(terminated == system.WhenTerminated, $"the node did not shut down within {within.TotalSeconds} s");
        return Assert.IsType<CoordinatorCannotRecover>(CoordinatedShutdown.Get(system).ShutdownReason);
    }

    [Theory]
    [InlineData(11, true)] // SQLITE_CORRUPT
    [InlineData(26, true)] // SQLITE_NOTADB
    [InlineData(5, false)] // SQLITE_BUSY: another process holds the lock for now
    [InlineData(14, false)] // SQLITE_CANTOPEN: a disk not mounted yet, a permission being fixed
    public void Sqlite_failures_are_unrecoverable_only_when_the_file_is_damaged(int code, bool unrecoverable)
    {
        var e = new SqliteException($"SQLite Error {code}", code);
        Assert.Equal(unrecoverable, JournalFaults.Unrecoverable(e) is not null);
        Assert.Equal(unrecoverable, JournalFaults.Unrecoverable(new AggregateException(new InvalidOperationException("wrapped", e))) is not null);
    }

    [Fact]
    public void An_event_this_version_cannot_read_is_unrecoverable_and_a_timeout_is_not()
    {
        Assert.Contains("cannot be read by this version", JournalFaults.Unrecoverable(new SerializationException("Unknown Cis490 manifest 'ZZ'")));
        Assert.NotNull(JournalFaults.Unrecoverable(new System.Text.Json.JsonException("bad")));
        Assert.Null(JournalFaults.Unrecoverable(new TimeoutException("journal did not answer")));
        Assert.Null(JournalFaults.Unrecoverable(new IOException("disk")));
    }

    [Fact]
    public async Task A_journal_file_with_damaged_pages_is_refused_at_start_naming_the_file_and_what_to_do()
    {
        await MakeJournal();
        var bytes = File.ReadAllBytes(Db);
        Assert.True(bytes.Length >= 3 * 4096, $"journal only {bytes.Length} bytes");
        var garbage = new Random(13);
        for (var i = 4096; i < bytes.Length; i++) bytes[i] = (byte)garbage.Next(256); // every page but the header page
        File.WriteAllBytes(Db, bytes);

        var problem = await JournalChoice.From("sqlite", null, _dir, _ => null).CheckReachable();

        Assert.NotNull(problem);
        Assert.Contains(Db, problem);
        Assert.Contains("damaged", problem);
        Assert.Contains("restore a backup", problem);
        Assert.Contains($"mv {Db} {Db}.damaged", problem);
    }

    [Fact]
    public async Task A_file_that_is_not_a_database_is_refused_at_start()
    {
        File.WriteAllText(Db, new string('x', 10_000));

        var problem = await JournalChoice.From("sqlite", null, _dir, _ => null).CheckReachable();

        Assert.NotNull(problem);
        Assert.Contains(Db, problem);
        Assert.Contains("not a database", problem);
    }

    [Fact]
    public async Task A_healthy_journal_passes_the_check()
    {
        await MakeJournal();
        Assert.Null(await JournalChoice.From("sqlite", null, _dir, _ => null).CheckReachable());
    }

    [Fact]
    public async Task An_event_the_serializer_cannot_read_shuts_the_node_down_at_once_with_the_file_and_what_to_do()
    {
        await MakeJournal();
        await using (var c = new SqliteConnection($"Data Source={Db}"))
        {
            await c.OpenAsync();
            await using var cmd = c.CreateCommand();
            cmd.CommandText = "UPDATE journal SET manifest = 'ZZ-unknown'";
            Assert.True(await cmd.ExecuteNonQueryAsync() > 0);
        }
        SqliteConnection.ClearAllPools();

        // restart-limit stays at its default (10): an unreadable event must not wait for it.
        var system = Start(MakeConfig("cis490.coordinator { restart-backoff-min = 200ms, restart-backoff-max = 500ms }"));
        var settings = CoordinatorSettings.From(system.Settings.Config);
        system.ActorOf(JobCoordinator.SupervisedProps(settings), "singleton");

        var reason = await ShutDownWith(system, TimeSpan.FromSeconds(20));
        Assert.Contains(Db, reason.Message);
        Assert.Contains("cannot be read by this version", reason.Message);
        Assert.Contains("move it aside", reason.Message);
        Assert.Equal(3, reason.ExitCode);
        Assert.Equal(1, CoordinatorRestarts.Get(system).Now().FailedStarts);
    }

    [Fact]
    public async Task A_journal_that_keeps_failing_is_restarted_visibly_then_the_node_gives_up_after_the_restart_limit()
    {
        await MakeJournal();
        await using (var c = new SqliteConnection($"Data Source={Db}"))
        {
            await c.OpenAsync();
            await using var cmd = c.CreateCommand();
            // Replaying now fails in the database itself, as a journal that cannot be read at the moment does.
            cmd.CommandText = "ALTER TABLE journal RENAME TO journal_away";
            await cmd.ExecuteNonQueryAsync();
        }
        SqliteConnection.ClearAllPools();

        // Three starts 300 ms apart, then the node gives up (production: 10 starts over about 2.5 min; coordinator.conf).
        var system = Start(MakeConfig("""
            cis490.coordinator { restart-backoff-min = 300ms, restart-backoff-max = 300ms, restart-limit = 3 }
            akka.persistence.journal.sql.auto-initialize = off
            """));
        var settings = CoordinatorSettings.From(system.Settings.Config);
        var singleton = system.ActorOf(JobCoordinator.SupervisedProps(settings), "singleton");
        var endpoint = system.ActorOf(OperatorEndpoint.Props(singleton, new OperatorToken(TestConfig.Token), null, TimeSpan.FromSeconds(1)), "operator");

        OperatorQueries.CoordinatorHealth? restarting = null;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (restarting is null && clock.Elapsed < TimeSpan.FromSeconds(10) && !system.WhenTerminated.IsCompleted)
        {
            try
            {
                if (await endpoint.Ask<object>(OperatorQueries.GetHealth.Instance, TimeSpan.FromSeconds(3)) is OperatorQueries.CoordinatorHealth { Restarting: true } h)
                    restarting = h;
            }
            catch (AskTimeoutException) { }
        }
        var reason = await ShutDownWith(system, TimeSpan.FromSeconds(20));

        Assert.NotNull(restarting);
        Assert.InRange(restarting.FailedStarts, 1, 3);
        Assert.Contains("journal", restarting.LastFailure);
        Assert.Contains("3 times in a row", reason.Message);
        Assert.Contains(Db, reason.Message);
        Assert.Equal(3, CoordinatorRestarts.Get(system).Now().FailedStarts);
    }

    /// <summary>Reads <c>PRAGMA synchronous</c> (or another pragma) on each connection the journal opens, after the coordinator's
    /// interceptor ran.</summary>
    private sealed class SynchronousObserver(string pragma = "synchronous") : ConnectionInterceptor
    {
        public readonly System.Collections.Concurrent.ConcurrentBag<long> Seen = [];

        public override void ConnectionOpened(ConnectionEventData eventData, DbConnection connection) => Seen.Add(Read(connection));

        public override Task ConnectionOpenedAsync(ConnectionEventData eventData, DbConnection connection, CancellationToken cancellationToken)
        {
            Seen.Add(Read(connection));
            return Task.CompletedTask;
        }

        private long Read(DbConnection connection)
        {
            using var cmd = connection.CreateCommand();
            cmd.CommandText = $"PRAGMA {pragma};";
            return Convert.ToInt64(cmd.ExecuteScalar());
        }
    }

    [Theory]
    [InlineData(null, 2L)] // the shipped persistence-sqlite.conf: FULL
    [InlineData("extra", 3L)] // not this library's default: proves the interceptor sets it
    [InlineData("normal", 1L)]
    public async Task Every_connection_the_journal_opens_has_the_configured_synchronous_level(string? level, long expected)
    {
        var observer = new SynchronousObserver();
        var system = Start(MakeConfig(level is null ? "" : $"cis490.journal.sqlite-synchronous = {level}"), observer);
        var coordinator = system.ActorOf(JobCoordinator.Props(CoordinatorSettings.From(system.Settings.Config)), "coordinator");

        var reply = await coordinator.Ask<object>(new OperatorProtocol.SubmitManifest("m.toml", TestConfig.OneKnnJob, TestConfig.Token), TimeSpan.FromSeconds(20));

        Assert.IsType<OperatorProtocol.ManifestAccepted>(reply);
        Assert.NotEmpty(observer.Seen);
        Assert.All(observer.Seen, seen => Assert.Equal(expected, seen));
    }

    [Theory]
    [InlineData(null, 30_000L)] // the shipped persistence-sqlite.conf: 30 s
    [InlineData("cis490.journal.sqlite-busy-timeout = 1500ms", 1_500L)]
    public async Task Every_connection_the_journal_opens_waits_for_a_busy_lock_inside_sqlite(string? setting, long expectedMs)
    {
        var observer = new SynchronousObserver("busy_timeout");
        var system = Start(MakeConfig(setting ?? ""), observer);
        var coordinator = system.ActorOf(JobCoordinator.Props(CoordinatorSettings.From(system.Settings.Config)), "coordinator");

        var reply = await coordinator.Ask<object>(new OperatorProtocol.SubmitManifest("m.toml", TestConfig.OneKnnJob, TestConfig.Token), TimeSpan.FromSeconds(20));

        Assert.IsType<OperatorProtocol.ManifestAccepted>(reply);
        Assert.NotEmpty(observer.Seen);
        Assert.All(observer.Seen, seen => Assert.Equal(expectedMs, seen));
    }

    [Fact]
    public void An_unknown_synchronous_level_is_refused_naming_the_key()
    {
        var e = Assert.Throws<ArgumentException>(() => new SqliteDurability("fast"));
        Assert.Contains(SqliteDurability.ConfigKey, e.Message);
        var busy = Assert.Throws<ArgumentException>(() => new SqliteDurability("full", TimeSpan.Zero));
        Assert.Contains(SqliteDurability.BusyTimeoutKey, busy.Message);
    }
}
