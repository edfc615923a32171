using Cis490.Shared.Models;
using Cis490.Training.Evaluation;
using Cis490.Training.Runner;

namespace Cis490.Training.Models;

/// <summary><c>knn_semi</c>: Yarowsky-style self-training. The training rows are split by a hash of their row index into labelled
/// (<c>label_frac</c>) and unlabelled; a labeller KNN fitted on the labelled rows predicts the unlabelled ones; those whose top-class
/// probability is at least <c>confidence_threshold</c> become pseudo-labelled; the final KNN is fitted on labelled + pseudo-labelled
/// rows. Both classifiers are saved, so evaluation can compare the labeller alone with the whole pipeline.</summary>
public sealed class KnnSemiFamily : IModelFamily
{
    public const string FinalFile = "knn_semi_final.bin";
    public const string LabelerFile = "knn_semi_labeler.bin";

    public string Name => "knn_semi";

    /// <summary>Whether table row <paramref name="row"/> keeps its label: a splitmix64 hash of the row index, uniform in [0, 1).</summary>
    public static bool IsLabelled(int row, double labelFrac)
    {
        var z = (ulong)row + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (z >> 11) * (1.0 / (1UL << 53)) < labelFrac;
    }

    public ITrainedModel Train(ModelData data, HyperValues hyper, Action<ProgressReport> progress, CancellationToken cancel)
    {
        var k = (int)hyper.GetInt("k");
        var weighted = hyper.GetString("weights") == "distance";
        var labelFrac = hyper.GetFloat("label_frac");
        var threshold = hyper.GetFloat("confidence_threshold");
        var labelled = data.Split.Train.Where(r => IsLabelled(r, labelFrac)).ToArray();
        var unlabelled = data.Split.Train.Where(r => !IsLabelled(r, labelFrac)).ToArray();
        if (labelled.Length == 0) throw new InvalidDataException($"knn_semi: label_frac {labelFrac} leaves no labelled training row");

        var dims = data.Columns.Count;
        var (xl, yl) = data.Summary(labelled);
        var labeler = KnnClassifier.Fit(xl, yl, dims, data.Classes, k, weighted);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (xu, yuTrue) = data.Summary(unlabelled);
        var proba = unlabelled.Length == 0 ? [] : labeler.PredictProba(xu, done =>
            progress(new ProgressReport(done, unlabelled.Length, null, null, clock.Elapsed.TotalSeconds, "pseudo-labelling")));
        cancel.ThrowIfCancellationRequested();
        var (keep, pseudo) = SelectConfident(proba, data.Classes, threshold);

        // Final classifier: labelled rows with their labels, then the kept unlabelled rows with their pseudo-labels.
        var x = new float[(labelled.Length + keep.Count) * dims];
        var y = new int[labelled.Length + keep.Count];
        Array.Copy(xl, x, xl.Length);
        Array.Copy(yl, y, yl.Length);
        for (var i = 0; i < keep.Count; i++)
        {
            Array.Copy(xu, keep[i] * dims, x, (labelled.Length + i) * dims, dims);
            y[labelled.Length + i] = pseudo[i];
        }
        var final = KnnClassifier.Fit(x, y, dims, data.Classes, k, weighted);

        var correct = keep.Select((u, i) => pseudo[i] == yuTrue[u] ? 1 : 0).Sum();
        var (xv, yv) = data.Summary(data.Split.Val);
        var labelerVal = Metrics.MacroF1(yv, KnnClassifier.ArgMax(labeler.PredictProba(xv), data.Classes), data.Classes);
        var extra = new Dictionary<string, double>
        {
            ["labelled_rows"] = labelled.Length,
            ["unlabelled_rows"] = unlabelled.Length,
            ["pseudo_labels_kept"] = keep.Count,
            ["pseudo_label_accuracy"] = keep.Count == 0 ? double.NaN : (double)correct / keep.Count,
            ["labeler_val_macro_f1"] = labelerVal,
        };
        return new KnnSemiModel(labeler, final, extra, progress);
    }

    /// <summary>The unlabelled rows whose top-class probability is at least the threshold, with that class as pseudo-label.</summary>
    public static (List<int> Keep, List<int> PseudoLabels) SelectConfident(float[] proba, int classes, double threshold)
    {
        var keep = new List<int>();
        var labels = new List<int>();
        var argmax = KnnClassifier.ArgMax(proba, classes);
        for (var r = 0; r < argmax.Length; r++)
        {
            if (proba[r * classes + argmax[r]] < threshold) continue;
            keep.Add(r);
            labels.Add(argmax[r]);
        }
        return (keep, labels);
    }

    public ITrainedModel Load(string dir, Checkpoint checkpoint) =>
        new KnnSemiModel(KnnClassifier.Load(Path.Combine(dir, LabelerFile)), KnnClassifier.Load(Path.Combine(dir, FinalFile)),
            new Dictionary<string, double>(), null);
}

/// <summary>A trained knn_semi: the final classifier scores; the labeller is kept beside it.</summary>
public sealed class KnnSemiModel(KnnClassifier labeler, KnnClassifier final, IReadOnlyDictionary<string, double> extra, Action<ProgressReport>? progress)
    : ITrainedModel
{
    private readonly KnnModel _final = new(final, KnnSemiFamily.FinalFile, progress);

    public KnnClassifier Labeler => labeler;
    public KnnClassifier Final => final;

    public float[] PredictProba(ModelData data, IReadOnlyList<int> rows) => _final.PredictProba(data, rows);

    /// <summary>The labeller alone, for comparing it with the whole pipeline.</summary>
    public float[] PredictProbaLabelerOnly(ModelData data, IReadOnlyList<int> rows) => labeler.PredictProba(data.Summary(rows).X);

    public string Save(string dir)
    {
        labeler.Save(Path.Combine(dir, KnnSemiFamily.LabelerFile));
        return _final.Save(dir);
    }

    public IReadOnlyDictionary<string, double> ExtraMetrics => extra;
}
