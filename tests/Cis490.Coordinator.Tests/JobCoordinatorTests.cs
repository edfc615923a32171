using Akka.Actor;
using Akka.Configuration;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.TestKit.Xunit2;
using Cis490.Coordinator.Artifacts;
using Cis490.Coordinator.Jobs;
using Cis490.Protocols;
using Cis490.Coordinator.Operator;
using Cis490.Protocols.Artifacts;
using Cis490.Protocols.Jobs;
using Cis490.Protocols.Operator;
using Cis490.Protocols.Workers;
using Cis490.Shared.Artifacts;
using Cis490.Shared.Config;
using Microsoft.Data.Sqlite;
using Xunit;

namespace Cis490.Coordinator.Tests;

/// <summary>The persisted JobCoordinator on a real SQLite journal: leases, heartbeats, uploads and refusals. What must survive a
/// restart is in <see cref="CoordinatorPersistenceTests"/>, which runs on SQLite and on PostgreSQL.</summary>
public sealed class JobCoordinatorTests : TestKit, IDisposable
{
    private const string Manifest = TestConfig.OneKnnJob;
    private const string Token = TestConfig.Token;
    private static readonly WorkerCapability Capability = TestConfig.Worker;
    private readonly string _dir;
    private readonly CoordinatorSettings _settings;

    public JobCoordinatorTests() : this(Directory.CreateTempSubdirectory("cis490-coord-").FullName) { }

    private JobCoordinatorTests(string dir) : base(MakeConfig(dir), "coordinator-test")
    {
        _dir = dir;
        _settings = CoordinatorSettings.From(Sys.Settings.Config);
    }

    private static Config MakeConfig(string dir)
    {
        return TestConfig.Coordinator(dir, Token, """
            # Short enough for the expiry test to finish in seconds; the other tests heartbeat or finish well within it.
            cis490.coordinator.heartbeat-deadline = 3s
            cis490.coordinator.lease-check-interval = 200ms
            # Retries come back after a short backoff here, so the retry tests do not wait production's 10 s.
            cis490.coordinator.retry-backoff-base = 300ms
            # Snapshots every 4 events, so that every test here also crosses snapshots (production: 1000).
            cis490.coordinator.snapshot-every = 4
            # every 4 events, however quickly they come (the time share would space snapshots out by their duration)
            cis490.coordinator.snapshot-time-share = 1
            """);
    }

    private IActorRef StartCoordinator(string name = "coordinator") => Sys.ActorOf(JobCoordinator.Props(_settings), name);

    private async Task<string> SubmitOneJob(IActorRef coordinator)
    {
        coordinator.Tell(new OperatorProtocol.SubmitManifest("m.toml", Manifest, Token), TestActor);
        var accepted = await ExpectMsgAsync<OperatorProtocol.ManifestAccepted>(TimeSpan.FromSeconds(10));
        return Assert.Single(accepted.AddedJobIds);
    }

    private async Task<OperatorProtocol.JobView> Job(IActorRef coordinator, string jobId)
    {
        coordinator.Tell(new OperatorProtocol.ListJobs(null, null), TestActor);
        var list = await ExpectMsgAsync<OperatorProtocol.JobList>(TimeSpan.FromSeconds(5));
        return list.Jobs.Single(j => j.JobId == jobId);
    }

    private async Task<WorkerProtocol.Lease> RegisterAndGetLease(IActorRef coordinator, Akka.TestKit.TestProbe worker, string workerId = "w1")
    {
        coordinator.Tell(new WorkerProtocol.Register(workerId, Capability, 1, []), worker);
        await worker.ExpectMsgAsync<WorkerProtocol.Registered>(TimeSpan.FromSeconds(5));
        return await worker.ExpectMsgAsync<WorkerProtocol.Lease>(TimeSpan.FromSeconds(5));
    }

    private (string Path, string Sha, long Bytes) MakeBundle()
    {
        var src = Directory.CreateDirectory(Path.Combine(_dir, "ckpt")).FullName;
        File.WriteAllText(Path.Combine(src, "ckpt.json"), "{\"model\":\"knn\"}");
        File.WriteAllBytes(Path.Combine(src, "knn_sidecar.bin"), Enumerable.Range(0, 300_000).Select(i => (byte)(i * 7)).ToArray());
        var path = Path.Combine(_dir, "bundle.tar.zst");
        var (sha, bytes) = ArtifactBundle.Create(src, path);
        return (path, sha, bytes);
    }

    private void Stream(string path, ArtifactProtocol.UploadReady ready) =>
        FileIO.FromFile(new FileInfo(path), ArtifactProtocol.MaxChunkBytes).Select(b => b.ToArray()).RunWith(ready.Sink.Sink, Sys.Materializer());

