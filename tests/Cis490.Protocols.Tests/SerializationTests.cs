using Akka.Actor;
using Akka.Serialization;
using Akka.Streams;
using Akka.Streams.Dsl;
using Cis490.Protocols;
using Cis490.Protocols.Artifacts;
using Cis490.Protocols.DataSets;
using Cis490.Protocols.Diagnostics;
using Cis490.Protocols.Jobs;
using Cis490.Protocols.Operator;
using Cis490.Protocols.Serialization;
using Cis490.Protocols.Workers;
using Cis490.Shared.Config;
using Xunit;

namespace Cis490.Protocols.Tests;

/// <summary>Every message and event goes through our serializer, as configured in hocon/base.conf, and survives a round trip.</summary>
public sealed class SerializationTests : IDisposable
{
    private readonly ActorSystem _system;

    public SerializationTests()
    {
        // The real node configuration, local provider so no ports are opened.
        var config = HoconLoader.Load([], "akka.actor.provider = local\nakka.loglevel = WARNING").WithFallback(ActorMaterializer.DefaultConfig());
        _system = ActorSystem.Create("serialization-test", config);
    }

    public void Dispose() => _system.Terminate().Wait(TimeSpan.FromSeconds(10));

    private static readonly JobSpec Spec = new(new string('a', 64), "knn", "oracle", "{\"k\":10}", "host", ["elliott-thinkpad"], 7, 2, 3);
    private static readonly TrainingProgress Progress = new(3, 10, 0.5, double.NaN, 12.5, "epoch 3");
    private static readonly WorkerCapability Capability = new("laptop", 8, 15.5, true, 7.8, "RTX 3070", "2.10.0", "deadbeef", "Linux");
    private static readonly WorkerCapability SelfTested = Capability with
    {
        Cuda = false, VramGib = 0, CudaDevice = null, Families = ["knn", "knn_semi", "mlp"], XgboostVersion = null,
        Unavailable = new Dictionary<string, string> { ["gbt"] = "XGBoost's C library could not be loaded from /x/libxgboost.so.0" },
        CudaNote = "GPU present (RTX 3070, 7.8 GiB), not usable by this build: a CPU-only libtorch",
    };
    private static readonly DateTimeOffset At = new(2026, 11, 23, 10, 0, 0, TimeSpan.FromHours(1));
    private static readonly Dictionary<string, double> Metrics = new() { ["val_macro_f1"] = 0.75, ["val_majority_macro_f1"] = double.NaN };

    /// <summary>One representative instance of every type in <see cref="Manifests"/> (the stream-ref carrier is tested below).</summary>
    private static readonly JobConstraints Needs = new(true, false, 6, 8.5, ["gpu-box"]);
    private static readonly HostPolicy Host = new("gpu-box", true, 8, 32, ["gbt", "*:oracle"], ["knn"]);
    private static readonly AttemptRecord Attempt = new(41, "w1", At, At, null, "running", null);

    private static readonly OperatorQueries.MemberView Member = new("akka.tcp://cis490@127.0.0.1:4053", "up", true, ["coordinator"], true);
    private static readonly OperatorQueries.WorkerView Worker = new("w1", "akka.tcp://cis490@127.0.0.1:4060", Capability, 2, [Spec.JobId], At, false);
    private static readonly OperatorQueries.ArtifactView Artifact = new(new string('c', 64), "knn", "oracle", Spec.JobId, 99, At);
    private static readonly OperatorQueries.LogLine Line = new(5, 41, At, Progress);
    private static readonly DiagnosticsProtocol.NodeLogLine NodeLine = new(42, At, "warning", "akka://cis490/user/worker", "Lease 41: \"quoted\" ünïcode");
    private static readonly DiagnosticsProtocol.ClusterEventView ClusterEvent =
        new(18, At, "unreachable", "akka.tcp://cis490@127.0.0.1:4054", "up", ["worker"]);

    private static readonly DataSetInfo DataSet = new(new string('d', 64), "small", new string('e', 64), 2048, 5, 8192, At);

