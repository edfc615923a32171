using System.Text.Json;
using Cis490.Shared.Models;
using Cis490.Training.Data;
using Cis490.Training.Episodes;
using Cis490.Training.Evaluation;
using Cis490.Training.Features;
using Cis490.Training.Models;
using Cis490.Training.Models.Xgb;
using Cis490.Training.Runner;

namespace Cis490.Training.Tests.Models;

/// <summary>A small real build (60 synthetic episodes) and its host split, made once for the gbt tests.</summary>
public sealed class GbtData : IDisposable
{
    private readonly TempDir _tmp = new();

    public GbtData()
    {
        SyntheticEpisodes.Generate(_tmp.Combine("episodes"), 60, 490);
        DataBuilder.Build(new BuildOptions(_tmp.Combine("episodes"), DataDir, new WindowSettings()));
        Table = FeatureTable.Load(DataDir);
        Schema = FeatureSchema.Load(DataDir);
        Split = Splits.Make(Table, "host", ["elliott-thinkpad"], 0);
    }

    public string DataDir => _tmp.Combine("data");
    public FeatureTable Table { get; }
    public FeatureSchema Schema { get; }
    public Split Split { get; }

    public ModelData For(string mode, FeatureTable? table = null) => new(table ?? Table, Schema, mode, DataDir, Split);

    public void Dispose() => _tmp.Dispose();
}

public sealed class GbtTests(GbtData data) : IClassFixture<GbtData>
{
    private static readonly GbtFamily Family = new();

    private static HyperValues Hyper(string json = "{}") => new(ModelCatalog.Gbt, json);

    private static (GbtModel Model, List<ProgressReport> Reports) Train(ModelData d, string hyper = "{}")
    {
        var reports = new List<ProgressReport>();
        var model = (GbtModel)Family.Train(d, Hyper(hyper), reports.Add, CancellationToken.None);
        return (model, reports);
    }

    private Checkpoint CheckpointFor(string mode, string sidecar, IReadOnlyDictionary<string, double> metrics) => new(
        Checkpoint.CurrentFormat, "gbt", mode, JsonDocument.Parse("{}").RootElement.Clone(), data.Schema.Sha256For(mode),
        [.. data.Schema.ColumnsFor(mode)], Labels.Classes, sidecar, metrics,
        new SplitInfo("host", data.Split.Description, ["elliott-thinkpad"], 0, data.Split.UntestedProfiles, data.Split.ExcludedProfiles),
        new Lineage("job-gbt", 1, "sha", "commit", null, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch));

    /// <summary>Multi-class log loss as XGBoost computes it (probabilities clipped to [1e-15, 1 − 1e-15]).</summary>
    private static double LogLoss(float[] proba, int[] truth, int classes) =>
        truth.Select((y, r) => -Math.Log(Math.Clamp((double)proba[r * classes + y], 1e-15, 1 - 1e-15))).Average();

    [Theory]
    [InlineData("realistic")]
    [InlineData("oracle")]
    public void Gbt_trains_in_each_mode_and_beats_the_majority_baseline_on_validation(string mode)
    {
        var d = data.For(mode);
        var (model, reports) = Train(d);
        using var _ = model;

        var (_, yTrain) = d.Summary(d.Split.Train);
        var (_, yVal) = d.Summary(d.Split.Val);
        var f1 = Metrics.MacroF1(yVal, KnnClassifier.ArgMax(model.PredictProba(d, d.Split.Val), d.Classes), d.Classes);
        var majority = Metrics.MajorityBaseline(yTrain, yVal, d.Classes);
        Assert.True(f1 > majority, $"{mode}: val macro F1 {f1:F3} vs majority {majority:F3}");

        // One report per round (1, 2, …, rounds run) with the validation loss, F1 every tenth round, then a summary.
        var m = model.ExtraMetrics;
        var run = (int)m["rounds_run"];
        var perRound = reports.Take(run).ToList();
        Assert.Equal(Enumerable.Range(1, run), perRound.Select(r => r.Epoch));
        Assert.All(perRound, r => Assert.Equal(300, r.TotalEpochs));
        Assert.All(perRound, r => Assert.True(r.Loss > 0, $"round {r.Epoch}: loss {r.Loss}"));
        Assert.All(perRound, r => Assert.Equal(r.Epoch % GbtFamily.F1EveryRounds == 0, r.ValMacroF1 is not null));
        Assert.Equal(run + 1, reports.Count);
        Assert.Equal(f1, reports[^1].ValMacroF1!.Value, 12);
        Assert.Equal(perRound.Min(r => r.Loss!.Value), m["best_val_mlogloss"]);
        Assert.Equal((m["best_iteration"] + 1) * d.Classes, m["trees"]);
    }

