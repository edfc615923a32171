using Akka.Actor;
using Cis490.Coordinator.Jobs;
using Cis490.Coordinator.Persistence;
using Cis490.Protocols.Operator;
using Microsoft.Data.Sqlite;
using Xunit;

namespace Cis490.Coordinator.Tests;

/// <summary>The embedded store's snapshots live in <c>snapshots.db</c>, beside <c>journal.db</c> (a 100 000-job snapshot no longer
/// holds the journal's one writer lock while leases wait): a data directory from before keeps every job, its snapshots are moved
/// once, and a damaged snapshot file stops the node before anything starts, as a damaged journal does.</summary>
public sealed class SnapshotFileTests : IDisposable
{
    private const string Settings = """
        # Snapshots every 4 events, so that a handful of jobs crosses one and the events behind it are deleted (production: 1000).
        cis490.coordinator.snapshot-every = 4
        # every 4 events, however quickly they come (the time share would space snapshots out by their duration)
        cis490.coordinator.snapshot-time-share = 1
        """;

    private readonly string _dir = Directory.CreateTempSubdirectory("cis490-snapfile-").FullName;
    private readonly List<ActorSystem> _systems = [];

    private string Journal => Path.Combine(_dir, "journal.db");
    private string Snapshots => Path.Combine(_dir, "snapshots.db");

    public void Dispose()
    {
        foreach (var s in _systems) s.Terminate().Wait(TimeSpan.FromSeconds(10));
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    private static string Manifest(int jobs) =>
        string.Concat(Enumerable.Range(1, jobs).Select(i => $"[[jobs]]\nmodel = \"knn\"\nmode = \"realistic\"\nseed = {i}\n\n"));

    private async Task<IActorRef> StartCoordinator(string persistenceOverrides)
    {
        var system = SqliteDurability.CreateSystem("snapfile-" + _systems.Count,
            TestConfig.Coordinator(_dir, TestConfig.Token, "persistence-sqlite.conf", persistenceOverrides, Settings));
        _systems.Add(system);
        var coordinator = system.ActorOf(JobCoordinator.Props(CoordinatorSettings.From(system.Settings.Config)), "coordinator");
        await Task.CompletedTask;
        return coordinator;
    }

    private async Task StopAll()
    {
        foreach (var s in _systems) await s.Terminate();
        _systems.Clear();
        SqliteConnection.ClearAllPools();
    }

    private static async Task<int> JobCount(IActorRef coordinator) =>
        (await coordinator.Ask<OperatorProtocol.JobList>(new OperatorProtocol.ListJobs(null, null), TimeSpan.FromSeconds(20))).Jobs.Count;

    private static async Task Submit(IActorRef coordinator, string manifest) =>
        Assert.IsType<OperatorProtocol.ManifestAccepted>(await coordinator.Ask<object>(
            new OperatorProtocol.SubmitManifest("m.toml", manifest, TestConfig.Token), TimeSpan.FromSeconds(20)));

    private static long Count(string file, string sql)
    {
        using var c = new SqliteConnection($"Data Source={file};Pooling=False");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        return Convert.ToInt64(cmd.ExecuteScalar());
    }

    private static bool HasSnapshotTable(string file) =>
        File.Exists(file) && Count(file, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'snapshot'") > 0;

    private static async Task Eventually(Func<bool> condition, string what)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(20)) Assert.Fail($"not within 20 s: {what}");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task A_data_directory_from_before_the_split_has_its_snapshot_moved_once_and_recovers_every_job()
    {
        // The old layout: the snapshot store in journal.db, as every coordinator before this one wrote it.
        var old = $"""
            akka.persistence.journal.sql.connection-string = "Data Source={Journal}"
            akka.persistence.snapshot-store.sql.connection-string = "Data Source={Journal}"
            """;
        var first = await StartCoordinator(old);
        await Submit(first, Manifest(6));
        await Eventually(() => HasSnapshotTable(Journal) && Count(Journal, "SELECT count(*) FROM snapshot") == 1, "a snapshot in journal.db");
        // The events the snapshot covers are gone (the manifest's six are one journal entry): without the snapshot the jobs would be lost.
        await Eventually(() => Count(Journal, "SELECT count(*) FROM journal WHERE NOT deleted") == 0, "the events behind the snapshot deleted");
        var bytes = Count(Journal, "SELECT length(snapshot) FROM snapshot");
        var covered = Count(Journal, "SELECT max(sequence_number) FROM snapshot");
        await StopAll();

        var choice = JournalChoice.From("sqlite", null, _dir, _ => null);
        Assert.Null(await choice.CheckReachable());

        Assert.Equal(0, Count(Journal, "SELECT count(*) FROM snapshot"));
        Assert.Equal((1L, bytes), (Count(Snapshots, "SELECT count(*) FROM snapshot"), Count(Snapshots, "SELECT length(snapshot) FROM snapshot")));
        Assert.Null(await choice.CheckReachable()); // a second start moves nothing and loses nothing
        Assert.Equal(1, Count(Snapshots, "SELECT count(*) FROM snapshot"));

        // The coordinator as the program starts it (JournalChoice's overrides): every job back, and new snapshots go to snapshots.db.
        var second = await StartCoordinator(choice.Overrides);
        Assert.Equal(6, await JobCount(second));
        await Submit(second, Manifest(12)); // 6 new jobs: 6 more events, another snapshot
        await Eventually(() => Count(Snapshots, "SELECT max(sequence_number) FROM snapshot") > covered, "a new snapshot in snapshots.db");
        Assert.Equal(0, Count(Journal, "SELECT count(*) FROM snapshot"));
        await StopAll();

        var third = await StartCoordinator(choice.Overrides);
        Assert.Equal(12, await JobCount(third));
    }

    [Fact]
    public async Task A_damaged_snapshot_file_is_refused_at_start_naming_it_and_what_to_do()
    {
        File.WriteAllText(Snapshots, new string('x', 10_000));

        var problem = await JournalChoice.From("sqlite", null, _dir, _ => null).CheckReachable();

        Assert.NotNull(problem);
        Assert.Contains($"the SQLite snapshot store {Snapshots} is damaged", problem);
        Assert.Contains("restore both from the same backup", problem);
    }
}
