using Cis490.Shared.Cli;
using Cis490.Shared.Config;
using Npgsql;

namespace Cis490.Coordinator.Persistence;

/// <summary>Which journal the coordinator persists to: an SQLite file under the data directory (the default, one coordinator)
/// or a PostgreSQL server (a fleet whose coordinator singleton may move between nodes).</summary>
public sealed record JournalChoice(string HoconFile, string ConnectionString, string Description, bool IsPostgres)
{
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
                return new JournalChoice("persistence-sqlite.conf", $"Data Source={file}", $"SQLite {file}", false);
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
        akka.persistence.snapshot-store.sql.connection-string = {HoconLoader.Quote(ConnectionString)}
        """;

    /// <summary>Opens one connection to the PostgreSQL journal, so that an unreachable server is reported at start-up in words,
    /// not later as a persistence failure of the singleton; an SQLite journal is checked for damage and put in WAL mode.
    /// Returns null when all is well, else what went wrong (and what to do).</summary>
    public async Task<string?> CheckReachable(CancellationToken ct = default)
    {
        if (!IsPostgres) return CheckSqlite();
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

    /// <summary>Checks an existing SQLite journal (<c>PRAGMA quick_check</c>: every page and index readable and consistent), so a
    /// damaged file stops the node at once with what to do, never a READY node whose coordinator fails to recover; then puts it
    /// in WAL mode (a setting stored in the file): a commit then syncs one log instead of the rollback journal and the database,
    /// and readers (recovery, the shell's queries) do not block the writer.</summary>
    private string? CheckSqlite()
    {
        var file = new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(ConnectionString).DataSource;
        try
        {
            using var c = new Microsoft.Data.Sqlite.SqliteConnection(ConnectionString);
            c.Open();
            using var cmd = c.CreateCommand();
            if (File.Exists(file) && new FileInfo(file).Length > 0)
            {
                cmd.CommandText = "PRAGMA quick_check(5);"; // up to 5 problems: enough to say what is wrong
                var problems = new List<string>();
                using (var reader = cmd.ExecuteReader())
                    while (reader.Read()) problems.Add(reader.GetString(0).ReplaceLineEndings(" ")); // one line on stderr
                if (problems is not ["ok"])
                    return Damaged(string.Join("; ", problems));
            }
            cmd.CommandText = "PRAGMA journal_mode=WAL;";
            var mode = cmd.ExecuteScalar() as string;
            return mode == "wal" ? null : $"the SQLite journal ({Description}) stays in '{mode}' mode; WAL was refused";
        }
        catch (Microsoft.Data.Sqlite.SqliteException e) when (JournalFaults.Unrecoverable(e) is not null)
        {
            return Damaged(e.Message);
        }
        catch (Microsoft.Data.Sqlite.SqliteException e)
        {
            return $"cannot open the SQLite journal ({Description}): {e.Message}";
        }

        string Damaged(string detail) =>
            $"the SQLite journal {Path.GetFullPath(file)} is damaged ({detail}); the job table cannot be recovered from it. {JournalFaults.Advice(Description)}";
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
