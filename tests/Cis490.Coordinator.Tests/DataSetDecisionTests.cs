using Cis490.Coordinator.Jobs;
using Cis490.Protocols;
using Cis490.Protocols.Artifacts;
using Cis490.Protocols.DataSets;
using Cis490.Protocols.Jobs;
using Cis490.Protocols.Operator;
using Cis490.Protocols.Workers;
using Cis490.Shared.Jobs;
using Xunit;
using static Cis490.Coordinator.Jobs.CoordinatorCommands;
using static Cis490.Protocols.Jobs.JobEvents;

namespace Cis490.Coordinator.Tests;

/// <summary>Data sets in the coordinator's decisions: publishing (recorded once its bytes are stored; the same bytes never sent
/// twice), binding a manifest's jobs (the one named, else the latest, else none), the lease carrying it, the worker's fetch of its
/// own lease's data set only, and the index row naming it. Pure: no actor, no journal.</summary>
public sealed class DataSetDecisionTests
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.Parse("2026-12-05T10:00:00Z");
    private static readonly CoordinatorPolicy Policy = new(TimeSpan.FromSeconds(30), RetryPolicy.None, TimeSpan.FromMinutes(2));
    private static readonly WorkerCapability Laptop = new("laptop", 4, 16, false, 0, null, "2.10.0", "abc", "Linux");
    private const string Endpoint = "akka.tcp://cis490@h:1/user/worker#1";
    private static readonly string Small = "5e37" + new string('a', 60);
    private static readonly string Large = "5e38" + new string('b', 60);

    private static DataSetProtocol.Publish Publish(string sha, string? name) => new(sha, name, new string('f', 64), 1000, 5, 4000, null);

    /// <summary>A coordinator that has published <paramref name="sets"/> in this order (each upload stored and recorded).</summary>
    private static CoordinatorState Published(params (string Sha, string? Name)[] sets) => PublishOn(CoordinatorState.Initial(Policy), sets);

    private static CoordinatorState PublishOn(CoordinatorState s, params (string Sha, string? Name)[] sets)
    {
        foreach (var (sha, name) in sets)
        {
            var asked = s.Decide(Publish(sha, name), T0);
            Assert.Empty(asked.Events); // nothing is recorded before the bytes are stored
            var p = (DataSetProtocol.Publish)Assert.IsType<Effect.ToDataSets>(Assert.Single(asked.Effects)).Message;
            var stored = asked.State.Decide(new DataSetStored(new DataSetInfo(p.Sha256, p.Name, p.BundleSha256, p.BundleBytes, p.Files, p.ContentBytes, T0)), T0);
            Assert.IsType<DataSetPublished>(Assert.Single(stored.Events));
            Assert.False(Assert.IsType<DataSetProtocol.Published>(stored.Replies.Single()).AlreadyStored);
            s = stored.State;
        }
        return s;
    }

    private static Outcome Submit(CoordinatorState s, string manifest) => s.Decide(new OperatorProtocol.SubmitManifest("m.toml", manifest), T0);

    private const string KnnOracle = "[[jobs]]\nmodel = \"knn\"\nmode = \"oracle\"\n";

    [Fact]
    public void With_no_data_set_published_jobs_are_bound_to_none_and_keep_the_ids_they_always_had()
    {
        var o = Submit(CoordinatorState.Initial(Policy), KnnOracle);

        var job = o.State.Table.Jobs.Values.Single();
        Assert.Null(job.Spec.DataSet);
        Assert.Equal(JobIds.Compute("knn", "oracle", "{}", "host", ["elliott-thinkpad"], 0), job.JobId);
    }

    [Fact]
    public void A_job_that_names_no_data_set_is_bound_to_the_latest_published_and_its_id_includes_it()
    {
        var s = Published((Small, "small"), (Large, null));

        var o = Submit(s, KnnOracle);

        var job = o.State.Table.Jobs.Values.Single();
        Assert.Equal(Large, job.Spec.DataSet);
        Assert.Equal(JobIds.Compute("knn", "oracle", "{}", "host", ["elliott-thinkpad"], 0, Large), job.JobId);
        // Submitted again once another data set is published: a new job (re-training on new data), the old one untouched.
        var again = Submit(PublishOn(o.State, ("5e39" + new string('c', 60), "newer")), KnnOracle);
        Assert.Single(again.Events.OfType<JobAdded>());
        Assert.Equal([Large, "5e39" + new string('c', 60)], again.State.Table.Jobs.Values.OrderBy(j => j.Seq).Select(j => j.Spec.DataSet!));
    }

    [Fact]
    public void A_job_names_its_data_set_by_name_or_hash_prefix_and_an_unknown_one_rejects_the_manifest_naming_the_line()
    {
        var s = Published((Small, "small"), (Large, "large"));

        var o = Submit(s, KnnOracle + "data_set = \"small\"\n\n" + KnnOracle + "data_set = \"5e38bbbb\"\n");
        Assert.Equal([Small, Large], o.State.Table.Jobs.Values.Select(j => j.Spec.DataSet!).Order());

        var bad = Submit(s, KnnOracle + "\n" + KnnOracle.Replace("oracle", "realistic") + "data_set = \"medium\"\n\n" + KnnOracle + "data_set = \"5e3\"\n");
        var rejected = Assert.IsType<OperatorProtocol.ManifestRejected>(bad.Replies.Single());
        Assert.Empty(bad.Events);
        Assert.Equal([8, 13], rejected.Errors.Select(e => e.Line)); // "5e3" is too short for a hash: a name, which names nothing
        Assert.Contains("(knn/realistic): data_set \"medium\" names no published data set; published: small (5e37aaaaaaaa), large (5e38bbbbbbbb)",
            rejected.Errors[0].Message);

        var none = Submit(CoordinatorState.Initial(Policy), KnnOracle + "data_set = \"small\"\n");
        Assert.Contains("no data set has been published yet", Assert.IsType<OperatorProtocol.ManifestRejected>(none.Replies.Single()).Errors.Single().Message);
    }

    [Fact]
    public void Bytes_already_stored_are_not_sent_again_and_a_new_name_for_them_is_recorded_as_the_latest()
    {
        var s = Published((Small, "small"), (Large, null));

        var same = s.Decide(Publish(Small, "small"), T0);
        Assert.Empty(same.Events);
        Assert.True(Assert.IsType<DataSetProtocol.Published>(same.Replies.Single()).AlreadyStored);
        Assert.DoesNotContain(same.Effects, e => e is Effect.ToDataSets);

        var renamed = s.Decide(Publish(Small, "small-v2"), T0.AddMinutes(1));
        Assert.Equal("small-v2", Assert.IsType<DataSetPublished>(Assert.Single(renamed.Events)).DataSet.Name);
        Assert.Equal(Small, renamed.State.Table.LatestDataSet!.Sha256);

        var badName = s.Decide(Publish(Small, "../x"), T0);
        Assert.Equal(ErrorKind.Invalid, Assert.IsType<DataSetProtocol.PublishRefused>(badName.Replies.Single()).Kind);
    }

    [Fact]
    public void The_lease_carries_the_data_set_only_its_holder_may_fetch_it_and_the_stored_artifact_is_filed_under_it()
    {
        var s = Submit(Published((Small, "small")), KnnOracle).State;
        var registered = s.Decide(new Register(new WorkerProtocol.Register("w1", Laptop, 1, []), Endpoint, "akka.tcp://cis490@h:1"), T0);
        var lease = registered.SentTo(Endpoint).OfType<WorkerProtocol.Lease>().Single();
        Assert.Equal(Small, lease.Job.DataSet);
        s = registered.State;
        const string cache = "akka.tcp://cis490@h:1/user/worker/data-sets";

        var fetch = s.Decide(new FromWorker(new DataSetProtocol.Fetch(lease.JobId, lease.LeaseId, Small, 4096), cache), T0.AddSeconds(1));
        var serve = Assert.IsType<ServeDataSet>(Assert.IsType<Effect.ToDataSets>(Assert.Single(fetch.Effects)).Message);
        Assert.Equal((4096L, Small), (serve.Fetch.Offset, serve.DataSet.Sha256));

        var other = s.Decide(new FromWorker(new DataSetProtocol.Fetch(lease.JobId, lease.LeaseId, Large, 0), cache), T0);
        Assert.Contains("is bound to data set", Assert.IsType<DataSetProtocol.FetchRefused>(other.Replies.Single()).Reason);
        var stale = s.Decide(new FromWorker(new DataSetProtocol.Fetch(lease.JobId, lease.LeaseId - 1, Small, 0), cache), T0);
        Assert.Equal(ErrorKind.StaleLease, Assert.IsType<DataSetProtocol.FetchRefused>(stale.Replies.Single()).Kind);
        var stranger = s.Decide(new FromWorker(new DataSetProtocol.Fetch(lease.JobId, lease.LeaseId, Small, 0), "akka.tcp://cis490@evil:1/user/worker"), T0);
        Assert.Equal(ErrorKind.Forbidden, Assert.IsType<DataSetProtocol.FetchRefused>(stranger.Replies.Single()).Kind);

        var offer = new ArtifactProtocol.OfferUpload(lease.JobId, lease.LeaseId, "knn", "oracle", new string('c', 64), 10, new Dictionary<string, double>());
        var stored = s.Decide(new FromWorker(offer, "akka.tcp://cis490@h:1/user/worker/trainer-1"), T0);
        Assert.Equal(Small, ((ArtifactProtocol.OfferUpload)Assert.IsType<Effect.ToStore>(stored.Effects.Single(e => e is Effect.ToStore)).Message).DataSet);
    }

    [Fact]
    public void Published_data_sets_survive_a_snapshot_and_the_fold_of_their_events()
    {
        var s = Published((Small, "small"), (Large, "large"));

        var back = JobTable.FromSnapshot(s.Table.ToSnapshot());
        var folded = JobTable.Empty.Apply(new DataSetPublished(s.Table.DataSets[0], T0)).Apply(new DataSetPublished(s.Table.DataSets[1], T0));

        Assert.Equal(s.Table.DataSets, back.DataSets);
        Assert.Equal(s.Table.DataSets, folded.DataSets);
        Assert.Equal("large", back.LatestDataSet!.Name);
    }
}