    [Fact]
    public void Probability_rows_are_distributions_over_the_four_classes()
    {
        var d = data.For("realistic");
        using var model = Train(d, """{"num_boost_round":30}""").Model;

        var proba = model.PredictProba(d, d.Split.Test);

        Assert.Equal(d.Split.Test.Length * d.Classes, proba.Length);
        for (var r = 0; r < d.Split.Test.Length; r++)
        {
            var row = proba.AsSpan(r * d.Classes, d.Classes).ToArray();
            Assert.All(row, p => Assert.InRange(p, 0f, 1f));
            Assert.Equal(1.0, row.Sum(p => (double)p), 5);
        }
        Assert.Empty(model.PredictProba(d, []));
    }

    [Fact]
    public void The_saved_model_is_xgboost_json_that_loads_back_and_predicts_the_same_probabilities()
    {
        var d = data.For("oracle");
        using var model = Train(d, """{"num_boost_round":40,"subsample":0.8}""").Model;
        using var tmp = new TempDir();

        var sidecar = model.Save(tmp.Path);

        Assert.Equal("gbt.xgb.json", sidecar);
        using (var doc = JsonDocument.Parse(File.ReadAllText(tmp.Combine(sidecar))))
        {
            var learner = doc.RootElement.GetProperty("learner");
            Assert.Equal("multi:softprob", learner.GetProperty("objective").GetProperty("name").GetString());
            Assert.Equal(model.ExtraMetrics["best_iteration"].ToString(System.Globalization.CultureInfo.InvariantCulture),
                learner.GetProperty("attributes").GetProperty("best_iteration").GetString());
            Assert.Equal(model.ExtraMetrics["trees"], learner.GetProperty("gradient_booster").GetProperty("model").GetProperty("trees").GetArrayLength());
        }
        var loaded = (GbtModel)Family.Load(tmp.Path, CheckpointFor("oracle", sidecar, model.ExtraMetrics));
        using var __ = loaded;
        var rows = d.Split.Val.Concat(d.Split.Test).ToArray();
        var before = model.PredictProba(d, rows);
        var after = loaded.PredictProba(d, rows);
        Assert.Equal(before.Length, after.Length);
        Assert.All(before.Zip(after), p => Assert.Equal(p.First, p.Second, 1e-6f));
        foreach (var key in new[] { "best_iteration", "best_val_mlogloss", "trees", "rounds_run" })
            Assert.Equal(model.ExtraMetrics[key], loaded.ExtraMetrics[key]);
    }

    [Fact]
    public void Early_stopping_stops_before_the_last_round_and_keeps_the_best_rounds_trees()
    {
        // A big learning rate over-fits this small set within a few rounds, so validation loss turns up early.
        var d = data.For("realistic");
        var (model, reports) = Train(d, """{"eta":1.0,"max_depth":8,"num_boost_round":500,"early_stopping_rounds":3}""");
        using var _ = model;
        var m = model.ExtraMetrics;
        var (run, best) = ((int)m["rounds_run"], (int)m["best_iteration"]);

        Assert.True(run < 500, $"ran all {run} rounds");
        Assert.Equal(run - 1 - 3, best); // stopped exactly three rounds after the best one
        var losses = reports.Take(run).Select(r => r.Loss!.Value).ToArray();
        Assert.Equal(losses.Min(), losses[best]);
        Assert.All(losses[(best + 1)..], l => Assert.True(l >= losses[best]));
        Assert.Equal((best + 1) * d.Classes, m["trees"]);
        // The kept model is the best round's: its own validation loss is the reported best, not the last round's.
        var (_, yVal) = d.Summary(d.Split.Val);
        Assert.Equal(m["best_val_mlogloss"], LogLoss(model.PredictProba(d, d.Split.Val), yVal, d.Classes), 4);
        Assert.Contains("early stop", reports[^1].Message);
    }

    [Fact]
    public void The_same_data_and_hyper_parameters_give_identical_predictions_twice()
    {
        // Row and column subsampling make the seed matter.
        var d = data.For("oracle");
        const string hyper = """{"num_boost_round":25,"subsample":0.7,"colsample_bytree":0.6}""";
        using var a = Train(d, hyper).Model;
        using var b = Train(d, hyper).Model;

        Assert.Equal(a.PredictProba(d, d.Split.Test), b.PredictProba(d, d.Split.Test));
        Assert.Equal(a.ExtraMetrics, b.ExtraMetrics);
    }

