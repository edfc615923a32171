using Microsoft.Data.Sqlite;

namespace Cis490.Coordinator.Persistence;

/// <summary>The embedded store's two SQLite files under the data directory, checked before the node starts: <c>journal.db</c> (the
/// events) and <c>snapshots.db</c> (the job-table snapshots).
/// <para>Two files, not one: SQLite takes one writer per file, and a snapshot of 100 000 jobs is a 9 MB write followed by the delete
/// of the one before it. In the journal's file every lease waited behind those writes (bench scale, issue 17: p99 lease latency
/// 275–328 ms against p50 17 ms); in a file of its own the snapshot store never holds the lock the journal needs. Nothing is lost
/// by the split: events behind a snapshot are deleted only once the snapshot store has reported it saved (fsynced).</para>
/// <para>A data directory from before the split keeps its snapshots in <c>journal.db</c>: they are moved into <c>snapshots.db</c>
/// once, before anything else opens either file (the events behind them were deleted, so they must not be left behind).</para></summary>
public static class SqliteFiles
{
    /// <summary>Checks both files (<c>PRAGMA quick_check</c>: a damaged one stops the node at once, naming it, never a READY node
    /// whose coordinator fails to recover), puts both in WAL mode, and moves old snapshots out of the journal's file. Returns
    /// null when all is well, else what went wrong and what to do.</summary>
    public static string? Prepare(string journalConnection, string snapshotConnection, string description)
    {
        if (Check(journalConnection, "journal", description) is { } journalProblem) return journalProblem;
        if (SameFile(journalConnection, snapshotConnection)) return null;
        if (Check(snapshotConnection, "snapshot store", description) is { } snapshotProblem) return snapshotProblem;
        try
        {
            MoveSnapshots(journalConnection, snapshotConnection);
            return null;
        }
        catch (SqliteException e)
        {
            return $"cannot move the job-table snapshots from {File(journalConnection)} to {File(snapshotConnection)}: {e.Message}";
        }
    }

    /// <summary>The data file a connection string names (full path).</summary>
    public static string File(string connection) => Path.GetFullPath(new SqliteConnectionStringBuilder(connection).DataSource);

    private static bool SameFile(string a, string b) => string.Equals(File(a), File(b), StringComparison.Ordinal);

    private static string? Check(string connection, string what, string description)
    {
        var file = File(connection);
        try
        {
            using var c = new SqliteConnection(connection);
            c.Open();
            using var cmd = c.CreateCommand();
            if (System.IO.File.Exists(file) && new FileInfo(file).Length > 0)
            {
                cmd.CommandText = "PRAGMA quick_check(5);"; // up to 5 problems: enough to say what is wrong
                var problems = new List<string>();
                using (var reader = cmd.ExecuteReader())
                    while (reader.Read()) problems.Add(reader.GetString(0).ReplaceLineEndings(" ")); // one line on stderr
                if (problems is not ["ok"])
                    return Damaged(string.Join("; ", problems));
            }
            // WAL (a setting stored in the file): a commit syncs one log instead of the rollback journal and the database, and
            // readers (recovery, the shell's queries) do not block the writer.
            cmd.CommandText = "PRAGMA journal_mode=WAL;";
            var mode = cmd.ExecuteScalar() as string;
            return mode == "wal" ? null : $"the SQLite {what} ({file}) stays in '{mode}' mode; WAL was refused";
        }
        catch (SqliteException e) when (JournalFaults.Unrecoverable(e) is not null)
        {
            return Damaged(e.Message);
        }
        catch (SqliteException e)
        {
            return $"cannot open the SQLite {what} ({file}): {e.Message}";
        }

        string Damaged(string detail) =>
            $"the SQLite {what} {file} is damaged ({detail}); the job table cannot be recovered from it. {JournalFaults.Advice($"SQLite {file}")}" +
            (what == "journal" ? "" : $" (It belongs with the journal of {description}: restore both from the same backup, or move both aside.)");
    }

    /// <summary>Moves the snapshots a data directory from before the split kept in the journal's file into the snapshot file: copied
    /// (table and indexes as the snapshot store made them) and committed there first, then deleted from the journal's file. A crash
    /// between the two leaves copies in both; the next start sees the snapshot file's and leaves the journal's alone.</summary>
    private static void MoveSnapshots(string journalConnection, string snapshotConnection)
    {
        using var journal = new SqliteConnection(journalConnection);
        journal.Open();
        if (Scalar(journal, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'snapshot'") == 0) return;
        if (Scalar(journal, "SELECT count(*) FROM snapshot") == 0) return;
        using (var snapshots = new SqliteConnection(snapshotConnection))
        {
            snapshots.Open();
            var hasTable = Scalar(snapshots, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'snapshot'") > 0;
            if (hasTable && Scalar(snapshots, "SELECT count(*) FROM snapshot") > 0) return; // moved before (a crash before the delete)
            using var cmd = snapshots.CreateCommand();
            cmd.CommandText = "ATTACH DATABASE $journal AS old"; // outside the transaction: SQLite refuses ATTACH inside one
            cmd.Parameters.AddWithValue("$journal", File(journalConnection));
            cmd.ExecuteNonQuery();
            cmd.Parameters.Clear();
            using var move = snapshots.BeginTransaction();
            cmd.Transaction = move;
            if (!hasTable)
            {
                cmd.CommandText = "SELECT sql FROM old.sqlite_master WHERE tbl_name = 'snapshot' AND sql IS NOT NULL ORDER BY type DESC"; // table, then indexes
                var ddl = new List<string>();
                using (var r = cmd.ExecuteReader()) while (r.Read()) ddl.Add(r.GetString(0));
                foreach (var statement in ddl)
                {
                    cmd.CommandText = statement;
                    cmd.ExecuteNonQuery();
                }
            }
            cmd.CommandText = "INSERT INTO main.snapshot SELECT * FROM old.snapshot";
            cmd.ExecuteNonQuery();
            move.Commit();
            cmd.Transaction = null;
            cmd.CommandText = "DETACH DATABASE old";
            cmd.ExecuteNonQuery();
        }
        using var delete = journal.CreateCommand();
        delete.CommandText = "DELETE FROM snapshot";
        delete.ExecuteNonQuery();
    }

    private static long Scalar(SqliteConnection c, string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        return Convert.ToInt64(cmd.ExecuteScalar());
    }
}
