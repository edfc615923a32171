using Cis490.Shared.Cli;
using Cis490.Shared.Config;
using Npgsql;

namespace Cis490.Coordinator.Persistence;

/// <summary>Which journal the coordinator persists to: an SQLite file under the data directory (the default, one coordinator)
/// or a PostgreSQL server (a fleet whose coordinator singleton may move between nodes).</summary>
public sealed record JournalChoice(string HoconFile, string ConnectionString, string Description, bool IsPostgres)
{
    /// <summary>Where the snapshot store keeps the job-table snapshots: with SQLite a file of its own beside the journal's
    /// (<see cref="SqliteFiles"/> says why), with PostgreSQL the same database.</summary>
    public string SnapshotConnectionString { get; init; } = ConnectionString;

    /// <summary>The environment variable that carries the PostgreSQL connection string when --postgres is not given.</summary>
    public const string PostgresEnv = "CIS490_POSTGRES";

    private const string Example = "Host=HOST;Port=5432;Username=USER;Password=PASSWORD;Database=DB";

    /// <summary>Reads <c>--journal sqlite|postgres</c> and <c>--postgres CONNSTR</c> (or <see cref="PostgresEnv"/>); usage errors name the option.</summary>
    public static JournalChoice From(string? journal, string? postgres, string dataDir, Func<string, string?>? env = null)
    {
        env ??= Environment.GetEnvironmentVariable;
        switch (journal ?? "sqlite")
        {
            case "sqlite":
                if (postgres is not null) throw new CliException("option --postgres is only used with --journal postgres");
                var file = Path.Combine(dataDir, "journal.db");
                return new JournalChoice("persistence-sqlite.conf", $"Data Source={file}", $"SQLite {file}", false)
                    { SnapshotConnectionString = $"Data Source={Path.Combine(dataDir, "snapshots.db")}" };
            case "postgres" or "postgresql":
                var connection = postgres ?? env(PostgresEnv);
                if (string.IsNullOrWhiteSpace(connection))
                    throw new CliException($"--journal postgres needs a connection string: option --postgres \"{Example}\" or the {PostgresEnv} environment variable");
                return new JournalChoice("persistence-postgres.conf", connection, Describe(connection, postgres is null ? PostgresEnv : "--postgres"), true);
            default:
                throw new CliException($"option --journal must be sqlite or postgres, got '{journal}'");
        }
    }

    /// <summary>HOCON overrides that point the journal and the snapshot store at the chosen database.</summary>
    public string Overrides => $"""
        akka.persistence.journal.sql.connection-string = {HoconLoader.Quote(ConnectionString)}
        akka.persistence.snapshot-store.sql.connection-string = {HoconLoader.Quote(SnapshotConnectionString)}
        """;

    /// <summary>Opens one connection to the PostgreSQL journal, so that an unreachable server is reported at start-up in words,
    /// not later as a persistence failure of the singleton; the SQLite files are checked for damage and put in WAL mode
    /// (<see cref="SqliteFiles.Prepare"/>).
    /// Returns null when all is well, else what went wrong (and what to do).</summary>
    public async Task<string?> CheckReachable(CancellationToken ct = default)
    {
        if (!IsPostgres) return SqliteFiles.Prepare(ConnectionString, SnapshotConnectionString, Description);
        try
        {
            await using var c = new NpgsqlConnection(ConnectionString);
            await c.OpenAsync(ct);
            await using var cmd = new NpgsqlCommand("SELECT 1", c);
            await cmd.ExecuteScalarAsync(ct);
            return null;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException or InvalidOperationException)
        {
            var reason = e.InnerException is { } inner && !e.Message.Contains(inner.Message, StringComparison.Ordinal)
                ? $"{e.Message} ({inner.Message})"
                : e.Message;
            return $"cannot reach the PostgreSQL journal ({Description}): {reason}. " +
                   "Check that the server runs and listens there, that pg_hba.conf admits this host, and the user and password.";
        }
    }

    /// <summary>Where the connection string points, without its password (safe for logs and errors).</summary>
    private static string Describe(string connection, string source)
    {
        NpgsqlConnectionStringBuilder b;
        try { b = new NpgsqlConnectionStringBuilder(connection); }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidCastException)
        {
            throw new CliException($"{Option(source)} is not a valid PostgreSQL connection string ({e.Message}); expected e.g. \"{Example}\"");
        }
        if (string.IsNullOrWhiteSpace(b.Host))
            throw new CliException($"{Option(source)} names no Host; expected e.g. \"{Example}\"");
        return $"PostgreSQL {b.Host}:{b.Port}, database {b.Database ?? b.Username ?? "(user's)"}, user {b.Username ?? "(OS user)"}";
    }

    private static string Option(string source) => source == PostgresEnv ? $"{PostgresEnv} (read because --postgres was not given)" : "option --postgres";
}