    [Fact]
    public async Task A_lease_runs_heartbeats_uploads_and_completes_once_the_artifact_is_stored()
    {
        var coordinator = StartCoordinator();
        var jobId = await SubmitOneJob(coordinator);
        var worker = CreateTestProbe();
        var lease = await RegisterAndGetLease(coordinator, worker);
        Assert.Equal(jobId, lease.JobId);

        coordinator.Tell(new TrainerProtocol.Started(jobId, lease.LeaseId, "w1"), worker);
        Assert.Equal(JobStatus.Running, (await worker.ExpectMsgAsync<TrainerProtocol.Acknowledged>()).Status);
        coordinator.Tell(new TrainerProtocol.Heartbeat(jobId, lease.LeaseId, new TrainingProgress(2, 4, null, 0.5, 1, "half")), worker);
        Assert.Equal(2, (await Job(coordinator, jobId)).Progress?.Epoch);

        var (path, sha, bytes) = MakeBundle();
        var metrics = new Dictionary<string, double> { ["val_macro_f1"] = 0.61 };
        coordinator.Tell(new ArtifactProtocol.OfferUpload(jobId, lease.LeaseId, "knn", "realistic", sha, bytes, metrics), worker);
        Stream(path, await worker.ExpectMsgAsync<ArtifactProtocol.UploadReady>(TimeSpan.FromSeconds(10)));
        var done = await worker.ExpectMsgAsync<ArtifactProtocol.UploadCompleted>(TimeSpan.FromSeconds(20));

        Assert.Equal(sha, done.Sha256);
        Assert.False(done.Deduplicated);
        var job = await Job(coordinator, jobId);
        Assert.Equal(JobStatus.Completed, job.Status);
        Assert.Equal(sha, job.ArtifactSha256);
        Assert.Equal(0.61, job.Metrics["val_macro_f1"]);
        var stored = Path.Combine(_dir, "models", "knn_realistic", sha, "bundle.tar.zst");
        Assert.Equal(sha, ArtifactBundle.HashFile(stored));
        var row = Assert.Single(new ArtifactRepository(Path.Combine(_dir, "models")).ReadIndex());
        Assert.Equal((sha, jobId, bytes), (row.Sha256, row.JobId, row.Bytes));
    }

    [Fact]
    public async Task An_upload_whose_hash_does_not_match_is_refused_and_nothing_is_written()
    {
        var coordinator = StartCoordinator();
        var jobId = await SubmitOneJob(coordinator);
        var worker = CreateTestProbe();
        var lease = await RegisterAndGetLease(coordinator, worker);
        var (path, sha, bytes) = MakeBundle();
        var wrongSha = new string('0', 64);

        coordinator.Tell(new ArtifactProtocol.OfferUpload(jobId, lease.LeaseId, "knn", "realistic", wrongSha, bytes, new Dictionary<string, double>()), worker);
        Stream(path, await worker.ExpectMsgAsync<ArtifactProtocol.UploadReady>(TimeSpan.FromSeconds(10)));
        var refused = await worker.ExpectMsgAsync<ArtifactProtocol.UploadRefused>(TimeSpan.FromSeconds(20));

        Assert.Contains("hash mismatch", refused.Reason);
        Assert.False(refused.LeaseLost); // a transfer problem: the trainer may offer again
        Assert.Contains(sha, refused.Reason);
        Assert.NotEqual(JobStatus.Completed, (await Job(coordinator, jobId)).Status);
        Assert.False(Directory.Exists(Path.Combine(_dir, "models", "knn_realistic")));
        Assert.Empty(new ArtifactRepository(Path.Combine(_dir, "models")).ReadIndex());
        Assert.Empty(Directory.GetFiles(Path.Combine(_dir, "models", ".incoming")));
    }

    [Fact]
    public async Task A_bad_manifest_is_rejected_with_its_line_and_the_journal_does_not_change()
    {
        var coordinator = StartCoordinator();
        await SubmitOneJob(coordinator);
        var eventsBefore = JournalEvents();

        coordinator.Tell(new OperatorProtocol.SubmitManifest("bad.toml", "[[jobs]]\nmodel = \"knn\"\nmode = \"realistic\"\n\n[[jobs]]\nmodel = \"gpt-9\"\nmode = \"oracle\"\n", Token), TestActor);
        var rejected = await ExpectMsgAsync<OperatorProtocol.ManifestRejected>();

        var error = Assert.Single(rejected.Errors);
        Assert.Equal(("bad.toml", 6), (error.File, error.Line));
        Assert.Contains("gpt-9", error.Message);
        Assert.Equal(eventsBefore, JournalEvents());
        coordinator.Tell(new OperatorProtocol.ListJobs(null, null), TestActor);
        Assert.Single((await ExpectMsgAsync<OperatorProtocol.JobList>()).Jobs);
    }

