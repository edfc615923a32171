using Cis490.Coordinator.Persistence;
using Cis490.Shared.Cli;
using Microsoft.Data.Sqlite;
using Xunit;

namespace Cis490.Coordinator.Tests;

/// <summary>Choosing the journal from the command line: the SQLite default (switched to WAL), PostgreSQL, and usage errors.</summary>
public sealed class JournalChoiceTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cis490-journal-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    [Fact]
    public async Task The_default_is_an_sqlite_file_in_the_data_directory_in_wal_mode()
    {
        var choice = JournalChoice.From(null, null, _dir, _ => null);
        Assert.Null(await choice.CheckReachable());

        Assert.Equal(("persistence-sqlite.conf", false), (choice.HoconFile, choice.IsPostgres));
        using var c = new SqliteConnection(choice.ConnectionString);
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "PRAGMA journal_mode;";
        Assert.Equal("wal", cmd.ExecuteScalar());
        Assert.True(File.Exists(Path.Combine(_dir, "journal.db")));
    }

    [Theory]
    [InlineData("mysql", null, "option --journal must be sqlite or postgres, got 'mysql'")]
    [InlineData("sqlite", "Host=x", "option --postgres is only used with --journal postgres")]
    [InlineData("postgres", null, "--journal postgres needs a connection string")]
    [InlineData("postgres", "Port=5432;Username=u", "names no Host")]
    public void A_bad_choice_is_a_usage_error_that_names_the_option(string journal, string? postgres, string message)
    {
        var e = Assert.Throws<CliException>(() => JournalChoice.From(journal, postgres, _dir, _ => null));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void The_postgres_connection_string_may_come_from_the_environment_and_its_password_is_never_shown()
    {
        var choice = JournalChoice.From("postgres", null, _dir, v => v == JournalChoice.PostgresEnv ? "Host=db;Username=u;Password=s3cret;Database=d" : null);
        Assert.True(choice.IsPostgres);
        Assert.Contains("db:5432", choice.Description);
        Assert.DoesNotContain("s3cret", choice.Description);
    }
}
