using System.Runtime.Serialization;
using System.Text.Json;
using Akka.Actor;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Cis490.Coordinator.Persistence;

/// <summary>Which journal failures a restart cannot cure, and what an operator is told to do about them.</summary>
public static class JournalFaults
{
    /// <summary>The exit code of a coordinator node that stopped because its job table cannot be recovered (a damaged journal,
    /// an event this version cannot read, or <c>restart-limit</c> failed starts in a row). 1 is "cannot start", 2 a usage error.</summary>
    public const int UnrecoverableExitCode = 3;

    /// <summary>SQLite's result codes for a file that is damaged or not a database at all (sqlite.org/rescode.html).</summary>
    private const int SqliteCorrupt = 11, SqliteNotADatabase = 26;

    /// <summary>Why <paramref name="failure"/> (or an exception inside it) can never be cured by starting again, or null when it
    /// may be passing (the database restarting or unreachable, a lock, a time-out): those keep the backoff restarts.</summary>
    public static string? Unrecoverable(Exception failure)
    {
        foreach (var e in Chain(failure))
        {
            switch (e)
            {
                case SqliteException { SqliteErrorCode: SqliteCorrupt or SqliteNotADatabase } s:
                    return $"the SQLite file is damaged: {s.Message}";
                case PostgresException { SqlState: var state } p when state.StartsWith("XX", StringComparison.Ordinal):
                    return $"PostgreSQL reports the data damaged: {p.SqlState} {p.MessageText}";
                case SerializationException or JsonException or InvalidCastException:
                    return $"an event or snapshot cannot be read by this version ({e.GetType().Name}: {e.Message})";
            }
        }
        return null;
    }

    /// <summary>What to do about a journal that cannot be recovered: restore a backup, or move it aside and start empty.</summary>
    public static string Advice(string journal)
    {
        if (SqliteFile(journal) is { } file)
            return $"Stop here and either restore a backup of {file} (with its -wal and -shm files), or move it aside " +
                   $"(mv {file} {file}.damaged, and its -wal and -shm files) to start with an empty job table, then submit the manifest again " +
                   "(stored artifacts in models/ are kept).";
        return $"Restore the journal database ({journal}) from a backup, or point the coordinator at an empty database to start with " +
               "an empty job table, then submit the manifest again.";
    }

    /// <summary>A person's name for the journal a connection string points at: the SQLite file, or the PostgreSQL server and database.</summary>
    public static string Describe(string providerName, string connectionString)
    {
        try
        {
            if (providerName.StartsWith("SQLite", StringComparison.OrdinalIgnoreCase))
                return $"SQLite {Path.GetFullPath(new SqliteConnectionStringBuilder(connectionString).DataSource)}";
            var b = new NpgsqlConnectionStringBuilder(connectionString);
            return $"PostgreSQL {b.Host}:{b.Port}, database {b.Database ?? b.Username}";
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidCastException)
        {
            return $"{providerName} journal";
        }
    }

    private static string? SqliteFile(string journal) =>
        journal.StartsWith("SQLite ", StringComparison.Ordinal) ? journal["SQLite ".Length..] : null;

    private static IEnumerable<Exception> Chain(Exception failure)
    {
        var pending = new Stack<Exception>([failure]);
        var seen = 0;
        while (pending.Count > 0 && seen++ < 32) // a cause chain is short; the bound keeps a cycle from spinning
        {
            var e = pending.Pop();
            yield return e;
            if (e is AggregateException a) foreach (var inner in a.InnerExceptions) pending.Push(inner);
            else if (e.InnerException is { } inner) pending.Push(inner);
        }
    }
}

/// <summary>The CoordinatedShutdown reason of a coordinator whose job table cannot be recovered: Program prints
/// <see cref="Message"/> on stderr and exits with <see cref="ExitCode"/>.</summary>
public sealed class CoordinatorCannotRecover(string message) : CoordinatedShutdown.Reason
{
    public string Message { get; } = message;

    public override int ExitCode => JournalFaults.UnrecoverableExitCode;

    public override string ToString() => Message;
}
