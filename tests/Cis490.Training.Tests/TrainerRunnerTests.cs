using EvalMetrics = Cis490.Training.Evaluation.Metrics;
using System.Collections.Concurrent;
using Cis490.Shared.Models;
using Cis490.Training.Data;
using Cis490.Training.Models;
using Cis490.Training.Runner;

namespace Cis490.Training.Tests;

/// <summary>A whole training job on a real (synthetic) build: split, train, score, checkpoint.</summary>
public class TrainerRunnerTests(SmallBuild build) : IClassFixture<SmallBuild>
{
    private TrainRequest Request(TempDir tmp, string mode, string model = "knn", string hyper = "{\"k\":15}", string recipe = "host") => new(
        JobId: $"job-{model}-{mode}", LeaseId: 42, Model: model, Mode: mode, HyperJson: hyper, SplitRecipe: recipe,
        TrainHosts: ["elliott-thinkpad"], Seed: 0, DataDir: build.DataDir, OutDir: tmp.Combine("out"), Worker: null);

    [Theory]
    [InlineData("realistic")]
    [InlineData("oracle")]
    public void A_knn_job_writes_a_checkpoint_that_beats_the_majority_baseline(string mode)
    {
        using var tmp = new TempDir();
        var request = Request(tmp, mode);
        var reports = new ConcurrentQueue<ProgressReport>();

        var ckpt = TrainerRunner.Run(request, reports.Enqueue);

        Assert.True(File.Exists(tmp.Combine("out", Checkpoint.FileName)));
        Assert.True(File.Exists(tmp.Combine("out", ckpt.Sidecar)));
        var saved = Checkpoint.Load(request.OutDir);
        Assert.Equal(request.JobId, saved.Lineage.JobId);
        Assert.Equal(42, saved.Lineage.LeaseId);
        Assert.Equal(FeatureTable.DatasetSha256(build.DataDir), saved.Lineage.DatasetSha256);
        Assert.True(saved.Lineage.FinishedAt >= saved.Lineage.StartedAt);

        var schema = FeatureSchema.Load(build.DataDir);
        Assert.Equal(schema.Sha256For(mode), saved.FeatureSchemaSha256);
        saved.EnsureSchema(schema);
        Assert.Equal(schema.ColumnsFor(mode), saved.Columns);
        Assert.Contains("scan-and-dial", saved.Split.UntestedProfiles); // the gaming PC never runs it: said, not averaged in
        Assert.Equal(("host", 0L), (saved.Split.Recipe, saved.Split.Seed));

        var m = saved.Metrics;
        Assert.True(m["val_macro_f1"] > m["val_majority_macro_f1"], $"val {m["val_macro_f1"]} vs majority {m["val_majority_macro_f1"]}");
        Assert.Equal(build.Table.Rows, m["train_rows"] + m["val_rows"] + m["test_rows"]);

        var sidecar = KnnClassifier.Load(tmp.Combine("out", saved.Sidecar));
        Assert.Equal((15, saved.Columns.Count), (sidecar.K, sidecar.Dims));
        Assert.Equal("checkpoint written", reports.Last().Message);
        Assert.Contains(reports, r => r.ValMacroF1 == m["val_macro_f1"]);
    }

    [Fact]
    public void Training_produces_no_test_figure_in_the_checkpoint_or_its_progress()
    {
        // The test split belongs to eval: whoever tunes on train's output must never see a test score.
        using var tmp = new TempDir();
        var reports = new ConcurrentQueue<ProgressReport>();
        var ckpt = TrainerRunner.Run(Request(tmp, "realistic", "gbt", "{\"num_boost_round\":20}"), reports.Enqueue);

        Assert.Equal(["test_rows"], ckpt.Metrics.Keys.Where(k => k.Contains("test", StringComparison.OrdinalIgnoreCase)));
        Assert.True(ckpt.Metrics["test_rows"] > 0); // a count of the held-out windows, not a figure about them
        Assert.DoesNotContain("test_macro", File.ReadAllText(tmp.Combine("out", Checkpoint.FileName)));
        Assert.All(reports, r => Assert.DoesNotMatch(@"(?i)\btest\b|test_", r.Message)); // (the temp folder's name has "tests")
    }

