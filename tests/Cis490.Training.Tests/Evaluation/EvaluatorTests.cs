using System.Text.Json;
using Cis490.Training.Episodes;
using Cis490.Training.Evaluation;
using Cis490.Training.Features;
using Cis490.Training.Runner;

namespace Cis490.Training.Tests.Evaluation;

/// <summary><c>./cis490 eval</c>'s engine on real checkpoints: the report, the pictures, the JSON and CSV, and a skipped artifact.</summary>
public sealed class EvaluatorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cis490-eval-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private string Train(string features, string model, string mode, string hyper)
    {
        var outDir = Path.Combine(_dir, "artifacts", $"{model}_{mode}_{hyper.Length}");
        TrainerRunner.Run(new TrainRequest("job", 1, model, mode, hyper, "host", ["elliott-thinkpad"], 0, features, outDir, null), _ => { });
        return outDir;
    }

    [Fact]
    public void Evaluation_writes_the_comparison_its_pictures_json_and_predictions_and_skips_a_mismatched_artifact()
    {
        var episodes = Path.Combine(_dir, "episodes");
        var features = Path.Combine(_dir, "features");
        SyntheticEpisodes.Generate(episodes, 50, 21);
        DataBuilder.Build(new BuildOptions(episodes, features, new WindowSettings()));
        Train(features, "knn", "realistic", "{\"k\":3}");
        Train(features, "knn", "realistic", "{\"k\":15}");
        Train(features, "knn_semi", "realistic", "{}");
        var stale = Train(features, "knn", "oracle", "{}");
        var ckptPath = Path.Combine(stale, Checkpoint.FileName);
        File.WriteAllText(ckptPath, File.ReadAllText(ckptPath).Replace(Checkpoint.Load(stale).FeatureSchemaSha256, new string('f', 64)));
        var outDir = Path.Combine(_dir, "reports");

        var result = Evaluator.Evaluate(Path.Combine(_dir, "artifacts"), features, outDir, ResampleUnit.Episodes, 200, 1);
        var report = ComparisonReport.Write(result, outDir);

        Assert.Equal(["knn_realistic_k15", "knn_realistic_k3", "knn_semi_realistic"], result.Models.Select(m => m.Name).Order());
        var skipped = Assert.Single(result.Skipped);
        Assert.Contains(new string('f', 64), skipped.Reason);
        Assert.Equal(3, result.Pairs.Count); // every pair of the three realistic models
        var semi = result.Models.Single(m => m.Model == "knn_semi");
        Assert.NotNull(semi.LabelerOnlyTestMacroF1);
        Assert.Contains("scan-and-dial", semi.UntestedProfiles);
        Assert.DoesNotContain("scan-and-dial", semi.PerProfile.Keys); // untested profiles are never averaged in

        var md = File.ReadAllText(report);
        Assert.Contains("## realistic", md);
        Assert.Contains("whole episodes", md);
        Assert.Contains("Untested profiles", md);
        Assert.Contains("Skipped artifacts", md);
        foreach (var png in Directory.GetFiles(outDir, "*.png"))
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(png)[..4]);
        Assert.Equal(5, Directory.GetFiles(outDir, "*.png").Length); // three confusion matrices, a macro-F1 chart, an importance chart

        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "knn_realistic_k3_eval.json")));
        var f1 = json.RootElement.GetProperty("evaluation").GetProperty("test_macro_f1");
        Assert.True(f1.GetProperty("low").GetDouble() <= f1.GetProperty("value").GetDouble());
        Assert.True(f1.GetProperty("value").GetDouble() <= f1.GetProperty("high").GetDouble());

        var csv = File.ReadAllLines(Path.Combine(outDir, "knn_realistic_k3_predictions.csv"));
        Assert.Equal("window_id,episode_id,host,profile,true_label,pred_label,p_clean,p_armed,p_infecting,p_infected_running,t_start_ns", csv[0]);
        Assert.Equal(result.Models.Single(m => m.Name == "knn_realistic_k3").TestWindows, csv.Length - 1);
        // The CSV reproduces the reported figure with another tool's arithmetic.
        var rows = csv.Skip(1).Select(l => l.Split(',')).ToList();
        var classes = Data.Labels.Classes;
        var recomputed = Metrics.MacroF1(rows.Select(r => Data.Labels.IndexOf(r[4])).ToArray(), rows.Select(r => Data.Labels.IndexOf(r[5])).ToArray(), classes.Count);
        Assert.Equal(result.Models.Single(m => m.Name == "knn_realistic_k3").TestMacroF1.Value, recomputed, 12);
    }

    [Fact]
    public void Models_trained_on_different_data_sets_are_not_ranked_together_unless_asked_and_a_job_never_trains_on_the_wrong_data()
    {
        var episodes = Path.Combine(_dir, "episodes");
        var features = Path.Combine(_dir, "features");
        SyntheticEpisodes.Generate(episodes, 40, 5);
        DataBuilder.Build(new BuildOptions(episodes, features, new WindowSettings()));
        var dataSet = Cis490.Shared.DataSets.DataSetContent.Hash(features);
        var a = Train(features, "knn", "realistic", "{\"k\":3}");
        var b = Train(features, "knn", "realistic", "{\"k\":15}");
        Assert.Equal(dataSet, Checkpoint.Load(a).Lineage.DataSet);
        // As if b had been trained on another build of the data.
        var other = new string('e', 64);
        var ckptPath = Path.Combine(b, Checkpoint.FileName);
        File.WriteAllText(ckptPath, File.ReadAllText(ckptPath).Replace(dataSet, other));

        var refused = Assert.Throws<InvalidDataException>(() =>
            Evaluator.Evaluate(Path.Combine(_dir, "artifacts"), features, Path.Combine(_dir, "r1"), ResampleUnit.Episodes, 50, 1));
        Assert.Contains("2 different data sets", refused.Message);
        Assert.Contains($"1 on {other}", refused.Message);
        Assert.Contains("--allow-mixed-data", refused.Message);

        var mixed = Evaluator.Evaluate(Path.Combine(_dir, "artifacts"), features, Path.Combine(_dir, "r2"), ResampleUnit.Episodes, 50, 1, allowMixedData: true);
        Assert.Equal(2, mixed.Models.Select(m => m.Group).Distinct().Count()); // each data set's models ranked apart
        Assert.Empty(mixed.Pairs);
        Assert.Equal(dataSet, mixed.EvaluatedOn);
        var md = File.ReadAllText(ComparisonReport.Write(mixed, Path.Combine(_dir, "r2")));
        Assert.Contains($"evaluated on `{dataSet}`", md);
        Assert.Contains($"`{other}` (1 model)", md);

        var wrong = Assert.Throws<InvalidDataException>(() => TrainerRunner.Run(
            new TrainRequest("job", 1, "knn", "oracle", "{}", "host", ["elliott-thinkpad"], 0, features, Path.Combine(_dir, "x"), null, other), _ => { }));
        Assert.Contains($"is bound to data set {other}, but {features} holds data set {dataSet}", wrong.Message);
    }
}
