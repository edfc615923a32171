using System.Text.Json;
using Cis490.Training.Data;
using Cis490.Training.Evaluation;
using Cis490.Training.Models;
using Cis490.Training.Runner;
using Xunit.Abstractions;

namespace Cis490.Training.Neural.Tests;

/// <summary>Every neural family on a small synthetic build: it learns, it saves and loads, it is reproducible, it keeps its best
/// epoch, and it reads the missingness mask.</summary>
[Collection(NeuralCollection.Name)]
public sealed class FamilyTests(NeuralFixture fixture, ITestOutputHelper output)
{
    public static TheoryData<string> Families => [.. NeuralFixture.Families];

    public static TheoryData<string, string> FamiliesAndModes
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (var family in NeuralFixture.Families)
                foreach (var mode in new[] { "realistic", "oracle" }) data.Add(family, mode);
            return data;
        }
    }

    private float[] ValProba(ITrainedModel model, string mode) => model.PredictProba(fixture.Data(mode), fixture.Split.Val);

    private double ValMacroF1(ITrainedModel model, string mode) =>
        Metrics.MacroF1(fixture.Labels(fixture.Split.Val), KnnClassifier.ArgMax(ValProba(model, mode), Labels.Classes.Count), Labels.Classes.Count);

    [Theory]
    [MemberData(nameof(FamiliesAndModes))]
    public void Each_family_beats_the_majority_baseline_on_validation_in_each_mode(string family, string mode)
    {
        var trained = fixture.Train(family, mode);
        var classes = Labels.Classes.Count;
        var f1 = ValMacroF1(trained.Model, mode);
        var majority = Metrics.MajorityBaseline(fixture.Labels(fixture.Split.Train), fixture.Labels(fixture.Split.Val), classes);
        output.WriteLine($"{family}/{mode}: trained in {trained.Elapsed.TotalSeconds:F1} s, {trained.Model.ExtraMetrics["epochs_run"]} epochs, " +
                         $"{trained.Model.ExtraMetrics["parameters"]} parameters; val macro F1 {f1:F3} (majority {majority:F3})");
        Assert.True(f1 > majority, $"{family}/{mode}: val macro F1 {f1:F3} does not beat the majority baseline {majority:F3}");
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void A_saved_model_loads_and_predicts_the_same_probabilities(string family)
    {
        using var tmp = new TempDir();
        var trained = fixture.Train(family, "realistic");
        var sidecar = trained.Model.Save(tmp.Path);
        Assert.Equal($"{family}.state.bin", sidecar);
        Assert.True(File.Exists(tmp.Combine($"{family}.norm.json")));

        NeuralFamilies.Register();
        using var hyper = JsonDocument.Parse(NeuralFixture.HyperJson(family));
        var ckpt = new Checkpoint(Checkpoint.CurrentFormat, family, "realistic", hyper.RootElement.Clone(), "schema", [], Labels.Classes, sidecar,
            trained.Model.ExtraMetrics, new SplitInfo("host", "", [], 0, [], []), new Lineage("job", 1, "", "", null, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch));
        var loaded = ModelFamilies.Get(family).Load(tmp.Path, ckpt);

        Assert.IsType<NeuralModel>(loaded);
        Assert.Equal(ValProba(trained.Model, "realistic"), ValProba(loaded, "realistic"));
        Assert.Equal(trained.Model.ExtraMetrics["best_epoch"], loaded.ExtraMetrics["best_epoch"]);
        (loaded as IDisposable)?.Dispose();
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void Training_twice_with_the_same_seed_gives_identical_probabilities(string family)
    {
        var first = fixture.Train(family, "realistic");
        var again = fixture.TrainNew(family, "realistic");
        try
        {
            Assert.Equal(first.Reports.Select(r => r.Loss), again.Reports.Select(r => r.Loss));
            Assert.Equal(ValProba(first.Model, "realistic"), ValProba(again.Model, "realistic"));
        }
        finally
        {
            (again.Model as IDisposable)?.Dispose();
        }
    }

    [Theory]
    [InlineData("mlp")]
    [InlineData("gru")]
    public void A_model_refuses_data_of_another_mode_and_says_so(string family)
    {
        var model = fixture.Train(family, "realistic").Model;
        var error = Assert.Throws<InvalidDataException>(() => model.PredictProba(fixture.Data("oracle"), fixture.Split.Val));
        Assert.Contains("realistic", error.Message);
        Assert.Contains("oracle", error.Message);
    }

    [Fact]
    public void Another_seed_gives_other_weights()
    {
        var first = fixture.Train("mlp", "realistic");
        var other = fixture.TrainNew("mlp", "realistic", seed: 7);
        try
        {
            Assert.NotEqual(ValProba(first.Model, "realistic"), ValProba(other.Model, "realistic"));
        }
        finally
        {
            (other.Model as IDisposable)?.Dispose();
        }
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void The_model_keeps_the_weights_of_its_best_validation_epoch(string family)
    {
        var trained = fixture.Train(family, "realistic");
        var epochs = trained.Reports.Where(r => r.Epoch > 0).ToList();
        var best = (int)trained.Model.ExtraMetrics["best_epoch"];

        Assert.Equal(epochs.Count, (int)trained.Model.ExtraMetrics["epochs_run"]);
        Assert.InRange(epochs.Count, 1, 6);
        Assert.Equal(epochs.Max(r => r.ValMacroF1), epochs[best - 1].ValMacroF1);
        Assert.Equal(epochs[best - 1].ValMacroF1, ValMacroF1(trained.Model, "realistic"));
        Assert.True(trained.Model.ExtraMetrics["parameters"] > 0);
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void Each_epoch_reports_its_train_loss_and_validation_macro_f1(string family)
    {
        var epochs = fixture.Train(family, "realistic").Reports.Where(r => r.Epoch > 0).ToList();

        Assert.Equal(Enumerable.Range(1, epochs.Count), epochs.Select(r => r.Epoch));
        Assert.All(epochs, r => Assert.Equal(6, r.TotalEpochs));
        Assert.All(epochs, r => Assert.True(r.Loss is > 0 and < 10, $"loss {r.Loss}"));
        Assert.All(epochs, r => Assert.InRange(r.ValMacroF1 ?? -1, 0, 1));
        Assert.Equal(epochs.Select(r => r.ElapsedSeconds).Order(), epochs.Select(r => r.ElapsedSeconds));
        Assert.True(epochs[^1].Loss < epochs[0].Loss, $"{family}: train loss went from {epochs[0].Loss} to {epochs[^1].Loss}");
    }

    [Theory]
    [InlineData("cnn")]
    [InlineData("gru")]
    [InlineData("lstm")]
    [InlineData("transformer")]
    public void A_sequence_model_reads_the_mask_so_a_missing_channel_is_not_a_channel_at_its_mean(string family)
    {
        // netflow at exactly its training mean standardises to 0, as a missing cell does: only the mask channel tells them apart.
        var model = (NeuralModel)fixture.Train(family, "realistic").Model;
        var data = fixture.Data("realistic");
        var rows = fixture.Split.Val.Take(40).ToArray();
        var channel = model.Sidecar.Features.ToList().IndexOf("netflow.bytes");
        Assert.True(channel >= 0, "realistic mode has netflow");

        TensorBatch Batch(byte mask)
        {
            var batch = data.Tensors(rows);
            for (var r = 0; r < batch.Rows; r++)
                for (var t = 0; t < batch.Steps; t++)
                {
                    var at = (r * batch.Channels + channel) * batch.Steps + t;
                    (batch.X[at], batch.Mask[at]) = (model.Sidecar.Mean[channel], mask);
                }
            return batch;
        }

        var observed = model.PredictProba(Batch(1));
        var missing = model.PredictProba(Batch(0));
        var change = observed.Zip(missing, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(change > 1e-4, $"{family}: flipping netflow's mask changed no probability by more than {change}");
    }

    [Fact]
    public void The_mlp_reads_its_missingness_indicators_so_a_missing_feature_is_not_a_feature_at_its_mean()
    {
        var model = (NeuralModel)fixture.Train("mlp", "realistic").Model;
        var features = model.Sidecar.Features.Count;
        var netflow = Enumerable.Range(0, features).Where(f => model.Sidecar.Features[f].StartsWith("netflow.", StringComparison.Ordinal)).ToArray();
        Assert.NotEmpty(netflow);
        var (x, y) = fixture.Data("realistic").Summary(fixture.Split.Val.Take(40).ToArray());
        var atMean = (float[])x.Clone();
        var missing = (float[])x.Clone();
        for (var r = 0; r < y.Length; r++)
            foreach (var f in netflow) (atMean[r * features + f], missing[r * features + f]) = (model.Sidecar.Mean[f], float.NaN);

        var a = model.PredictProba(new SummaryRows(atMean, y, model.Sidecar.Norm));
        var b = model.PredictProba(new SummaryRows(missing, y, model.Sidecar.Norm));
        Assert.True(a.Zip(b, (p, q) => Math.Abs(p - q)).Max() > 1e-4, "the missingness indicators changed nothing");
    }
}
