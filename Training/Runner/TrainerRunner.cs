using System.Diagnostics;
using System.Text.Json;
using Cis490.Shared.Capability;
using Cis490.Shared.Models;
using Cis490.Training.Data;
using Cis490.Training.Evaluation;
using Cis490.Training.Models;

namespace Cis490.Training.Runner;

/// <summary>Runs one training job: loads the data, splits it, trains the model, scores validation and test, writes the checkpoint folder.</summary>
public static class TrainerRunner
{
    /// <summary>Trains <paramref name="request"/> and returns its checkpoint (also written to <c>OutDir</c>).</summary>
    public static Checkpoint Run(TrainRequest request, Action<ProgressReport> progress, CancellationToken cancel = default)
    {
        var started = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        if (!ModelCatalog.TryGet(request.Model, out var model))
            throw new ArgumentException($"job {request.JobId}: unknown model '{request.Model}'");
        var hyper = new HyperValues(model, request.HyperJson);

        progress(new ProgressReport(0, 0, null, null, 0, $"loading {request.DataDir}"));
        var schema = FeatureSchema.Load(request.DataDir);
        var table = FeatureTable.Load(request.DataDir);
        var columns = schema.ColumnsFor(request.Mode);
        var split = Splits.Make(table, request.SplitRecipe, request.TrainHosts.ToHashSet(), request.Seed);
        var (xTrain, yTrain) = table.Select(split.Train, columns);
        var (xVal, yVal) = table.Select(split.Val, columns);
        var (xTest, yTest) = table.Select(split.Test, columns);
        cancel.ThrowIfCancellationRequested();

        Directory.CreateDirectory(request.OutDir);
        var classes = Labels.Classes.Count;
        var metrics = new Dictionary<string, double>
        {
            ["train_episodes"] = split.Train.Select(i => table.EpisodeIds[i]).Distinct().Count(),
            ["train_rows"] = yTrain.Length,
            ["val_rows"] = yVal.Length,
            ["test_rows"] = yTest.Length,
        };
        string sidecar;
        switch (model.Name)
        {
            case "knn":
            {
                var knn = KnnClassifier.Fit(xTrain, yTrain, columns.Count, classes, (int)hyper.GetInt("k"), hyper.GetString("weights") == "distance");
                var total = yVal.Length + yTest.Length;
                var valPred = KnnClassifier.ArgMax(knn.PredictProba(xVal, done =>
                    progress(new ProgressReport(done, total, null, null, clock.Elapsed.TotalSeconds, "predicting validation rows"))), classes);
                var valF1 = Metrics.MacroF1(yVal, valPred, classes);
                cancel.ThrowIfCancellationRequested();
                progress(new ProgressReport(yVal.Length, total, null, valF1, clock.Elapsed.TotalSeconds, "validation scored"));
                var testPred = yTest.Length == 0 ? [] : KnnClassifier.ArgMax(knn.PredictProba(xTest, done =>
                    progress(new ProgressReport(yVal.Length + done, total, null, valF1, clock.Elapsed.TotalSeconds, "predicting test rows"))), classes);
                metrics["val_macro_f1"] = valF1;
                metrics["test_macro_f1"] = yTest.Length == 0 ? double.NaN : Metrics.MacroF1(yTest, testPred, classes);
                metrics["val_majority_macro_f1"] = Metrics.MajorityBaseline(yTrain, yVal, classes);
                sidecar = "knn_sidecar.bin";
                knn.Save(Path.Combine(request.OutDir, sidecar));
                break;
            }
            default:
                throw new NotSupportedException($"job {request.JobId}: model '{model.Name}' is declared but this build has no trainer for it");
        }

        using var hyperDoc = JsonDocument.Parse(request.HyperJson);
        var ckpt = new Checkpoint(
            Checkpoint.CurrentFormat, model.Name, request.Mode, hyperDoc.RootElement.Clone(), schema.Sha256For(request.Mode),
            [.. columns], Labels.Classes, sidecar, metrics,
            new SplitInfo(split.Recipe, split.Description, request.TrainHosts, request.Seed, split.UntestedProfiles, split.ExcludedProfiles),
            new Lineage(request.JobId, request.LeaseId, FeatureTable.DatasetSha256(request.DataDir), CapabilityDetector.GitCommit(),
                request.Worker, started, DateTimeOffset.UtcNow));
        ckpt.Save(request.OutDir);
        progress(new ProgressReport(1, 1, null, metrics["val_macro_f1"], clock.Elapsed.TotalSeconds, "checkpoint written"));
        return ckpt;
    }
}