    public static readonly IReadOnlyList<ICis490Message> Samples =
    [
        Spec,
        Spec with { Constraints = Needs },
        Needs,
        Host,
        Attempt,
        new JobEvents.HostsDeclared([Host], "m.toml", At),
        new JobEvents.MetricsMerged(Spec.JobId, 41, new Dictionary<string, double> { ["test_accuracy"] = 0.7 }, At),
        new JobEvents.LeaseEnded(Spec.JobId, 41, "exit 1", true, At, At.AddSeconds(30)),
        Progress,
        new JobEvents.JobAdded(Spec, "m.toml", At),
        new JobEvents.LeaseGranted(Spec.JobId, 41, "w1", At),
        new JobEvents.JobStarted(Spec.JobId, 41, At),
        new JobEvents.JobCompleted(Spec.JobId, 41, new string('b', 64), 1234, Metrics, At),
        new JobEvents.LeaseEnded(Spec.JobId, 41, "no heartbeat", true, At),
        new JobEvents.JobCancelled(Spec.JobId, 41, "operator", At),
        new JobEvents.JobRequeued(Spec.JobId, At),
        new OperatorProtocol.CancelJob(Spec.JobId[..12], "wrong data"),
        new OperatorProtocol.RequeueJob(Spec.JobId),
        new OperatorProtocol.OperatorResult(true, Spec.JobId, "cancelled", "cancelled; its trainer was told to stop"),
        new JobTableSnapshot(41, 7, [SnapshotEntry()]),
        new JobTableSnapshot(41, 7, [SnapshotEntry() with { RetryAt = At, Attempts = [Attempt] }], [Host]),
        SnapshotEntry(),
        new TrainerProtocol.Started(Spec.JobId, 41, "w1"),
        new TrainerProtocol.Heartbeat(Spec.JobId, 41, Progress),
        new TrainerProtocol.Heartbeat(Spec.JobId, 41, Progress, [Progress with { Epoch = 2 }, Progress]),
        new TrainerProtocol.Failed(Spec.JobId, 41, "exit code 137"),
        new TrainerProtocol.Refused(Spec.JobId, 40, "stale lease"),
        new TrainerProtocol.Acknowledged(Spec.JobId, 41, "running"),
        new TrainerProtocol.ReportMetrics(Spec.JobId, 41, new Dictionary<string, double> { ["val_macro_f1"] = 0.61 }),
        Capability,
        SelfTested,
        new WorkerProtocol.Register("w1", Capability, 2, [new WorkerProtocol.HeldLease(Spec.JobId, 41)]),
        new WorkerProtocol.Register("w1", SelfTested, 2, []),
        new WorkerProtocol.HeldLease(Spec.JobId, 41),
        new WorkerProtocol.Registered("w1", 1),
        new WorkerProtocol.Lease(Spec, 41),
        new WorkerProtocol.LeaseDeclined(Spec.JobId, 41, "busy"),
        new WorkerProtocol.RevokeLease(Spec.JobId, 41, "cancelled"),
        new WorkerProtocol.RegistrationRefused("w1", "held by another node", ErrorKind.Conflict),
        new WorkerProtocol.RequestLease("w1", 120),
        new WorkerProtocol.NoLease("w1", "no job is pending", 5),
        new ArtifactProtocol.OfferUpload(Spec.JobId, 41, "knn", "oracle", new string('c', 64), 99, Metrics),
        new ArtifactProtocol.UploadRefused(Spec.JobId, 41, "hash mismatch", false),
        new ArtifactProtocol.UploadCompleted(Spec.JobId, 41, new string('c', 64), true),
        new OperatorProtocol.SubmitManifest("m.toml", "[[jobs]]\nmodel = \"knn\""),
        new OperatorProtocol.ManifestAccepted("m.toml", [Spec.JobId], []),
        new OperatorProtocol.ManifestRejected("m.toml", [new OperatorProtocol.ManifestError("m.toml", 3, 9, "unknown model")]),
        new OperatorProtocol.ManifestError("m.toml", 3, 9, "unknown model"),
        new OperatorProtocol.ListJobs("running", null),
        new OperatorProtocol.JobList([JobView()], At),
        new OperatorProtocol.ListJobs(null, "knn", 200, 4711),
        new OperatorProtocol.JobList([JobView()], At, 4711, 100_000),
        new OperatorProtocol.ManifestAccepted("m.toml", [Spec.JobId], [], 100_000, 0),
        new OperatorProtocol.ManifestRejected("m.toml", [new OperatorProtocol.ManifestError("m.toml", 3, 9, "unknown model 'x'")], 1200,
            [new OperatorProtocol.ErrorKindCount("unknown model '…'", 1200, "m.toml:3:9: unknown model 'x'")]),
        new OperatorProtocol.ErrorKindCount("unknown model '…'", 1200, "m.toml:3:9: unknown model 'x'"),
        JobView(),
        new OperatorProtocol.OperatorError("no coordinator"),
        new OperatorProtocol.OperatorError("no job id starts with 'abcdefgh'", ErrorKind.NotFound),
        OperatorProtocol.OperatorResult.Refused(ErrorKind.Conflict, Spec.JobId, "completed", "already completed"),
        new TrainerProtocol.Refused(Spec.JobId, 41, "unknown job", ErrorKind.NotFound),
        OperatorQueries.GetHealth.Instance,
        new OperatorQueries.CoordinatorHealth(120, 2, 22, 3, 2, At),
        new OperatorProtocol.CancelJob(Spec.JobId, "x", "secret"),
        new OperatorProtocol.ReloadManifest("secret"),
        OperatorQueries.GetStatus.Instance,
        new OperatorQueries.StatusView([Member], 2, 1, new Dictionary<string, int> { ["pending"] = 3 }, 1, At),
        Member,
        new OperatorQueries.ShowJob(Spec.JobId[..8]),
        new OperatorQueries.JobDetail(JobView(), Spec with { Constraints = Needs }, [Attempt], At, "needs CUDA; no worker has it"),
        OperatorQueries.ListWorkers.Instance,
        new OperatorQueries.WorkerList([Worker], At),
        Worker,
        OperatorQueries.ListArtifacts.Instance,
        new OperatorQueries.ArtifactList([Artifact]),
        Artifact,
        new OperatorQueries.GetArtifact(new string('c', 64)),
        new OperatorQueries.GetJobLogs(Spec.JobId, 4),
        new OperatorQueries.JobLogs(Spec.JobId, "running", [Line], 5, false),
        Line,
        OperatorQueries.ShowCluster.Instance,
        new OperatorQueries.ClusterView("akka.tcp://cis490@127.0.0.1:4053", [Member], At),
        new OperatorQueries.ChangeMember("akka.tcp://cis490@127.0.0.1:4054", true, "secret"),
        // data sets
        Spec with { DataSet = new string('d', 64) },
        DataSet,
        new JobEvents.DataSetPublished(DataSet, At),
        new JobEvents.Batch([new JobEvents.LeaseEnded(Spec.JobId, 41, "exit 1", true, At), new JobEvents.LeaseGranted(Spec.JobId, 42, "w2", At, 90)]),
        new JobTableSnapshot(41, 7, [SnapshotEntry()], [Host], [DataSet, DataSet with { Name = "again" }]),
        new ArtifactProtocol.OfferUpload(Spec.JobId, 41, "knn", "oracle", new string('c', 64), 99, Metrics, new string('d', 64)),
        Artifact with { DataSet = new string('d', 64) },
        new DataSetProtocol.Publish(new string('d', 64), "small", new string('e', 64), 2048, 5, 8192, "secret"),
        new DataSetProtocol.Published(DataSet, AlreadyStored: true),
        new DataSetProtocol.PublishRefused(new string('d', 64), "hash mismatch", ErrorKind.Invalid),
        DataSetProtocol.ListDataSets.Instance,
        new DataSetProtocol.DataSetList([DataSet]),
        new DataSetProtocol.Fetch(Spec.JobId, 41, new string('d', 64), 65536),
        new DataSetProtocol.FetchRefused(Spec.JobId, 41, new string('d', 64), "stale lease", ErrorKind.StaleLease),
        // The diagnostics palettes (log peek/tail, actor hierarchy, cluster tail) cross nodes twice: shell → endpoint → member.
        new DiagnosticsProtocol.PeekLog("127.0.0.1:4054", -1, "warning", 20),
        new DiagnosticsProtocol.LogLines("akka.tcp://cis490@127.0.0.1:4054", [NodeLine], 42, 3),
        NodeLine,
        new DiagnosticsProtocol.GetHierarchy("akka.tcp://cis490@127.0.0.1:4054"),
        new DiagnosticsProtocol.ActorTree("akka.tcp://cis490@127.0.0.1:4054", [new DiagnosticsProtocol.ActorEntry("/user/worker", 2, "WorkerNodeActor")], true),
        new DiagnosticsProtocol.ActorEntry("/user", 1, "GuardianActor"),
        new DiagnosticsProtocol.TailCluster(17, 200),
        new DiagnosticsProtocol.ClusterEvents("akka.tcp://cis490@127.0.0.1:4053", [ClusterEvent], 18),
        ClusterEvent,
    ];


