using Cis490.Protocols;
using Akka.Actor;
using Akka.Configuration;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.TestKit.Xunit2;
using Cis490.Coordinator.Jobs;
using Cis490.Protocols.Artifacts;
using Cis490.Protocols.Jobs;
using Cis490.Protocols.Operator;
using Cis490.Protocols.Workers;
using Cis490.Shared.Artifacts;
using Cis490.Shared.Config;
using Xunit;

namespace Cis490.Coordinator.Tests;

/// <summary>The JobCoordinator's persistence on SQLite (the embedded default).</summary>
public sealed class SqliteCoordinatorPersistenceTests() : CoordinatorPersistenceTests(TestJournal.Sqlite);

/// <summary>The JobCoordinator's persistence on a real PostgreSQL server, one fresh database per test
/// (<c>CIS490_TEST_POSTGRES</c>; <c>./cis490 test</c> provides it, and the tests fail without it).</summary>
public sealed class PostgresCoordinatorPersistenceTests() : CoordinatorPersistenceTests(_ => TestJournal.Postgres());

/// <summary>What must survive a coordinator restart, whatever the journal: job states, leases and their fencing, lease ids that
/// only grow, completions, and recovery from a snapshot plus the events after it. "Restart" stops the persistent actor and starts
/// a new one with the same persistence id on the same journal, as a singleton hand-over does.</summary>
public abstract class CoordinatorPersistenceTests : TestKit, IDisposable
{
    private const string Manifest = TestConfig.OneKnnJob;
    private const string Token = TestConfig.Token;
    private static readonly WorkerCapability Capability = TestConfig.Worker;
    private readonly string _dir;
    private readonly TestJournal _journal;
    private readonly CoordinatorSettings _settings;

    protected CoordinatorPersistenceTests(Func<string, TestJournal> journal) : this(Directory.CreateTempSubdirectory("cis490-persist-").FullName, journal) { }

    private CoordinatorPersistenceTests(string dir, Func<string, TestJournal> journal) : this(dir, journal(dir)) { }

    private CoordinatorPersistenceTests(string dir, TestJournal journal) : base(MakeConfig(dir, journal), "persistence-test")
    {
        _dir = dir;
        _journal = journal;
        _settings = CoordinatorSettings.From(Sys.Settings.Config);
    }

    private static Config MakeConfig(string dir, TestJournal journal) =>
        TestConfig.Coordinator(dir, Token, journal.HoconFile, journal.Overrides, """
            # Long enough that no lease expires while a test runs: these tests end leases themselves.
            cis490.coordinator.heartbeat-deadline = 60s
            cis490.coordinator.lease-check-interval = 1s
            # Snapshots every 4 events, so that every test crosses snapshots (production: 1000).
            cis490.coordinator.snapshot-every = 4
            # every 4 events, however quickly they come (the time share would space snapshots out by their duration)
            cis490.coordinator.snapshot-time-share = 1
            """);

    private IActorRef Start(string name) => Sys.ActorOf(JobCoordinator.Props(_settings), name);

    private async Task<IActorRef> Restart(IActorRef coordinator, string name)
    {
        Watch(coordinator);
        coordinator.Tell(PoisonPill.Instance);
        await ExpectTerminatedAsync(coordinator, TimeSpan.FromSeconds(10));
        return Start(name);
    }

    private async Task<IReadOnlyList<OperatorProtocol.JobView>> Jobs(IActorRef coordinator)
    {
        coordinator.Tell(new OperatorProtocol.ListJobs(null, null), TestActor);
        return (await ExpectMsgAsync<OperatorProtocol.JobList>(TimeSpan.FromSeconds(20))).Jobs;
    }

    private async Task<string> SubmitOneJob(IActorRef coordinator)
    {
        coordinator.Tell(new OperatorProtocol.SubmitManifest("m.toml", Manifest, Token), TestActor);
        return Assert.Single((await ExpectMsgAsync<OperatorProtocol.ManifestAccepted>(TimeSpan.FromSeconds(20))).AddedJobIds);
    }

