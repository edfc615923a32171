using Cis490.Training.Data;
using Cis490.Training.Models;

namespace Cis490.Training.Evaluation;

/// <summary>How much a model leans on one channel: validation macro F1 lost when that channel's values are shuffled across the
/// validation windows (the other channels stay), with a paired bootstrap interval.</summary>
public sealed record ChannelImportance(string Channel, Estimate Drop);

/// <summary>XGBoost's own total gain of one summary feature, and its share of the model's total.</summary>
public sealed record FeatureGain(string Feature, double Gain, double Share);

/// <summary>What a model's predictions rest on: permutation importance per channel on the validation split (every family), and
/// for XGBoost its own gain importance per feature and per channel.</summary>
public sealed record ModelExplanation(
    double ValMacroF1,
    int ValWindows,
    IReadOnlyList<ChannelImportance> Permutation,
    IReadOnlyList<FeatureGain>? TopGain,
    IReadOnlyDictionary<string, double>? GainShareByChannel);

/// <summary>Permutation importance (Breiman's, by channel) and XGBoost gain importance, computed at evaluation.</summary>
public static class Importance
{
    /// <summary>Features of the gain table in the report: the rest are in <c>NAME_eval.json</c>.</summary>
    public const int TopFeatures = 10;

    public static ModelExplanation Explain(ITrainedModel model, ModelData data, ResampleUnit unit, int resamples, int seed)
    {
        var rows = data.Split.Val;
        var truth = rows.Select(r => data.Table.Labels[r]).ToArray();
        var basePred = KnnClassifier.ArgMax(model.PredictProba(data, rows), data.Classes);
        var boot = new Bootstrap(rows.Select(r => data.Table.EpisodeIds[r]).ToList(), unit, resamples, seed);
        var permutation = new List<ChannelImportance>();
        foreach (var channel in data.ColumnChannels)
        {
            // One seeded shuffle per channel: the same permutation for every model, so their importances compare.
            var rng = new Random(unchecked(seed * 31 + StableHash(channel)));
            var shuffled = rows.ToArray();
            rng.Shuffle(shuffled);
            var from = new Dictionary<int, int>(rows.Length);
            for (var i = 0; i < rows.Length; i++) from[rows[i]] = shuffled[i];
            var pred = KnnClassifier.ArgMax(model.PredictProba(data.WithChannelFrom(channel, from), rows), data.Classes);
            permutation.Add(new ChannelImportance(channel, boot.PairedDifference(truth, basePred, pred, data.Classes)));
        }
        IReadOnlyList<FeatureGain>? top = null;
        IReadOnlyDictionary<string, double>? byChannel = null;
        if (model is GbtModel gbt)
        {
            var gain = gbt.TotalGain();
            var total = gain.Values.Sum();
            var all = gain.Select(g => new FeatureGain(data.Columns[g.Key], g.Value, total > 0 ? g.Value / total : 0))
                .OrderByDescending(g => g.Gain).ThenBy(g => g.Feature, StringComparer.Ordinal).ToList();
            top = all.Take(TopFeatures).ToList();
            byChannel = data.ColumnChannels.ToDictionary(c => c, c => all.Where(g => g.Feature.StartsWith(c + ".", StringComparison.Ordinal)).Sum(g => g.Share));
        }
        return new ModelExplanation(Metrics.MacroF1(truth, basePred, data.Classes), rows.Length,
            permutation.OrderByDescending(p => p.Drop.Value).ToList(), top, byChannel);
    }

    private static int StableHash(string s)
    {
        var h = 17;
        foreach (var c in s) h = unchecked(h * 31 + c);
        return h;
    }
}