    [Fact]
    public void Per_host_normalisation_is_recorded_in_the_checkpoint_and_used_again_when_it_predicts()
    {
        using var tmp = new TempDir();
        var ckpt = TrainerRunner.Run(Request(tmp, "realistic", hyper: "{\"k\":5,\"normalise\":\"per_host\"}"), _ => { });
        Assert.Equal("per_host", ckpt.Normalise);
        Assert.Equal("per_host", Checkpoint.Load(tmp.Combine("out")).Normalise);

        // Scoring the validation rows again through the predictor (which reads the setting from the checkpoint) gives the
        // validation figure training reported; read with train normalisation, the same model would see other inputs.
        var predictions = Predictor.Predict(tmp.Combine("out"), build.DataDir, "val");
        var f1 = EvalMetrics.MacroF1(predictions.Select(p => Labels.IndexOf(p.TrueLabel)).ToArray(),
            predictions.Select(p => Labels.IndexOf(p.PredictedLabel)).ToArray(), Labels.Classes.Count);
        Assert.Equal(ckpt.Metrics["val_macro_f1"], f1, 12);
    }

    [Fact]
    public void Oracle_mode_reads_more_columns_and_scores_at_least_about_as_well()
    {
        // The oracle also sees the sample's own process tree; it may tie, but it should not lose by much.
        using var tmp = new TempDir();
        var realistic = TrainerRunner.Run(Request(tmp, "realistic") with { OutDir = tmp.Combine("r") }, _ => { });
        var oracle = TrainerRunner.Run(Request(tmp, "oracle") with { OutDir = tmp.Combine("o") }, _ => { });

        Assert.True(oracle.Columns.Count > realistic.Columns.Count);
        Assert.Contains(oracle.Columns, c => c.StartsWith("sample_tree.", StringComparison.Ordinal));
        Assert.DoesNotContain(realistic.Columns, c => c.StartsWith("sample_tree.", StringComparison.Ordinal));
        Assert.True(oracle.Metrics["val_macro_f1"] >= realistic.Metrics["val_macro_f1"] - 0.05,
            $"oracle {oracle.Metrics["val_macro_f1"]} vs realistic {realistic.Metrics["val_macro_f1"]}");
    }

    [Fact]
    public void The_sample_split_records_its_excluded_profiles_in_the_checkpoint()
    {
        using var tmp = new TempDir();
        var ckpt = TrainerRunner.Run(Request(tmp, "realistic", recipe: "sample"), _ => { });
        Assert.Equal(["cpu-saturate", "low-and-slow"], ckpt.Split.ExcludedProfiles.Select(x => x.Profile).Order());
        Assert.Equal(ckpt.Split.ExcludedProfiles, Checkpoint.Load(tmp.Combine("out")).Split.ExcludedProfiles);
    }

    [Fact]
    public void Every_registered_model_family_is_declared_in_the_catalog()
    {
        // The coordinator validates manifests against the catalog alone: a family missing there could never be asked for.
        Assert.Contains("knn", ModelFamilies.Names);
        Assert.All(ModelFamilies.Names, name => Assert.True(ModelCatalog.All.ContainsKey(name), $"family '{name}' is not in ModelCatalog"));
    }

    [Fact]
    public void A_distance_weighted_hyper_reaches_the_model()
    {
        using var tmp = new TempDir();
        var ckpt = TrainerRunner.Run(Request(tmp, "realistic", hyper: "{\"k\":3,\"weights\":\"distance\"}"), _ => { });
        var knn = KnnClassifier.Load(tmp.Combine("out", ckpt.Sidecar));
        Assert.True(knn.DistanceWeighted);
        Assert.Equal(3, knn.K);
    }

    [Fact]
    public void An_unknown_model_throws_before_writing_anything()
    {
        using var tmp = new TempDir();
        var e = Assert.Throws<ArgumentException>(() => TrainerRunner.Run(Request(tmp, "realistic", "xgboost-turbo"), _ => { }));
        Assert.Contains("'xgboost-turbo'", e.Message);
        Assert.False(Directory.Exists(tmp.Combine("out")));
    }

    [Fact]
    public void An_unknown_hyper_parameter_throws()
    {
        using var tmp = new TempDir();
        var e = Assert.Throws<ArgumentException>(() => TrainerRunner.Run(Request(tmp, "realistic", hyper: "{\"depth\":3}"), _ => { }));
        Assert.Contains("'depth'", e.Message);
    }

    [Fact]
    public void A_cancelled_job_stops_without_a_checkpoint()
    {
        using var tmp = new TempDir();
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => TrainerRunner.Run(Request(tmp, "realistic"), _ => { }, cancel.Token));
        Assert.False(File.Exists(tmp.Combine("out", Checkpoint.FileName)));
    }

    [Fact]
    public void A_request_round_trips_through_its_job_file()
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
