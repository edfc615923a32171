using Cis490.Shared.Config;
using Cis490.Testing;
using Microsoft.Data.Sqlite;

namespace Cis490.Coordinator.Tests;

/// <summary>A journal for one test: a fresh SQLite file or a fresh PostgreSQL database, with the HOCON that selects it
/// (the same files the coordinator program loads) and a way to count rows in its tables.</summary>
public abstract class TestJournal : IDisposable
{
    /// <summary>persistence-sqlite.conf or persistence-postgres.conf.</summary>
    public abstract string HoconFile { get; }

    protected abstract string ConnectionString { get; }

    /// <summary>Runs a scalar SQL query (both journals have the tables journal, snapshot, tags) and returns it as a number.</summary>
    public abstract long Count(string sql);

    public string Overrides => $"""
        akka.persistence.journal.sql.connection-string = {HoconLoader.Quote(ConnectionString)}
        akka.persistence.snapshot-store.sql.connection-string = {HoconLoader.Quote(ConnectionString)}
        """;

    public abstract void Dispose();

    public static TestJournal Sqlite(string dir) => new SqliteJournal(Path.Combine(dir, "journal.db"));

    public static TestJournal Postgres() => new PostgresJournal(PostgresTestDatabase.Create("cis490_coord"));

    private sealed class SqliteJournal(string file) : TestJournal
    {
        public override string HoconFile => "persistence-sqlite.conf";
        protected override string ConnectionString => $"Data Source={file}";

        public override long Count(string sql)
        {
            using var c = new SqliteConnection(ConnectionString);
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = sql;
            return Convert.ToInt64(cmd.ExecuteScalar());
        }

        public override void Dispose() => SqliteConnection.ClearAllPools();
    }

    private sealed class PostgresJournal(PostgresTestDatabase db) : TestJournal
    {
        public override string HoconFile => "persistence-postgres.conf";
        protected override string ConnectionString => db.ConnectionString;
        public override long Count(string sql) => db.Count(sql);
        public override void Dispose() => db.Dispose();
    }
}