    private async Task<WorkerProtocol.Lease> Lease(IActorRef coordinator, Akka.TestKit.TestProbe worker, string workerId)
    {
        coordinator.Tell(new WorkerProtocol.Register(workerId, Capability, 1, []), worker);
        return await worker.FishForMessageAsync<WorkerProtocol.Lease>(_ => true, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_restarted_coordinator_recovers_the_same_job_states_from_the_journal()
    {
        var first = Start("first");
        var jobId = await SubmitOneJob(first);
        var w1 = CreateTestProbe();
        var lease = await Lease(first, w1, "w1");
        first.Tell(new TrainerProtocol.Started(jobId, lease.LeaseId, "w1"), w1);
        await w1.ExpectMsgAsync<TrainerProtocol.Acknowledged>(TimeSpan.FromSeconds(10));
        var before = (await Jobs(first)).Single();

        var second = await Restart(first, "second");
        var after = (await Jobs(second)).Single();

        Assert.Equal(JobStatus.Running, before.Status);
        Assert.Equal((before.Status, before.LeaseId, before.WorkerId, before.HyperJson, before.AddedAt),
            (after.Status, after.LeaseId, after.WorkerId, after.HyperJson, after.AddedAt));
        // The recovered lease is still the current one: its heartbeats are taken, an older lease's are refused.
        second.Tell(new TrainerProtocol.Heartbeat(jobId, lease.LeaseId - 1, new TrainingProgress(0, 0, null, null, 0, "")), TestActor);
        await ExpectMsgAsync<TrainerProtocol.Refused>(TimeSpan.FromSeconds(10));
        // Until its worker registers again the recovered coordinator cannot tell who speaks for the lease: not yet heard, not lost.
        second.Tell(new TrainerProtocol.Heartbeat(jobId, lease.LeaseId, new TrainingProgress(2, 9, null, null, 1, "")), w1);
        Assert.Equal(ErrorKind.Unavailable, (await w1.ExpectMsgAsync<TrainerProtocol.Refused>(TimeSpan.FromSeconds(10))).Kind);
        second.Tell(new WorkerProtocol.Register("w1", Capability, 1, [new WorkerProtocol.HeldLease(jobId, lease.LeaseId)]), w1);
        await w1.FishForMessageAsync<WorkerProtocol.Registered>(_ => true, TimeSpan.FromSeconds(10));
        second.Tell(new TrainerProtocol.Heartbeat(jobId, lease.LeaseId, new TrainingProgress(3, 9, null, null, 1, "")), w1);
        await w1.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300));
        Assert.Equal(3, (await Jobs(second)).Single().Progress?.Epoch);
    }

    [Fact]
    public async Task A_coordinator_recovers_from_a_snapshot_plus_later_events_and_deletes_what_the_snapshot_covers()
    {
        var first = Start("first");
        first.Tell(new OperatorProtocol.SubmitManifest("m.toml", Manifest + "\n[[jobs]]\nmodel = \"knn\"\nmode = \"oracle\"\n\n[[jobs]]\nmodel = \"gbt\"\nmode = \"oracle\"\n", Token), TestActor);
        await ExpectMsgAsync<OperatorProtocol.ManifestAccepted>(TimeSpan.FromSeconds(20)); // events 1-3
        var w1 = CreateTestProbe();
        var lease = await Lease(first, w1, "w1");                                          // event 4: snapshot
        first.Tell(new TrainerProtocol.Started(lease.JobId, lease.LeaseId, "w1"), w1);
        await w1.ExpectMsgAsync<TrainerProtocol.Acknowledged>(TimeSpan.FromSeconds(10));   // event 5: after the snapshot
        var before = await Jobs(first);
        await AwaitAssertAsync(() => Assert.Equal(1, _journal.Count("SELECT COUNT(*) FROM snapshot")), TimeSpan.FromSeconds(10));
        // Events the snapshot covers are deleted (or marked deleted): recovery cannot grow with history.
        await AwaitAssertAsync(() => Assert.Equal(1, _journal.Count("SELECT COUNT(*) FROM journal WHERE NOT deleted")), TimeSpan.FromSeconds(10));

        var second = await Restart(first, "second");
        var after = await Jobs(second);

        Assert.Equal(before.Select(j => (j.JobId, j.Status, j.LeaseId, j.WorkerId, j.AddedAt)).Order(),
            after.Select(j => (j.JobId, j.Status, j.LeaseId, j.WorkerId, j.AddedAt)).Order());
        Assert.Equal(JobStatus.Running, after.Single(j => j.JobId == lease.JobId).Status); // the event after the snapshot was replayed
    }