    private static JobState SnapshotEntry() => new(Spec, "completed", 3, 1, 41, "w1", At, At, At, At, new string('b', 64), Metrics, "earlier: exit 1");

    private static OperatorProtocol.JobView JobView() => new(Spec.JobId, "knn", "oracle", "{\"k\":10}", "running", 1, 3, 41, "w1",
        Progress, null, Metrics, At, At, null, "previous attempt: exit code 137");

    public static IEnumerable<object[]> SampleData => Samples.Select(s => new object[] { s.GetType().Name, s });

    [Theory]
    [MemberData(nameof(SampleData))]
    public void Every_message_round_trips_through_the_configured_serializer(string name, ICis490Message message)
    {
        var serializer = _system.Serialization.FindSerializerFor(message);
        Assert.IsType<Cis490Serializer>(serializer);
        var manifest = Akka.Serialization.Serialization.ManifestFor(serializer, message);
        var bytes = serializer.ToBinary(message);

        var back = _system.Serialization.Deserialize(bytes, serializer.Identifier, manifest);

        Assert.IsType(message.GetType(), back);
        // Records with lists compare lists by reference, so compare the encodings: nothing may be lost or changed.
        Assert.Equal(System.Text.Encoding.UTF8.GetString(bytes), System.Text.Encoding.UTF8.GetString(serializer.ToBinary(back)));
        Assert.False(string.IsNullOrEmpty(name));
    }

