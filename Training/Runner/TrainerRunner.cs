using System.Diagnostics;
using System.Text.Json;
using Cis490.Shared.Capability;
using Cis490.Shared.DataSets;
using Cis490.Shared.Models;
using Cis490.Training.Data;
using Cis490.Training.Evaluation;
using Cis490.Training.Models;

namespace Cis490.Training.Runner;

/// <summary>Runs one training job: loads the data, splits it, trains the model family, scores validation, writes the checkpoint folder.
/// The test split is never scored here: only <c>eval</c> touches it (whoever tunes sees validation figures only).</summary>
public static class TrainerRunner
{
    /// <summary>Trains <paramref name="request"/> and returns its checkpoint (also written to <c>OutDir</c>).</summary>
    public static Checkpoint Run(TrainRequest request, Action<ProgressReport> progress, CancellationToken cancel = default)
    {
        var started = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        if (!ModelCatalog.TryGet(request.Model, out var model))
            throw new ArgumentException($"job {request.JobId}: unknown model '{request.Model}' (known: {string.Join(", ", ModelCatalog.All.Keys.Order())})");
        var hyper = new HyperValues(model, request.HyperJson);
        var family = ModelFamilies.Get(model.Name);

        progress(new ProgressReport(0, 0, null, null, 0, $"loading {request.DataDir}"));
        // The data is named by its content: a job bound to a data set trains on exactly that one, or not at all.
        var dataSet = DataSetContent.Hash(request.DataDir);
        if (request.DataSet is { } bound && bound != dataSet)
            throw new InvalidDataException($"job {request.JobId} is bound to data set {bound}, but {request.DataDir} holds data set {dataSet}; " +
                                           "the worker must train it on the published data set it was bound to");
        var schema = FeatureSchema.Load(request.DataDir);
        var table = FeatureTable.Load(request.DataDir);
        var split = Splits.Make(table, request.SplitRecipe, request.TrainHosts.ToHashSet(), request.Seed);
        var normalise = hyper.GetString(Normalisation.HyperName);
        var data = new ModelData(table, schema, request.Mode, request.DataDir, split, request.Seed, normalise);
        cancel.ThrowIfCancellationRequested();

        var trained = family.Train(data, hyper, progress, cancel);
        cancel.ThrowIfCancellationRequested();
        var yTrain = split.Train.Select(r => table.Labels[r]).ToArray();
        var yVal = split.Val.Select(r => table.Labels[r]).ToArray();
        var valF1 = Metrics.MacroF1(yVal, KnnClassifier.ArgMax(trained.PredictProba(data, split.Val), data.Classes), data.Classes);
        progress(new ProgressReport(1, 1, null, valF1, clock.Elapsed.TotalSeconds, "validation scored"));
        cancel.ThrowIfCancellationRequested();

        var metrics = new Dictionary<string, double>
        {
            ["train_episodes"] = split.Train.Select(i => table.EpisodeIds[i]).Distinct().Count(),
            ["train_rows"] = split.Train.Length,
            ["val_rows"] = split.Val.Length,
            ["test_rows"] = split.Test.Length,
            ["val_macro_f1"] = valF1,
            ["val_majority_macro_f1"] = Metrics.MajorityBaseline(yTrain, yVal, data.Classes),
            ["train_seconds"] = clock.Elapsed.TotalSeconds,
        };
        foreach (var (key, value) in trained.ExtraMetrics) metrics[key] = value;

        Directory.CreateDirectory(request.OutDir);
        var sidecar = trained.Save(request.OutDir);
        using var hyperDoc = JsonDocument.Parse(request.HyperJson);
        var ckpt = new Checkpoint(
            Checkpoint.CurrentFormat, model.Name, request.Mode, hyperDoc.RootElement.Clone(), schema.Sha256For(request.Mode),
            [.. data.Columns], Labels.Classes, sidecar, metrics,
            new SplitInfo(split.Recipe, split.Description, request.TrainHosts, request.Seed, split.UntestedProfiles, split.ExcludedProfiles),
            new Lineage(request.JobId, request.LeaseId, FeatureTable.DatasetSha256(request.DataDir), MachineProbe.GitCommit(),
                request.Worker, started, DateTimeOffset.UtcNow, dataSet),
            normalise);
        ckpt.Save(request.OutDir);
        progress(new ProgressReport(1, 1, null, valF1, clock.Elapsed.TotalSeconds, "checkpoint written"));
        return ckpt;
    }
}
