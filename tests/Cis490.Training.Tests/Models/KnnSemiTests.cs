using Cis490.Shared.Models;
using Cis490.Training.Data;
using Cis490.Training.Episodes;
using Cis490.Training.Features;
using Cis490.Training.Models;
using Cis490.Training.Runner;

namespace Cis490.Training.Tests.Models;

/// <summary>knn_semi's self-training rules: the labelled fraction, the confidence threshold, and both classifiers saved.</summary>
public sealed class KnnSemiTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cis490-knnsemi-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public void Pseudo_labels_are_kept_exactly_when_the_top_class_probability_reaches_the_threshold()
    {
        float[] proba =
        [
            0.6f, 0.4f, 0f, 0f,   // exactly at the threshold: kept as class 0
            0.59f, 0.41f, 0f, 0f, // just below: dropped
            0f, 0f, 0.2f, 0.8f,   // kept as class 3
            0.3f, 0.3f, 0.2f, 0.2f, // a tie below the threshold: dropped
        ];

        var (keep, labels) = KnnSemiFamily.SelectConfident(proba, 4, 0.6);

        Assert.Equal([0, 2], keep);
        Assert.Equal([0, 3], labels);
    }

    [Fact]
    public void The_labelled_split_is_a_deterministic_hash_of_the_row_index_close_to_label_frac()
    {
        var labelled = Enumerable.Range(0, 20_000).Count(r => KnnSemiFamily.IsLabelled(r, 0.2));
        var again = Enumerable.Range(0, 20_000).Count(r => KnnSemiFamily.IsLabelled(r, 0.2));

        Assert.Equal(labelled, again);
        Assert.InRange(labelled / 20_000.0, 0.19, 0.21);
        Assert.True(Enumerable.Range(0, 1000).All(r => KnnSemiFamily.IsLabelled(r, 1.0)));
    }

    [Fact]
    public void Training_keeps_the_confident_pseudo_labels_and_saves_labeller_and_final_classifier()
    {
        var episodes = Path.Combine(_dir, "episodes");
        var features = Path.Combine(_dir, "features");
        SyntheticEpisodes.Generate(episodes, 40, 11);
        DataBuilder.Build(new BuildOptions(episodes, features, new WindowSettings()));
        var table = FeatureTable.Load(features);
        var schema = FeatureSchema.Load(features);
        var split = Splits.Make(table, "host", ["elliott-thinkpad"], 0);
        var data = new ModelData(table, schema, "oracle", features, split);
        var hyper = new HyperValues(ModelCatalog.KnnSemi, "{\"k\":5,\"label_frac\":0.3,\"confidence_threshold\":0.7}");

        var model = (KnnSemiModel)new KnnSemiFamily().Train(data, hyper, _ => { }, CancellationToken.None);

        var m = model.ExtraMetrics;
        var labelled = split.Train.Count(r => KnnSemiFamily.IsLabelled(r, 0.3));
        Assert.Equal(labelled, m["labelled_rows"]);
        Assert.Equal(split.Train.Length - labelled, m["unlabelled_rows"]);
        // The final classifier holds the labelled rows plus exactly the confident pseudo-labels.
        var (xu, _) = data.Summary(split.Train.Where(r => !KnnSemiFamily.IsLabelled(r, 0.3)).ToArray());
        var (expectedKeep, _) = KnnSemiFamily.SelectConfident(model.Labeler.PredictProba(xu), data.Classes, 0.7);
        Assert.Equal(expectedKeep.Count, m["pseudo_labels_kept"]);
        Assert.Equal(labelled + expectedKeep.Count, model.Final.TrainRows);

        var sidecar = model.Save(_dir);
        Assert.Equal(KnnSemiFamily.FinalFile, sidecar);
        Assert.True(File.Exists(Path.Combine(_dir, KnnSemiFamily.LabelerFile)));
        var ckpt = new Checkpoint(Checkpoint.CurrentFormat, "knn_semi", "oracle", default, "", [], Labels.Classes, sidecar,
            new Dictionary<string, double>(), new SplitInfo("host", "", ["elliott-thinkpad"], 0, [], []),
            new Lineage("j", 1, "", "", null, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch));
        var loaded = (KnnSemiModel)new KnnSemiFamily().Load(_dir, ckpt);
        Assert.Equal(model.PredictProba(data, split.Val), loaded.PredictProba(data, split.Val));
        Assert.Equal(model.PredictProbaLabelerOnly(data, split.Val), loaded.PredictProbaLabelerOnly(data, split.Val));
    }
}