    [Fact]
    public async Task A_lease_without_heartbeats_expires_and_the_job_is_retried()
    {
        var coordinator = StartCoordinator();
        var jobId = await SubmitOneJob(coordinator);
        var worker = CreateTestProbe();
        var lease = await RegisterAndGetLease(coordinator, worker);

        // No heartbeat: past the 3 s deadline the worker is told to stop, and the job is leased again (to the same free worker).
        var revoke = await worker.ExpectMsgAsync<WorkerProtocol.RevokeLease>(TimeSpan.FromSeconds(10));
        Assert.Equal(lease.LeaseId, revoke.LeaseId);
        coordinator.Tell(new WorkerProtocol.Register("w1", Capability, 1, []), worker); // the worker's slot is free again
        var again = await worker.FishForMessageAsync<WorkerProtocol.Lease>(_ => true, TimeSpan.FromSeconds(10));

        Assert.True(again.LeaseId > lease.LeaseId);
        var job = await Job(coordinator, jobId);
        Assert.Equal(1, job.FailedAttempts);
        Assert.Contains("no heartbeat", job.LastError);
    }

    [Fact]
    public async Task A_worker_that_terminates_loses_its_leases_at_once_not_counted_as_an_attempt()
    {
        var coordinator = StartCoordinator();
        var jobId = await SubmitOneJob(coordinator);
        var worker = CreateTestProbe();
        var lease = await RegisterAndGetLease(coordinator, worker);

        Sys.Stop(worker.Ref);
        await AwaitAssertAsync(async () =>
        {
            coordinator.Tell(new OperatorQueries.ShowJob(jobId), TestActor);
            var detail = await ExpectMsgAsync<OperatorQueries.JobDetail>();
            Assert.Equal((JobStatus.Pending, 0), (detail.Job.Status, detail.Job.FailedAttempts));
            var attempt = detail.Attempts.Single(a => a.LeaseId == lease.LeaseId);
            Assert.Equal("handed-back", attempt.Outcome);
            Assert.Contains("w1", attempt.Error);
        }, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(200));

        // The stale lease can no longer complete the job.
        coordinator.Tell(new ArtifactProtocol.OfferUpload(jobId, lease.LeaseId, "knn", "realistic", new string('a', 64), 1, new Dictionary<string, double>()), TestActor);
        var refused = await ExpectMsgAsync<ArtifactProtocol.UploadRefused>();
        Assert.Contains("ended", refused.Reason);
        Assert.True(refused.LeaseLost);
    }

