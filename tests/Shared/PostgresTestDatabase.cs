using Npgsql;

namespace Cis490.Testing;

/// <summary>A fresh PostgreSQL database for one test, created on the server named by <c>CIS490_TEST_POSTGRES</c> and dropped on
/// dispose. Without that variable the test fails (never skips): <c>./cis490 test</c> starts a server on loopback and sets it.</summary>
public sealed class PostgresTestDatabase : IDisposable
{
    public const string EnvVar = "CIS490_TEST_POSTGRES";

    private readonly string _admin;

    /// <summary>The database's own name (lower case, unique per test).</summary>
    public string Name { get; }

    /// <summary>Connection string of the fresh database (the admin one with Database replaced).</summary>
    public string ConnectionString { get; }

    private PostgresTestDatabase(string admin, string name)
    {
        _admin = admin;
        Name = name;
        ConnectionString = new NpgsqlConnectionStringBuilder(admin) { Database = name }.ConnectionString;
    }

    /// <summary>The connection string of a role with CREATEDB, from <see cref="EnvVar"/>; throws with what to do when it is missing.</summary>
    public static string AdminConnectionString =>
        Environment.GetEnvironmentVariable(EnvVar) is { Length: > 0 } cs
            ? cs
            : throw new InvalidOperationException(
                $"{EnvVar} is not set, so the PostgreSQL tests cannot run. Run the suite with ./cis490 test (as root it installs and " +
                $"starts PostgreSQL on loopback and sets {EnvVar}), or set {EnvVar} to a role with CREATEDB, e.g. " +
                "Host=127.0.0.1;Port=5432;Username=cis490;Password=...;Database=cis490");

    /// <summary>Creates a new, empty database on the test server.</summary>
    public static PostgresTestDatabase Create(string prefix = "cis490_t")
    {
        var admin = AdminConnectionString;
        var db = new PostgresTestDatabase(admin, $"{prefix}_{Guid.NewGuid():N}");
        db.Execute($"CREATE DATABASE \"{db.Name}\"");
        return db;
    }

    /// <summary>Runs one scalar query in this database (e.g. a row count).</summary>
    public long Count(string sql)
    {
        using var c = new NpgsqlConnection(ConnectionString);
        c.Open();
        using var cmd = new NpgsqlCommand(sql, c);
        return Convert.ToInt64(cmd.ExecuteScalar());
    }

    private void Execute(string sql)
    {
        try
        {
            ExecuteRaw(sql);
        }
        catch (NpgsqlException e)
        {
            var b = new NpgsqlConnectionStringBuilder(_admin);
            throw new InvalidOperationException(
                $"the test PostgreSQL server in {EnvVar} ({b.Host}:{b.Port}, user {b.Username}) refused '{sql}': {e.Message}. " +
                "Is it running (pg_lsclusters), and may the role create databases? ./cis490 test sets this up as root.", e);
        }
    }

    private void ExecuteRaw(string sql)
    {
        using var c = new NpgsqlConnection(_admin);
        c.Open();
        using var cmd = new NpgsqlCommand(sql, c);
        cmd.ExecuteNonQuery();
    }

    public void Dispose()
    {
        using (var c = new NpgsqlConnection(ConnectionString)) NpgsqlConnection.ClearPool(c);
        // A plain DROP waits for (and stops) an autovacuum worker on the database, which a non-superuser's DROP ... WITH (FORCE)
        // may not terminate; FORCE only when a connection of ours is still open (the actor system is shut down by then).
        try { ExecuteRaw($"DROP DATABASE IF EXISTS \"{Name}\""); }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.ObjectInUse)
        {
            Execute($"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)");
        }
    }
}