    [Fact]
    public void Every_message_type_has_a_sample_and_a_unique_manifest()
    {
        var messageTypes = typeof(ICis490Message).Assembly.GetTypes()
            .Where(t => typeof(ICis490Message).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
            .ToHashSet();
        var sampled = Samples.Select(s => s.GetType()).Append(typeof(ArtifactProtocol.UploadReady)).Append(typeof(OperatorQueries.ArtifactDownload))
            .Append(typeof(DataSetProtocol.PublishReady)).Append(typeof(DataSetProtocol.FetchReady)).Append(typeof(OperatorProtocol.SubmitManifestStream)).ToHashSet();

        Assert.Empty(messageTypes.Except(Manifests.ByType.Keys).Select(t => t.FullName)); // every type has a manifest
        Assert.Empty(messageTypes.Except(sampled).Select(t => t.FullName));               // every type is tested
        Assert.Equal(Manifests.ByType.Count, Manifests.ByType.Values.Distinct().Count()); // manifests are unique
        Assert.All(Manifests.ByType, kv => Assert.Equal(kv.Key, Manifests.ByManifest[kv.Value])); // and read as what they were written for
        Assert.Equal(typeof(JobTableSnapshot), Manifests.ByManifest["JS1"]);              // the JSON snapshots of before JS3 still read
    }

    [Fact]
    public async Task A_sink_ref_inside_our_message_is_handed_to_akkas_stream_ref_serializer()
    {
        var materializer = _system.Materializer();
        var sinkRef = await StreamRefs.SinkRef<byte[]>().To(Sink.Ignore<byte[]>()).Run(materializer);
        var message = new ArtifactProtocol.UploadReady(Spec.JobId, 41, sinkRef);

        var serializer = _system.Serialization.FindSerializerFor(message);
        var bytes = serializer.ToBinary(message);
        var back = (ArtifactProtocol.UploadReady)_system.Serialization.Deserialize(bytes, serializer.Identifier, "A2");

        Assert.Equal(41, back.LeaseId);
        Assert.NotNull(back.Sink);
        Assert.Equal(sinkRef.ToString(), back.Sink.ToString());
    }

    [Fact]
    public void Events_journalled_before_constraints_and_retry_times_existed_still_read()
    {
        var serializer = (SerializerWithStringManifest)_system.Serialization.FindSerializerForType(typeof(ICis490Message));
        // The shapes written by the first release: no Constraints on the spec, no RetryAt on the ended lease.
        var spec = (JobSpec)serializer.FromBinary(System.Text.Encoding.UTF8.GetBytes(
            $$"""{"job_id":"{{Spec.JobId}}","model":"knn","mode":"oracle","hyper_json":"{}","split_recipe":"host","train_hosts":["h"],"seed":1,"priority":0,"max_attempts":3}"""), "J1");
        var ended = (JobEvents.LeaseEnded)serializer.FromBinary(System.Text.Encoding.UTF8.GetBytes(
            $$"""{"job_id":"{{Spec.JobId}}","lease_id":4,"reason":"x","counts_as_attempt":true,"at":"2026-11-01T00:00:00+00:00"}"""), "JE5");

        Assert.Same(JobConstraints.None, spec.Needs);
        Assert.Equal(3, spec.MaxAttempts);
        Assert.Null(ended.RetryAt);
    }

    [Fact]
    public void A_lease_granted_before_leases_had_their_own_heartbeat_deadline_reads_as_the_coordinators()
    {
        var serializer = (SerializerWithStringManifest)_system.Serialization.FindSerializerForType(typeof(ICis490Message));
        var old = (JobEvents.LeaseGranted)serializer.FromBinary(System.Text.Encoding.UTF8.GetBytes(
            $$"""{"job_id":"{{Spec.JobId}}","lease_id":4,"worker_id":"w1","at":"2026-11-01T00:00:00+00:00"}"""), "JE2");
        var pulled = new JobEvents.LeaseGranted(Spec.JobId, 5, "py-1", At, 120);

        Assert.Null(old.HeartbeatDeadlineSeconds);
        Assert.Equal(pulled, serializer.FromBinary(serializer.ToBinary(pulled), "JE2"));
    }

    [Fact]
    public void A_capability_from_a_worker_without_a_self_test_reads_as_able_to_train_every_family()
    {
        var serializer = (SerializerWithStringManifest)_system.Serialization.FindSerializerForType(typeof(ICis490Message));
        // The shape every worker sent before the self-test, and the one an earlier-fleet /v1 worker's capability maps to.
        var old = (WorkerCapability)serializer.FromBinary(System.Text.Encoding.UTF8.GetBytes(
            """{"hostname":"pi","cores":4,"ram_gib":8,"cuda":false,"vram_gib":0,"cuda_device":null,"torch_version":"none","git_commit":"abc","os":"Linux"}"""), "W1");
        var back = (WorkerCapability)serializer.FromBinary(serializer.ToBinary(SelfTested), "W1");

        Assert.Null(old.Families);
        Assert.True(old.CanTrain("gbt") && old.CanTrain("transformer"));
        Assert.Null(old.WhyNot("gbt"));
        Assert.Equal(["knn", "knn_semi", "mlp"], back.Families);
        Assert.False(back.CanTrain("gbt"));
        Assert.Equal("XGBoost's C library could not be loaded from /x/libxgboost.so.0", back.WhyNot("gbt"));
        Assert.Equal("its self-test did not list it", back.WhyNot("cnn"));
        Assert.Equal(SelfTested.CudaNote, back.CudaNote);
    }

    [Fact]
    public void A_health_answer_from_before_restart_counts_reads_as_serving_with_none()
    {
        var serializer = (SerializerWithStringManifest)_system.Serialization.FindSerializerForType(typeof(ICis490Message));
        var old = (OperatorQueries.CoordinatorHealth)serializer.FromBinary(System.Text.Encoding.UTF8.GetBytes(
            """{"journal_sequence_nr":48,"writes_in_flight":0,"jobs":22,"live_leases":2,"workers":2,"at":"2026-12-02T12:01:50+00:00"}"""), "Q21");
        var restarting = new OperatorQueries.CoordinatorHealth(0, 0, 0, 0, 0, At, Restarting: true, Restarts: 4, FailedStarts: 2, LastFailure: "journal unreachable");
        var back = (OperatorQueries.CoordinatorHealth)serializer.FromBinary(serializer.ToBinary(restarting), serializer.Manifest(restarting));

        Assert.Equal((48L, 22, false, 0, 0, (string?)null), (old.JournalSequenceNr, old.Jobs, old.Restarting, old.Restarts, old.FailedStarts, old.LastFailure));
        Assert.Equal(restarting, back);
    }

    [Fact]
    public void An_error_kind_travels_by_name_and_a_reply_from_before_kinds_reads_as_invalid()
    {
        var serializer = (SerializerWithStringManifest)_system.Serialization.FindSerializerForType(typeof(ICis490Message));
        var json = System.Text.Encoding.UTF8.GetString(serializer.ToBinary(new OperatorProtocol.OperatorError("gone", ErrorKind.NotFound)));
        Assert.Contains("\"kind\":\"NotFound\"", json);

        var old = (OperatorProtocol.OperatorError)serializer.FromBinary(System.Text.Encoding.UTF8.GetBytes("""{"message":"no coordinator"}"""), "O8");
        var oldResult = (OperatorProtocol.OperatorResult)serializer.FromBinary(
            System.Text.Encoding.UTF8.GetBytes("""{"ok":true,"job_id":"a","status":"cancelled","message":"cancelled"}"""), "O11");
        Assert.Equal(ErrorKind.Invalid, old.Kind);
        Assert.Null(oldResult.Kind);
    }

    [Fact]
    public async Task A_source_ref_inside_our_message_is_handed_to_akkas_stream_ref_serializer()
    {
        var sourceRef = await Source.Single(new byte[] { 1, 2, 3 }).RunWith(StreamRefs.SourceRef<byte[]>(), _system.Materializer());
        var message = new OperatorQueries.ArtifactDownload(new string('c', 64), "knn", "oracle", 3, sourceRef);

        var serializer = _system.Serialization.FindSerializerFor(message);
        var back = (OperatorQueries.ArtifactDownload)_system.Serialization.Deserialize(serializer.ToBinary(message), serializer.Identifier, "Q13");

        Assert.Equal(sourceRef.ToString(), back.Source.ToString());
        Assert.Equal(3, back.Bytes);
    }

    [Fact]
    public async Task The_stream_refs_of_a_data_set_publication_and_fetch_are_handed_to_akkas_stream_ref_serializer()
    {
        var materializer = _system.Materializer();
        var sinkRef = await StreamRefs.SinkRef<byte[]>().To(Sink.Ignore<byte[]>()).Run(materializer);
        var sourceRef = await Source.Single(new byte[] { 1, 2, 3 }).RunWith(StreamRefs.SourceRef<byte[]>(), materializer);
        var ready = new DataSetProtocol.PublishReady(new string('d', 64), sinkRef);
        var fetch = new DataSetProtocol.FetchReady(Spec.JobId, 41, new string('d', 64), new string('e', 64), 2048, 1024, sourceRef);

        var serializer = _system.Serialization.FindSerializerFor(ready);
        var readyBack = (DataSetProtocol.PublishReady)_system.Serialization.Deserialize(serializer.ToBinary(ready), serializer.Identifier, "D3");
        var fetchBack = (DataSetProtocol.FetchReady)_system.Serialization.Deserialize(serializer.ToBinary(fetch), serializer.Identifier, "D9");

        Assert.Equal(sinkRef.ToString(), readyBack.Sink.ToString());
        Assert.Equal(sourceRef.ToString(), fetchBack.Source.ToString());
        Assert.Equal((1024L, 2048L), (fetchBack.Offset, fetchBack.BundleBytes));
    }

    [Fact]
    public void Events_snapshots_and_offers_from_before_data_sets_read_as_bound_to_none()
    {
        var serializer = (SerializerWithStringManifest)_system.Serialization.FindSerializerForType(typeof(ICis490Message));
        var added = (JobEvents.JobAdded)serializer.FromBinary(System.Text.Encoding.UTF8.GetBytes(
            $$$"""{"spec":{"job_id":"{{{Spec.JobId}}}","model":"knn","mode":"oracle","hyper_json":"{}","split_recipe":"host","train_hosts":["h"],"seed":1,"priority":0,"max_attempts":3,"constraints":null},"manifest_file":"m.toml","at":"2026-11-01T00:00:00+00:00"}"""), "JE1");
        var snapshot = (JobTableSnapshot)serializer.FromBinary(System.Text.Encoding.UTF8.GetBytes(
            """{"last_lease_id":4,"next_seq":1,"jobs":[],"hosts":null}"""), "JS1");
        var offer = (ArtifactProtocol.OfferUpload)serializer.FromBinary(System.Text.Encoding.UTF8.GetBytes(
            $$$"""{"job_id":"{{{Spec.JobId}}}","lease_id":4,"model":"knn","mode":"oracle","sha256":"{{{new string('c', 64)}}}","bytes":9,"metrics":{}}"""), "A1");

        Assert.Null(added.Spec.DataSet);
        Assert.Null(snapshot.DataSets);
        Assert.Null(offer.DataSet);
    }

    [Fact]
    public async Task A_streamed_manifest_carries_its_source_ref_through_our_serializer()
    {
        var sourceRef = await Source.Single(new byte[] { 1, 2, 3 }).RunWith(StreamRefs.SourceRef<byte[]>(), _system.Materializer());
        var message = new OperatorProtocol.SubmitManifestStream("big.toml", 3, sourceRef, "token");

        var serializer = _system.Serialization.FindSerializerFor(message);
        var back = (OperatorProtocol.SubmitManifestStream)_system.Serialization.Deserialize(serializer.ToBinary(message), serializer.Identifier, "O13");

        Assert.Equal(sourceRef.ToString(), back.Source.ToString());
        Assert.Equal(("big.toml", 3L, "token"), (back.FileName, back.Bytes, back.Token));
    }

    [Fact]
    public void Paged_lists_and_summaries_read_the_shapes_older_nodes_wrote()
    {
        var serializer = (SerializerWithStringManifest)_system.Serialization.FindSerializerForType(typeof(ICis490Message));
        var list = (OperatorProtocol.ListJobs)serializer.FromBinary("{\"status\":null,\"model\":\"knn\"}"u8.ToArray(), "O5");
        Assert.Equal((null, null), (list.Limit, list.After)); // an older shell: every row, as before
        var accepted = (OperatorProtocol.ManifestAccepted)serializer.FromBinary(
            "{\"file_name\":\"m.toml\",\"added_job_ids\":[\"a\",\"b\"],\"known_job_ids\":[\"c\"]}"u8.ToArray(), "O2");
        Assert.Equal((2, 1), (accepted.AddedCount, accepted.KnownCount)); // an older coordinator: the lists are complete
        var json = System.Text.Encoding.UTF8.GetString(serializer.ToBinary(accepted));
        Assert.DoesNotContain("added_count", json); // the computed counts are not sent
    }

    [Fact]
    public void An_unknown_manifest_is_refused_with_a_clear_message()
    {
        var serializer = (SerializerWithStringManifest)_system.Serialization.FindSerializerForType(typeof(ICis490Message));
        var e = Assert.Throws<System.Runtime.Serialization.SerializationException>(() => serializer.FromBinary([], "ZZ9"));
        Assert.Contains("ZZ9", e.Message);
    }

    [Fact]
    public void A_type_outside_our_protocol_is_not_silently_serialized_with_newtonsoft()
    {
        var e = Record.Exception(() => _system.Serialization.FindSerializerFor(new UnboundMessage("x")));
        Assert.NotNull(e); // strict: allow-unregistered-types = false
    }

    private sealed record UnboundMessage(string Text);
}
