using System.Data.Common;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Persistence.Sql.Config;
using LinqToDB;
using LinqToDB.Interceptors;

namespace Cis490.Coordinator.Persistence;

/// <summary>SQLite's <c>PRAGMA synchronous</c> on every connection the journal, the snapshot store and the query journal open.
/// The level is per connection, not stored in the file (unlike <c>journal_mode=WAL</c>), and Microsoft.Data.Sqlite pools
/// connections, so a pragma run once at start-up would hold only on the connection that ran it: this linq2db interceptor runs it
/// each time Akka.Persistence.Sql opens one. The level comes from <c>cis490.journal.sqlite-synchronous</c>
/// (hocon/persistence-sqlite.conf says why it is FULL).
/// It also sets <c>PRAGMA busy_timeout</c> (<c>cis490.journal.sqlite-busy-timeout</c>): without it a connection that finds the
/// file locked by another writer (the snapshot store, a delete behind a snapshot) gets SQLITE_BUSY back, and Microsoft.Data.Sqlite
/// answers that with a 150 ms <c>Thread.Sleep</c> before it tries again; SQLite's own busy handler waits in steps of 1-100 ms.</summary>
public sealed class SqliteDurability : ConnectionInterceptor
{
    /// <summary>The HOCON key of the level.</summary>
    public const string ConfigKey = "cis490.journal.sqlite-synchronous";

    /// <summary>The HOCON key of the busy timeout.</summary>
    public const string BusyTimeoutKey = "cis490.journal.sqlite-busy-timeout";

    /// <summary>The Akka.Persistence.Sql plugins whose connections get the pragma (persistence-sqlite.conf configures all three).</summary>
    public static readonly string[] PluginIds =
        ["akka.persistence.journal.sql", "akka.persistence.snapshot-store.sql", "akka.persistence.query.journal.sql"];

    private static readonly Dictionary<string, int> Levels = new(StringComparer.OrdinalIgnoreCase)
    {
        ["off"] = 0, ["normal"] = 1, ["full"] = 2, ["extra"] = 3,
    };

    private readonly string _pragma;

    /// <summary>The level as SQLite numbers it (<c>PRAGMA synchronous</c> answers this): 0 off, 1 normal, 2 full, 3 extra.</summary>
    public int Level { get; }

    /// <summary>How long a statement waits for another connection's write lock inside SQLite (<c>PRAGMA busy_timeout</c>).</summary>
    public TimeSpan BusyTimeout { get; }

    public SqliteDurability(string level, TimeSpan? busyTimeout = null)
    {
        if (!Levels.TryGetValue(level.Trim(), out var n))
            throw new ArgumentException($"{ConfigKey} must be one of {string.Join(", ", Levels.Keys)}, got '{level}'");
        BusyTimeout = busyTimeout ?? TimeSpan.FromSeconds(30);
        if (BusyTimeout <= TimeSpan.Zero || BusyTimeout.TotalMilliseconds > int.MaxValue)
            throw new ArgumentException($"{BusyTimeoutKey} must be a positive duration (e.g. 30s), got {BusyTimeout}");
        Level = n;
        _pragma = $"PRAGMA synchronous = {n}; PRAGMA busy_timeout = {(long)BusyTimeout.TotalMilliseconds};";
    }

    public override void ConnectionOpened(ConnectionEventData eventData, DbConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = _pragma;
        command.ExecuteNonQuery();
    }

    public override async Task ConnectionOpenedAsync(ConnectionEventData eventData, DbConnection connection, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = _pragma;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The setup that makes Akka.Persistence.Sql open its SQLite connections through this interceptor (and then
    /// <paramref name="more"/>, e.g. a test's observer): the journal and the query journal on <paramref name="connectionString"/>,
    /// the snapshot store on <paramref name="snapshotConnectionString"/> (its own file, SqliteFiles; the same one when null).</summary>
    public MultiDataOptionsSetup Setup(string connectionString, string? snapshotConnectionString = null, params IInterceptor[] more)
    {
        DataOptions Options(string connection)
        {
            var options = new DataOptions().UseConnectionString(ProviderName.SQLiteMS, connection).UseInterceptor(this);
            foreach (var interceptor in more) options = options.UseInterceptor(interceptor);
            return options;
        }
        var setup = new MultiDataOptionsSetup();
        foreach (var id in PluginIds)
            setup.AddDataOptions(id, Options(id == "akka.persistence.snapshot-store.sql" ? snapshotConnectionString ?? connectionString : connectionString));
        return setup;
    }

    /// <summary>The coordinator's actor system: with the SQLite journal (provider SQLite.*), its connections get the configured
    /// <c>synchronous</c> level; with PostgreSQL the config is used as it is.</summary>
    public static ActorSystem CreateSystem(string name, Akka.Configuration.Config config, params IInterceptor[] more) =>
        CreateSystem(name, config, null, more);

    /// <summary>As above, with <paramref name="transport"/> (the node's TLS setup, Shared/Tls) among the system's setups.</summary>
    public static ActorSystem CreateSystem(string name, Akka.Configuration.Config config, Setup? transport, params IInterceptor[] more)
    {
        var setups = new List<Setup> { BootstrapSetup.Create().WithConfig(config) };
        if (transport is not null) setups.Add(transport);
        var provider = config.GetString("akka.persistence.journal.sql.provider-name", "");
        if (provider.StartsWith("SQLite", StringComparison.OrdinalIgnoreCase))
        {
            var durability = new SqliteDurability(config.GetString(ConfigKey, "full"), config.GetTimeSpan(BusyTimeoutKey, TimeSpan.FromSeconds(30)));
            setups.Add(durability.Setup(config.GetString("akka.persistence.journal.sql.connection-string"),
                config.GetString("akka.persistence.snapshot-store.sql.connection-string", "") is { Length: > 0 } snapshots ? snapshots : null, more));
        }
        return ActorSystem.Create(name, ActorSystemSetup.Create(setups.ToArray()));
    }
}
