using System.Collections.Concurrent;
using Cis490.Shared.Models;
using Cis490.Training.Data;
using Cis490.Training.Models;
using Cis490.Training.Runner;

namespace Cis490.Training.Tests;

public class TrainerRunnerTests
{
    private static TrainRequest Request(TempDir tmp, string mode, string model = "knn", string hyper = "{\"k\":15}") => new(
        JobId: $"job-{model}-{mode}", LeaseId: 42, Model: model, Mode: mode, HyperJson: hyper, SplitRecipe: "host",
        TrainHosts: ["elliott-thinkpad"], Seed: 0, DataDir: tmp.Combine("data"), OutDir: tmp.Combine("out"), Worker: null);

    private static TempDir WithData(int rows = 1500)
    {
        var tmp = new TempDir();
        SyntheticFeatureTable.Write(tmp.Combine("data"), rows, 7);
        return tmp;
    }

    [Theory]
    [InlineData("realistic")]
    [InlineData("oracle")]
    public void Knn_job_writes_a_checkpoint_that_beats_the_majority_baseline(string mode)
    {
        using var tmp = WithData();
        var request = Request(tmp, mode);
        var reports = new ConcurrentQueue<ProgressReport>();

        var ckpt = TrainerRunner.Run(request, reports.Enqueue);

        Assert.True(File.Exists(tmp.Combine("out", Checkpoint.FileName)));
        Assert.True(File.Exists(tmp.Combine("out", ckpt.Sidecar)));
        var saved = Checkpoint.Load(request.OutDir);
        Assert.Equal(ckpt.FeatureSchemaSha256, saved.FeatureSchemaSha256);
        Assert.Equal(request.JobId, saved.Lineage.JobId);
        Assert.Equal(42, saved.Lineage.LeaseId);
        Assert.Equal(FeatureTable.DatasetSha256(request.DataDir), saved.Lineage.DatasetSha256);
        Assert.True(saved.Lineage.FinishedAt >= saved.Lineage.StartedAt);

        var schema = FeatureSchema.Load(request.DataDir);
        Assert.Equal(schema.Sha256For(mode), saved.FeatureSchemaSha256);
        saved.EnsureSchema(schema);
        Assert.Equal(schema.ColumnsFor(mode), saved.Columns);
        Assert.Equal(15, saved.Hyper.GetProperty("k").GetInt32());

        var m = saved.Metrics;
        Assert.True(m["val_macro_f1"] > m["val_majority_macro_f1"] + 0.1, $"val {m["val_macro_f1"]} vs majority {m["val_majority_macro_f1"]}");
        Assert.InRange(m["test_macro_f1"], 0, 1);
        Assert.Equal(1500, m["train_rows"] + m["val_rows"] + m["test_rows"]);

        var sidecar = KnnClassifier.Load(tmp.Combine("out", saved.Sidecar));
        Assert.Equal((15, saved.Columns.Count), (sidecar.K, sidecar.Dims));

        Assert.NotEmpty(reports);
        Assert.Equal("checkpoint written", reports.Last().Message);
        Assert.Contains(reports, r => r.ValMacroF1 == m["val_macro_f1"]);
    }

    [Fact]
    public void Oracle_columns_score_better_than_realistic_ones()
    {
        // The oracle-only columns carry a stronger signal by construction; a trainer that ignored the mode would tie.
        using var tmp = WithData(3000);
        var realistic = TrainerRunner.Run(Request(tmp, "realistic") with { OutDir = tmp.Combine("r") }, _ => { });
        var oracle = TrainerRunner.Run(Request(tmp, "oracle") with { OutDir = tmp.Combine("o") }, _ => { });
        Assert.True(oracle.Columns.Count > realistic.Columns.Count);
        Assert.True(oracle.Metrics["val_macro_f1"] > realistic.Metrics["val_macro_f1"],
            $"oracle {oracle.Metrics["val_macro_f1"]} vs realistic {realistic.Metrics["val_macro_f1"]}");
    }

    [Fact]
    public void Every_catalog_model_has_a_trainer()
    {
        // ModelCatalog is what the coordinator accepts: a declared model without a trainer would fail every job.
        using var tmp = WithData(300);
        foreach (var name in ModelCatalog.All.Keys)
        {
            var ckpt = TrainerRunner.Run(Request(tmp, "realistic", name, "{}") with { OutDir = tmp.Combine(name) }, _ => { });
            Assert.Equal(name, ckpt.Model);
        }
    }

    [Fact]
    public void Distance_weighted_hyper_reaches_the_model()
    {
        using var tmp = WithData(300);
        var ckpt = TrainerRunner.Run(Request(tmp, "realistic", hyper: "{\"k\":3,\"weights\":\"distance\"}"), _ => { });
        var knn = KnnClassifier.Load(tmp.Combine("out", ckpt.Sidecar));
        Assert.True(knn.DistanceWeighted);
        Assert.Equal(3, knn.K);
    }

    [Fact]
    public void Unknown_model_throws_before_writing_anything()
    {
        using var tmp = WithData(300);
        var e = Assert.Throws<ArgumentException>(() => TrainerRunner.Run(Request(tmp, "realistic", "xgboost-turbo"), _ => { }));
        Assert.Contains("'xgboost-turbo'", e.Message);
        Assert.False(Directory.Exists(tmp.Combine("out")));
    }

    [Fact]
    public void Unknown_hyper_parameter_throws()
    {
        using var tmp = WithData(300);
        var e = Assert.Throws<ArgumentException>(() => TrainerRunner.Run(Request(tmp, "realistic", hyper: "{\"depth\":3}"), _ => { }));
        Assert.Contains("'depth'", e.Message);
    }

    [Fact]
    public void A_cancelled_job_stops_without_a_checkpoint()
    {
        using var tmp = WithData(300);
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => TrainerRunner.Run(Request(tmp, "realistic"), _ => { }, cancel.Token));
        Assert.False(File.Exists(tmp.Combine("out", Checkpoint.FileName)));
    }

    [Fact]
    public void Request_round_trips_through_its_job_file()
    {
        using var tmp = new TempDir();
        var request = Request(tmp, "oracle");
        var path = tmp.Combine(TrainRequest.FileName);
        request.Save(path);
        var loaded = TrainRequest.Load(path);
        Assert.Equal(request.TrainHosts, loaded.TrainHosts);
        Assert.Equal(request with { TrainHosts = loaded.TrainHosts }, loaded);
    }
}
