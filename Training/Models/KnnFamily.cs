using Cis490.Shared.Models;
using Cis490.Training.Runner;

namespace Cis490.Training.Models;

/// <summary><c>knn</c>: brute-force KNN on the mode's summary features. Its "training" is storing the rows; its cost is scoring.</summary>
public sealed class KnnFamily : IModelFamily
{
    public const string SidecarFile = "knn_sidecar.bin";

    public string Name => "knn";

    public ITrainedModel Train(ModelData data, HyperValues hyper, Action<ProgressReport> progress, CancellationToken cancel)
    {
        var (x, y) = data.Summary(data.Split.Train);
        var knn = KnnClassifier.Fit(x, y, data.Columns.Count, data.Classes, (int)hyper.GetInt("k"), hyper.GetString("weights") == "distance");
        return new KnnModel(knn, SidecarFile, progress);
    }

    public ITrainedModel Load(string dir, Checkpoint checkpoint) =>
        new KnnModel(KnnClassifier.Load(Path.Combine(dir, checkpoint.Sidecar)), checkpoint.Sidecar, null);
}

/// <summary>A fitted KNN: scores rows of the mode's summary features, reporting progress as it goes (scoring is its slow part).</summary>
public sealed class KnnModel(KnnClassifier knn, string sidecar, Action<ProgressReport>? progress) : ITrainedModel
{
    private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();

    public KnnClassifier Classifier => knn;

    public float[] PredictProba(ModelData data, IReadOnlyList<int> rows)
    {
        var (x, _) = data.Summary(rows);
        return knn.PredictProba(x, done =>
            progress?.Invoke(new ProgressReport(done, rows.Count, null, null, _clock.Elapsed.TotalSeconds, $"scoring {rows.Count} windows")));
    }

    public string Save(string dir)
    {
        knn.Save(Path.Combine(dir, sidecar));
        return sidecar;
    }

    public IReadOnlyDictionary<string, double> ExtraMetrics => new Dictionary<string, double> { ["train_rows_stored"] = knn.TrainRows };
}
