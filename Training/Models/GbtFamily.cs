using System.Diagnostics;
using System.Globalization;
using Cis490.Shared.Models;
using Cis490.Training.Evaluation;
using Cis490.Training.Models.Xgb;
using Cis490.Training.Runner;

namespace Cis490.Training.Models;

/// <summary>XGBoost gradient-boosted trees on the summary features (catalog "gbt"), early-stopped on validation mlogloss.</summary>
/// <remarks>Missing features stay NaN: XGBoost learns a default direction for them at every split. Training is deterministic
/// for a given machine (seed 0, hist). The model keeps only the trees up to the best validation round.</remarks>
public sealed class GbtFamily : IModelFamily
{
    public const string SidecarName = "gbt.xgb.json";

    /// <summary>Validation macro F1 is computed (one prediction of the validation rows) every this many rounds.</summary>
    public const int F1EveryRounds = 10;

    public string Name => ModelCatalog.Gbt.Name;

    public ITrainedModel Train(ModelData data, HyperValues hyper, Action<ProgressReport> progress, CancellationToken cancel)
    {
        var clock = Stopwatch.StartNew();
        var rounds = (int)hyper.GetInt("num_boost_round");
        var patience = (int)hyper.GetInt("early_stopping_rounds");
        var classes = data.Classes;
        var cols = data.Columns.Count;
        var (xTrain, yTrain) = data.Summary(data.Split.Train);
        var (xVal, yVal) = data.Summary(data.Split.Val);
        if (yTrain.Length == 0) throw new ArgumentException("gbt: the split has no training rows");

        using var train = XgbMatrix.FromDense(xTrain, yTrain.Length, cols, yTrain);
        // Without validation rows there is nothing to stop on: the train loss is reported and every round is kept.
        var hasVal = yVal.Length > 0;
        using var val = hasVal ? XgbMatrix.FromDense(xVal, yVal.Length, cols, yVal) : null;
        var (evalSet, evalName) = val is null ? (train, "train") : (val, "val");
        using var booster = val is null ? XgbBooster.Create(train) : XgbBooster.Create(train, val);
        Configure(booster, hyper, classes);

        var best = (Iteration: -1, Loss: double.PositiveInfinity);
        var run = 0;
        for (var round = 0; round < rounds; round++)
        {
            cancel.ThrowIfCancellationRequested();
            booster.UpdateOneIter(round, train);
            run = round + 1;
            var loss = ParseMetric(booster.EvalOneIter(round, evalSet, evalName), evalName, "mlogloss");
            if (val is null || loss < best.Loss) best = (round, loss); // strictly better, as XGBoost's own early stopping
            double? f1 = val is not null && run % F1EveryRounds == 0 ? MacroF1(booster.Predict(val, run, out _), yVal, classes) : null;
            progress(new ProgressReport(run, rounds, loss, f1, clock.Elapsed.TotalSeconds,
                $"round {run}: {evalName} mlogloss {loss.ToString("F5", CultureInfo.InvariantCulture)}"));
            if (round - best.Iteration >= patience) break;
        }
        if (best.Iteration < 0) throw new XgbException($"gbt: {evalName} mlogloss was not a number in any of {run} rounds");

        var kept = booster.Slice(0, best.Iteration + 1);
        var metrics = new Dictionary<string, double>
        {
            ["best_iteration"] = best.Iteration,
            [$"best_{evalName}_mlogloss"] = best.Loss,
            ["trees"] = (best.Iteration + 1) * classes,
            ["rounds_run"] = run,
        };
        // XGBoost's Python package reads these two attributes back as Booster.best_iteration / best_score.
        kept.SetAttr("best_iteration", best.Iteration.ToString(CultureInfo.InvariantCulture));
        kept.SetAttr("best_score", best.Loss.ToString("R", CultureInfo.InvariantCulture));
        kept.SetAttr(RoundsRunAttr, run.ToString(CultureInfo.InvariantCulture));
        var model = new GbtModel(kept, metrics);
        double? finalF1 = val is null ? null : MacroF1(kept.Predict(val, 0, out _), yVal, classes);
        var stopped = run < rounds ? $"early stop after round {run}" : $"all {run} rounds run";
        progress(new ProgressReport(run, run, best.Loss, finalF1, clock.Elapsed.TotalSeconds,
            $"{stopped}; kept rounds 1..{best.Iteration + 1} ({metrics["trees"]} trees), {evalName} mlogloss {best.Loss.ToString("F5", CultureInfo.InvariantCulture)}"));
        return model;
    }