    [Fact]
    public async Task Cancelling_a_running_job_tells_its_worker_to_stop_and_a_requeue_leases_it_again()
    {
        var coordinator = StartCoordinator();
        var jobId = await SubmitOneJob(coordinator);
        var worker = CreateTestProbe();
        var lease = await RegisterAndGetLease(coordinator, worker);
        coordinator.Tell(new TrainerProtocol.Started(jobId, lease.LeaseId, "w1"), worker);
        await worker.ExpectMsgAsync<TrainerProtocol.Acknowledged>();

        coordinator.Tell(new OperatorProtocol.CancelJob(jobId[..10], "wrong data", Token), TestActor);
        var cancelled = await ExpectMsgAsync<OperatorProtocol.OperatorResult>();
        var revoke = await worker.ExpectMsgAsync<WorkerProtocol.RevokeLease>();

        Assert.True(cancelled.Ok, cancelled.Message);
        Assert.Equal((jobId, JobStatus.Cancelled), (cancelled.JobId, cancelled.Status));
        Assert.Equal(lease.LeaseId, revoke.LeaseId);
        coordinator.Tell(new TrainerProtocol.Heartbeat(jobId, lease.LeaseId, new TrainingProgress(1, 2, null, null, 1, "")), worker);
        await worker.ExpectMsgAsync<TrainerProtocol.Refused>(); // the stopped trainer's last heartbeat is fenced off

        coordinator.Tell(new OperatorProtocol.RequeueJob(jobId, Token), TestActor);
        Assert.True((await ExpectMsgAsync<OperatorProtocol.OperatorResult>()).Ok);
        coordinator.Tell(new WorkerProtocol.Register("w1", Capability, 1, []), worker); // the worker's slot is free again
        var again = await worker.FishForMessageAsync<WorkerProtocol.Lease>(_ => true, TimeSpan.FromSeconds(10));
        Assert.True(again.LeaseId > lease.LeaseId);

        coordinator.Tell(new OperatorProtocol.RequeueJob(jobId, Token), TestActor);
        var refused = await ExpectMsgAsync<OperatorProtocol.OperatorResult>();
        Assert.False(refused.Ok);
        Assert.Contains("only failed or cancelled", refused.Message);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("test-operator-tokeN")]
    [InlineData("test-operator-token-and-more")]
    public async Task Mutating_requests_without_the_operator_token_are_refused_by_the_endpoint_and_change_nothing(string? token)
    {
        var coordinator = StartCoordinator();
        var endpoint = Sys.ActorOf(OperatorEndpoint.Props(coordinator, new OperatorToken(TestConfig.Token), null, TimeSpan.FromSeconds(5)), "operator");
        var jobId = await SubmitOneJob(coordinator);
        var rows = JournalEvents();

        endpoint.Tell(new OperatorProtocol.CancelJob(jobId, "x", token), TestActor);
        var cancel = await ExpectMsgAsync<OperatorProtocol.OperatorResult>();
        endpoint.Tell(new OperatorProtocol.SubmitManifest("more.toml", "[[jobs]]\nmodel = \"knn\"\nmode = \"oracle\"\n", token), TestActor);
        var submit = await ExpectMsgAsync<OperatorProtocol.OperatorError>();
        endpoint.Tell(new OperatorProtocol.ListJobs(null, null), TestActor);
        var jobs = (await ExpectMsgAsync<OperatorProtocol.JobList>()).Jobs;

        var expected = string.IsNullOrEmpty(token) ? ErrorKind.Unauthorized : ErrorKind.Forbidden;
        Assert.Equal((false, (ErrorKind?)expected), (cancel.Ok, cancel.Kind));
        Assert.Equal(expected, submit.Kind);
        Assert.Contains("operator token", submit.Message);
        Assert.Equal(JobStatus.Pending, jobs.Single().Status);
        Assert.Equal(rows, JournalEvents());

        // With the token the same requests go through to the coordinator.
        endpoint.Tell(new OperatorProtocol.CancelJob(jobId, "x", TestConfig.Token), TestActor);
        Assert.True((await ExpectMsgAsync<OperatorProtocol.OperatorResult>()).Ok);
    }

    [Fact]
    public async Task A_read_lost_on_its_way_to_the_coordinator_is_asked_again_and_a_write_is_sent_once()
    {
        // The probe stands for the singleton proxy during a crash take-over: the first try of a read goes to the dead node
        // (lost), the next reaches the coordinator on its new node.
        var coordinator = CreateTestProbe("proxy");
        var endpoint = Sys.ActorOf(OperatorEndpoint.Props(coordinator, new OperatorToken(TestConfig.Token), null,
            askTimeout: TimeSpan.FromSeconds(3), readTry: TimeSpan.FromMilliseconds(300)), "operator-retry");

        endpoint.Tell(new OperatorProtocol.ListJobs(null, null), TestActor);
        await coordinator.ExpectMsgAsync<OperatorProtocol.ListJobs>();                      // lost
        var second = await coordinator.ExpectMsgAsync<OperatorProtocol.ListJobs>(TimeSpan.FromSeconds(2));
        coordinator.Reply(new OperatorProtocol.JobList([], DateTimeOffset.UtcNow));
        Assert.Empty((await ExpectMsgAsync<OperatorProtocol.JobList>()).Jobs);
        Assert.NotNull(second);

        // A read nobody answers ends in a clear "unavailable" within the endpoint's budget, after several tries.
        endpoint.Tell(new OperatorQueries.ShowJob("abc"), TestActor);
        var error = await ExpectMsgAsync<OperatorProtocol.OperatorError>(TimeSpan.FromSeconds(5));
        Assert.Equal(ErrorKind.Unavailable, error.Kind);
        Assert.Contains("did not answer within 3 s", error.Message);
        var tries = coordinator.ReceiveWhile(TimeSpan.FromMilliseconds(100), m => m as OperatorQueries.ShowJob);
        Assert.InRange(tries.Count, 5, 11); // one every 300 ms within 3 s, and no burst at the end of the budget

        // A write is forwarded once and never repeated, whatever happens to it.
        endpoint.Tell(new OperatorProtocol.CancelJob("abc", "x", TestConfig.Token), TestActor);
        await coordinator.ExpectMsgAsync<OperatorProtocol.CancelJob>();
        await coordinator.ExpectNoMsgAsync(TimeSpan.FromSeconds(1));
    }

    /// <summary>Events in the journal (a group-committed write is one row).</summary>
    private long JournalEvents() => Cis490.Testing.JournalEvents.Count(new SqliteConnection($"Data Source={Path.Combine(_dir, "journal.db")}"));

    void IDisposable.Dispose()
    {
        Shutdown();
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }
}