    [Fact]
    public void Missing_features_are_accepted_in_training_and_prediction()
    {
        // Every other value of the first half of the rows blanked out, on top of the channels the build already left NaN.
        var t = data.Table;
        var values = (float[])t.Values.Clone();
        for (var i = 0; i < values.Length / 2; i += 2) values[i] = float.NaN;
        var holey = new FeatureTable
        {
            RowIds = t.RowIds, EpisodeIds = t.EpisodeIds, Hosts = t.Hosts, Profiles = t.Profiles, Samples = t.Samples,
            StartNs = t.StartNs, Labels = t.Labels, Degraded = t.Degraded, Columns = t.Columns, Values = values,
        };
        var d = data.For("realistic", holey);
        Assert.Contains(d.Summary(d.Split.Train).X, float.IsNaN);

        using var model = Train(d, """{"num_boost_round":20}""").Model;
        var allMissing = new FeatureTable
        {
            RowIds = t.RowIds, EpisodeIds = t.EpisodeIds, Hosts = t.Hosts, Profiles = t.Profiles, Samples = t.Samples,
            StartNs = t.StartNs, Labels = t.Labels, Degraded = t.Degraded, Columns = t.Columns, Values = Enumerable.Repeat(float.NaN, values.Length).ToArray(),
        };
        var proba = model.PredictProba(data.For("realistic", allMissing), d.Split.Test[..5]);

        Assert.Equal(5 * d.Classes, proba.Length);
        Assert.All(proba, p => Assert.True(float.IsFinite(p) && p is >= 0 and <= 1, $"p = {p}"));
        Assert.Equal(1.0, proba.AsSpan(0, d.Classes).ToArray().Sum(p => (double)p), 5);
    }

    [Fact]
    public void A_missing_library_is_reported_with_the_command_that_installs_it()
    {
        var (version, error) = XgbLibrary.Probe("libxgboost-not-installed.so.0");

        Assert.Null(version);
        Assert.NotNull(error);
        Assert.Equal("XGBoost's C library (libxgboost.so.0) is not installed: run 'sudo apt-get install libxgboost0'", error.Message);
        Assert.Null(error.InnerException);
    }

    [Fact]
    public void A_library_path_that_does_not_load_is_reported_with_the_path_and_the_loaders_reason()
    {
        var (version, error) = XgbLibrary.Probe("/nonexistent/libxgboost.so.0");

        Assert.Null(version);
        Assert.StartsWith("XGBoost's C library could not be loaded from /nonexistent/libxgboost.so.0: ", error!.Message);
        Assert.Contains("cannot open shared object file", error.Message);
        Assert.DoesNotContain("consider using a tool like strace", error.Message); // .NET's advice paragraph is cut
    }

    [Fact]
    public void The_installed_library_is_xgboost_1_7_or_later()
    {
        Assert.True(XgbLibrary.IsAvailable);
        XgbLibrary.EnsureLoaded();
        Assert.True(XgbLibrary.Version >= new Version(1, 7), $"version {XgbLibrary.Version}");
    }

    [Fact]
    public void A_corrupt_model_file_fails_with_xgboosts_own_message_and_no_native_stack()
    {
        using var tmp = new TempDir();
        File.WriteAllText(tmp.Combine(GbtFamily.SidecarName), "{\"learner\": ");

        var e = Assert.Throws<XgbException>(() => Family.Load(tmp.Path, CheckpointFor("realistic", GbtFamily.SidecarName, new Dictionary<string, double>())));

        Assert.StartsWith("XGBoosterLoadModel(", e.Message);
        Assert.DoesNotContain("Stack trace", e.Message);
        Assert.DoesNotContain("[bt]", e.Message);
    }

    [Fact]
    public void A_model_file_that_is_not_there_is_named_in_the_error()
    {
        using var tmp = new TempDir();
        var e = Assert.Throws<FileNotFoundException>(() => Family.Load(tmp.Path, CheckpointFor("realistic", GbtFamily.SidecarName, new Dictionary<string, double>())));
        Assert.Contains(GbtFamily.SidecarName, e.Message);
    }

    [Fact]
    public void A_cancelled_job_stops_before_boosting()
    {
        var reports = new List<ProgressReport>();
        Assert.Throws<OperationCanceledException>(() => Family.Train(data.For("realistic"), Hyper(), reports.Add, new CancellationToken(canceled: true)));
        Assert.Empty(reports);
    }

    [Fact]
    public void A_model_refuses_data_of_the_other_mode()
    {
        using var model = Train(data.For("realistic"), """{"num_boost_round":5}""").Model;
        var oracle = data.For("oracle");
        var e = Assert.Throws<InvalidDataException>(() => model.PredictProba(oracle, oracle.Split.Val));
        Assert.Contains("columns", e.Message);
    }
}