    [Fact]
    public async Task A_stale_lease_stays_fenced_after_a_restart_and_lease_ids_keep_growing()
    {
        var first = Start("first");
        var jobId = await SubmitOneJob(first);
        var w1 = CreateTestProbe();
        var firstLease = await Lease(first, w1, "w1");
        // w1 loses the job (cancelled, then requeued at once: no retry backoff in the way) and w2 gets it.
        first.Tell(new OperatorProtocol.CancelJob(jobId, "test", Token), TestActor);
        Assert.True((await ExpectMsgAsync<OperatorProtocol.OperatorResult>(TimeSpan.FromSeconds(10))).Ok);
        first.Tell(new WorkerProtocol.Register("w1", Capability, 0, []), w1); // w1 now offers no slot, so the job goes to w2
        await w1.FishForMessageAsync<WorkerProtocol.Registered>(_ => true, TimeSpan.FromSeconds(10));
        first.Tell(new OperatorProtocol.RequeueJob(jobId, Token), TestActor);
        Assert.True((await ExpectMsgAsync<OperatorProtocol.OperatorResult>(TimeSpan.FromSeconds(10))).Ok);
        var w2 = CreateTestProbe();
        var secondLease = await Lease(first, w2, "w2");

        var second = await Restart(first, "second");

        // The zombie w1 comes back after the restart: its completion and heartbeats are refused.
        second.Tell(new ArtifactProtocol.OfferUpload(jobId, firstLease.LeaseId, "knn", "realistic", new string('a', 64), 1, new Dictionary<string, double>()), TestActor);
        Assert.True((await ExpectMsgAsync<ArtifactProtocol.UploadRefused>(TimeSpan.FromSeconds(20))).LeaseLost);
        second.Tell(new TrainerProtocol.Heartbeat(jobId, firstLease.LeaseId, new TrainingProgress(1, 2, null, null, 1, "")), TestActor);
        await ExpectMsgAsync<TrainerProtocol.Refused>(TimeSpan.FromSeconds(10));
        // w2's lease is still the live one: its failure is taken and counted.
        second.Tell(new WorkerProtocol.Register("w2", Capability, 1, [new WorkerProtocol.HeldLease(jobId, secondLease.LeaseId)]), w2);
        await w2.FishForMessageAsync<WorkerProtocol.Registered>(_ => true, TimeSpan.FromSeconds(10));
        second.Tell(new TrainerProtocol.Failed(jobId, secondLease.LeaseId, "out of memory"), w2);
        await w2.FishForMessageAsync<TrainerProtocol.Acknowledged>(_ => true, TimeSpan.FromSeconds(10));
        // A lease granted after the restart gets a larger id than any granted before it.
        second.Tell(new OperatorProtocol.SubmitManifest("m.toml", Manifest + "\n[[jobs]]\nmodel = \"knn\"\nmode = \"oracle\"\n", Token), TestActor);
        // (a second job, so that some job is leasable at once even if the failed one waits out a retry backoff)
        Assert.Single((await ExpectMsgAsync<OperatorProtocol.ManifestAccepted>(TimeSpan.FromSeconds(20))).AddedJobIds);
        // (w2, registered again with its one slot free after the failure, is the worker that gets it)
        var thirdLease = await w2.FishForMessageAsync<WorkerProtocol.Lease>(_ => true, TimeSpan.FromSeconds(10));

        Assert.True(secondLease.LeaseId > firstLease.LeaseId);
        Assert.True(thirdLease.LeaseId > secondLease.LeaseId, $"lease {thirdLease.LeaseId} after a restart must exceed {secondLease.LeaseId}");
        var job = (await Jobs(second)).Single(j => j.JobId == jobId);
        Assert.Equal(1, job.FailedAttempts);
        Assert.Contains("out of memory", job.LastError);
    }

    [Fact]
    public async Task A_completed_job_stays_completed_after_a_restart_and_is_not_leased_or_completed_again()
    {
        var first = Start("first");
        var jobId = await SubmitOneJob(first);
        var w1 = CreateTestProbe();
        var lease = await Lease(first, w1, "w1");
        var (path, sha, bytes) = MakeBundle();
        first.Tell(new ArtifactProtocol.OfferUpload(jobId, lease.LeaseId, "knn", "realistic", sha, bytes, new Dictionary<string, double> { ["val_macro_f1"] = 0.7 }), w1);
        var ready = await w1.ExpectMsgAsync<ArtifactProtocol.UploadReady>(TimeSpan.FromSeconds(10));
        FileIO.FromFile(new FileInfo(path), ArtifactProtocol.MaxChunkBytes).Select(b => b.ToArray()).RunWith(ready.Sink.Sink, Sys.Materializer());
        await w1.ExpectMsgAsync<ArtifactProtocol.UploadCompleted>(TimeSpan.FromSeconds(20));

        var second = await Restart(first, "second");
        var worker = CreateTestProbe();
        second.Tell(new WorkerProtocol.Register("w2", Capability, 1, []), worker);
        await worker.ExpectMsgAsync<WorkerProtocol.Registered>(TimeSpan.FromSeconds(20));
        second.Tell(new ArtifactProtocol.OfferUpload(jobId, lease.LeaseId, "knn", "realistic", sha, bytes, new Dictionary<string, double>()), TestActor);

        Assert.True((await ExpectMsgAsync<ArtifactProtocol.UploadRefused>(TimeSpan.FromSeconds(10))).LeaseLost);
        await worker.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(500)); // no lease: nothing is left to run
        var job = (await Jobs(second)).Single();
        Assert.Equal((JobStatus.Completed, sha, 0.7), (job.Status, job.ArtifactSha256, job.Metrics["val_macro_f1"]));
    }

    private (string Path, string Sha, long Bytes) MakeBundle()
    {
        var src = Directory.CreateDirectory(Path.Combine(_dir, "ckpt")).FullName;
        File.WriteAllText(Path.Combine(src, "ckpt.json"), "{\"model\":\"knn\"}");
        File.WriteAllBytes(Path.Combine(src, "knn_sidecar.bin"), Enumerable.Range(0, 50_000).Select(i => (byte)(i * 7)).ToArray());
        var path = Path.Combine(_dir, "bundle.tar.zst");
        var (sha, bytes) = ArtifactBundle.Create(src, path);
        return (path, sha, bytes);
    }

    void IDisposable.Dispose()
    {
        Shutdown();
        _journal.Dispose();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }
}