    public ITrainedModel Load(string dir, Checkpoint checkpoint)
    {
        var path = Path.Combine(dir, checkpoint.Sidecar);
        if (!File.Exists(path)) throw new FileNotFoundException($"no gbt model {checkpoint.Sidecar} in {dir}", path);
        var booster = XgbBooster.Load(path);
        try
        {
            var metrics = new Dictionary<string, double> { ["trees"] = (double)booster.BoostedRounds * checkpoint.Classes.Count };
            if (booster.GetAttr("best_iteration") is { } bestIteration) metrics["best_iteration"] = ParseNumber(bestIteration);
            if (booster.GetAttr("best_score") is { } bestScore) metrics["best_val_mlogloss"] = ParseNumber(bestScore);
            if (booster.GetAttr(RoundsRunAttr) is { } roundsRun) metrics["rounds_run"] = ParseNumber(roundsRun);
            return new GbtModel(booster, metrics);
        }
        catch
        {
            booster.Dispose();
            throw;
        }
    }

    private const string RoundsRunAttr = "cis490_rounds_run";

    private static void Configure(XgbBooster booster, HyperValues hyper, int classes)
    {
        booster.SetParam("objective", "multi:softprob");
        booster.SetParam("num_class", classes);
        booster.SetParam("tree_method", "hist");
        booster.SetParam("eval_metric", "mlogloss");
        booster.SetParam("max_depth", hyper.GetInt("max_depth"));
        booster.SetParam("eta", hyper.GetFloat("eta"));
        booster.SetParam("subsample", hyper.GetFloat("subsample"));
        booster.SetParam("colsample_bytree", hyper.GetFloat("colsample_bytree"));
        booster.SetParam("min_child_weight", hyper.GetFloat("min_child_weight"));
        booster.SetParam("lambda", hyper.GetFloat("lambda"));
        booster.SetParam("max_bin", hyper.GetInt("max_bin"));
        booster.SetParam("seed", 0L);
        booster.SetParam("nthread", Environment.ProcessorCount);
    }

    /// <summary>Reads "name-metric:value" out of XGBoost's evaluation line "[3]\tval-mlogloss:0.1234".</summary>
    internal static double ParseMetric(string line, string name, string metric)
    {
        var key = $"{name}-{metric}:";
        foreach (var part in line.Split('\t'))
            if (part.StartsWith(key, StringComparison.Ordinal) &&
                double.TryParse(part.AsSpan(key.Length), NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
                return value;
        throw new XgbException($"no {key} value in XGBoost's evaluation line '{line}'");
    }

    private static double ParseNumber(string text) => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);

    private static double MacroF1(float[] proba, int[] truth, int classes) => Metrics.MacroF1(truth, KnnClassifier.ArgMax(proba, classes), classes);
}

/// <summary>A trained or loaded XGBoost model: predicts class probabilities and saves XGBoost's JSON model.</summary>
public sealed class GbtModel : ITrainedModel, IDisposable
{
    private readonly XgbBooster _booster;
    private readonly int _features;

    internal GbtModel(XgbBooster booster, IReadOnlyDictionary<string, double> metrics)
    {
        _booster = booster;
        _features = booster.Features;
        ExtraMetrics = metrics;
    }

    public IReadOnlyDictionary<string, double> ExtraMetrics { get; }

    public float[] PredictProba(ModelData data, IReadOnlyList<int> rows)
    {
        if (data.Columns.Count != _features)
            throw new InvalidDataException($"this gbt model reads {_features} columns; the {data.Mode} data has {data.Columns.Count}");
        if (rows.Count == 0) return [];
        var (x, _) = data.Summary(rows);
        using var matrix = XgbMatrix.FromDense(x, rows.Count, _features);
        var proba = _booster.Predict(matrix, 0, out var classes);
        if (classes != data.Classes) throw new InvalidDataException($"this gbt model has {classes} classes; the data has {data.Classes}");
        return proba;
    }

    /// <summary>XGBoost's total gain of each column index (columns no tree splits on are absent).</summary>
    public IReadOnlyDictionary<int, double> TotalGain() => _booster.FeatureScore("total_gain");

    public string Save(string dir)
    {
        _booster.Save(Path.Combine(dir, GbtFamily.SidecarName));
        return GbtFamily.SidecarName;
    }

    public void Dispose() => _booster.Dispose();
}
