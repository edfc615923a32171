using System.Globalization;
using System.Text;
using Cis490.Training.Data;
using Cis490.Training.Models;

namespace Cis490.Training.Runner;

/// <summary>One scored window: who it is, the truth, the prediction, and the probability of each class.</summary>
/// <param name="StartNs">the window's start, as the feature table has it (the episode's clock, ns): a replay orders and places windows by it.</param>
public sealed record Prediction(string WindowId, string EpisodeId, string Host, string Profile, long StartNs, string TrueLabel, string PredictedLabel, float[] Probabilities);

/// <summary>Scores windows with a trained checkpoint (<c>./cis490 predict</c>; evaluation reads the same rows).</summary>
public static class Predictor
{
    public static readonly IReadOnlyList<string> SplitNames = ["test", "val", "train", "all"];

    /// <summary>Seconds the last <see cref="Predict"/> spent scoring (model loaded, data read): what throughput figures use.</summary>
    public static double LastScoringSeconds { get; private set; }

    /// <summary>Loads the checkpoint in <paramref name="modelDir"/>, refuses a data set of another schema, and scores the split's windows.</summary>
    public static IReadOnlyList<Prediction> Predict(string modelDir, string dataDir, string splitName)
    {
        var ckpt = Checkpoint.Load(modelDir);
        var schema = FeatureSchema.Load(dataDir);
        ckpt.EnsureSchema(schema);
        var table = FeatureTable.Load(dataDir);
        var split = Splits.Make(table, ckpt.Split.Recipe, ckpt.Split.TrainHosts.ToHashSet(), ckpt.Split.Seed);
        int[] rows = splitName switch
        {
            "test" => split.Test,
            "val" => split.Val,
            "train" => split.Train,
            "all" => Enumerable.Range(0, table.Rows).ToArray(),
            _ => throw new ArgumentException($"unknown split '{splitName}' (known: {string.Join(", ", SplitNames)})"),
        };
        var data = new ModelData(table, schema, ckpt.Mode, dataDir, split, normalise: ckpt.Normalise);
        var model = ModelFamilies.Get(ckpt.Model).Load(modelDir, ckpt);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var proba = model.PredictProba(data, rows);
        LastScoringSeconds = clock.Elapsed.TotalSeconds;
        var classes = ckpt.Classes.Count;
        var pred = KnnClassifier.ArgMax(proba, classes);
        return rows.Select((r, i) => new Prediction(table.RowIds[r], table.EpisodeIds[r], table.Hosts[r], table.Profiles[r], table.StartNs[r],
            Labels.Classes[table.Labels[r]], ckpt.Classes[pred[i]], proba.AsSpan(i * classes, classes).ToArray())).ToList();
    }

    /// <summary>Writes predictions as CSV: window_id, episode_id, host, profile, true_label, pred_label, p_CLASS per class, then t_start_ns (added last,
    /// so that readers of the earlier columns by position are unaffected).</summary>
    public static void WriteCsv(string path, IReadOnlyList<Prediction> predictions, IReadOnlyList<string> classes)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        using var w = new StreamWriter(path, false, new UTF8Encoding(false)) { NewLine = "\n" };
        w.WriteLine("window_id,episode_id,host,profile,true_label,pred_label," + string.Join(',', classes.Select(c => "p_" + c)) + ",t_start_ns");
        foreach (var p in predictions)
            w.WriteLine($"{p.WindowId},{p.EpisodeId},{p.Host},{p.Profile},{p.TrueLabel},{p.PredictedLabel}," +
                        string.Join(',', p.Probabilities.Select(v => v.ToString("R", CultureInfo.InvariantCulture))) + "," + p.StartNs.ToString(CultureInfo.InvariantCulture));
    }
}
