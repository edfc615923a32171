using Akka.Actor;
using Akka.Streams;
using Cis490.Coordinator.Jobs;
using Cis490.Coordinator.Persistence;
using Cis490.Protocols.Operator;
using Cis490.Shared.Config;
using Microsoft.Data.Sqlite;
using Xunit;

namespace Cis490.Coordinator.Tests;

/// <summary>The recovery warm-ups (issue 17): the recovery path run through the node's real serializer on a made-up table (a
/// serializer that cannot read the snapshot back makes it fail loudly rather than pass; its caller logs that), and the journal's
/// replay run on one of the coordinator's own events, only reading.</summary>
public sealed class RecoveryWarmupTests
{
    [Fact]
    public async Task The_replay_warm_up_reads_one_of_the_coordinators_events_writes_nothing_and_stops()
    {
        var dir = Directory.CreateTempSubdirectory("cis490-replay-warmup-").FullName;
        var db = Path.Combine(dir, "journal.db");
        var config = TestConfig.Coordinator(dir, TestConfig.Token);
        var system = SqliteDurability.CreateSystem("replay-warmup", config);
        try
        {
            var coordinator = system.ActorOf(JobCoordinator.Props(CoordinatorSettings.From(system.Settings.Config)), "coordinator");
            var manifest = string.Concat(Enumerable.Range(1, 3).Select(i => $"[[jobs]]\nmodel = \"knn\"\nmode = \"realistic\"\nseed = {i}\n\n"));
            Assert.IsType<OperatorProtocol.ManifestAccepted>(
                await coordinator.Ask<object>(new OperatorProtocol.SubmitManifest("m.toml", manifest, TestConfig.Token), TimeSpan.FromSeconds(20)));
            var before = Rows(db);
            Assert.True(before >= 1, $"{before} journal entries written"); // the manifest's 3 events: one entry (a JEB batch)

            // Beside the running coordinator, as on a coordinator node that restarts or stands by.
            var warmup = system.ActorOf(JournalWarmup.Props(replaysOne: true), "journal-replay-warmup");
            var stopped = new TaskCompletionSource();
            system.ActorOf(Props.Create(() => new Watcher(warmup, stopped)));
            Assert.Same(stopped.Task, await Task.WhenAny(stopped.Task, Task.Delay(TimeSpan.FromSeconds(20))));

            Assert.Equal(before, Rows(db));
            Assert.IsType<OperatorQueries.StatusView>(await coordinator.Ask<object>(OperatorQueries.GetStatus.Instance, TimeSpan.FromSeconds(10)));
        }
        finally
        {
            await system.Terminate();
            SqliteConnection.ClearAllPools();
            Directory.Delete(dir, true);
        }

        static long Rows(string file)
        {
            using var c = new SqliteConnection($"Data Source={file};Mode=ReadOnly;Pooling=False");
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "SELECT count(*) FROM journal";
            return (long)cmd.ExecuteScalar()!;
        }
    }

    /// <summary>Completes <paramref name="stopped"/> when <paramref name="target"/> stops.</summary>
    private sealed class Watcher : ReceiveActor
    {
        public Watcher(IActorRef target, TaskCompletionSource stopped)
        {
            Context.Watch(target);
            Receive<Terminated>(_ => stopped.TrySetResult());
        }
    }

    [Fact]
    public async Task The_warm_up_round_trips_a_table_and_events_of_every_kind_through_the_coordinators_serializer()
    {
        using var system = ActorSystem.Create("recovery-warmup-test",
            HoconLoader.Load(["coordinator.conf"], "akka.actor.provider = local\nakka.loglevel = WARNING").WithFallback(ActorMaterializer.DefaultConfig()));
        try
        {
            var took = RecoveryWarmup.Run(system);

            Assert.InRange(took, TimeSpan.Zero, TimeSpan.FromSeconds(30));
        }
        finally { await system.Terminate(); }
    }

    [Fact]
    public async Task The_warm_up_fails_where_the_snapshot_does_not_survive_its_serializer()
    {
        // Snapshots bound to Akka's byte-array serializer: it cannot write a snapshot at all, so the warm-up must throw.
        using var system = ActorSystem.Create("recovery-warmup-broken", HoconLoader.Load(["coordinator.conf"], """
            akka.actor.provider = local
            akka.loglevel = WARNING
            akka.actor.serialization-bindings { "Cis490.Protocols.Jobs.JobTableSnapshot, Cis490.Protocols" = bytes }
            """).WithFallback(ActorMaterializer.DefaultConfig()));
        try
        {
            Assert.ThrowsAny<Exception>(() => RecoveryWarmup.Run(system));
        }
        finally { await system.Terminate(); }
    }
}
