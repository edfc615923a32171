using System.Text;
using System.Text.Json;

namespace Cis490.Training.Evaluation;

/// <summary>The report's research sections: how many paired differences are significant, per-host beside train normalisation,
/// and what each model's predictions rest on (permutation and gain importance, with a chart).</summary>
public static partial class ComparisonReport
{
    private static void AppendSignificance(StringBuilder md, EvaluationResult result, IReadOnlyList<ModelEvaluation> models)
    {
        var names = models.Select(m => m.Name).ToHashSet();
        var pairs = result.Pairs.Where(p => names.Contains(p.A) && names.Contains(p.B)).ToList();
        if (pairs.Count == 0) return;
        var significant = pairs.Where(p => p.Difference.ExcludesZero).OrderByDescending(p => Math.Abs(p.Difference.Value)).ToList();
        md.AppendLine($"{significant.Count} of {pairs.Count} paired differences exclude 0" +
                      (significant.Count == 0 ? "." : "; the largest: " +
                          string.Join("; ", significant.Take(5).Select(p => $"{p.A} − {p.B} = {p.Difference}")) + ".")).AppendLine();
    }

    /// <summary>Models that differ only in <c>normalise</c>: train and per_host side by side, with the paired difference.</summary>
    private static void AppendNormalisation(StringBuilder md, EvaluationResult result, IReadOnlyList<ModelEvaluation> models)
    {
        var rows = new List<string>();
        foreach (var byBase in models.GroupBy(m => (m.Model, Base: BaseHyper(m.Hyper))).OrderBy(g => g.Key.Model, StringComparer.Ordinal))
        {
            var train = byBase.FirstOrDefault(m => m.Normalise == "train");
            var perHost = byBase.FirstOrDefault(m => m.Normalise == "per_host");
            if (train is null || perHost is null) continue;
            var d = Difference(result, perHost.Name, train.Name);
            var text = d?.ToString() ?? "n/a";
            rows.Add($"| {byBase.Key.Model} | `{byBase.Key.Base}` | {train.TestMacroF1} | {perHost.TestMacroF1} | {(d is { ExcludesZero: true } ? $"**{text}**" : text)} | " +
                     $"{F(train.ValMacroF1)} → {F(perHost.ValMacroF1)} |");
        }
        if (rows.Count == 0) return;
        md.AppendLine("Normalisation, train beside per_host (each host z-scored on its own windows, no labels); paired bootstrap per_host − train:").AppendLine();
        md.AppendLine("| model | hyper | test macro F1, train | test macro F1, per_host | per_host − train [95 % CI] | val macro F1 |");
        md.AppendLine("|---|---|---|---|---|---|");
        foreach (var r in rows) md.AppendLine(r);
        md.AppendLine();
    }

    /// <summary>Per model: permutation importance of each channel on the validation split, XGBoost's gain; and a chart.</summary>
    private static void AppendExplanations(StringBuilder md, string outDir, string group, IReadOnlyList<ModelEvaluation> models)
    {
        var explained = models.Where(m => m.Explanation is not null).ToList();
        if (explained.Count == 0) return;
        var channels = explained.SelectMany(m => m.Explanation!.Permutation.Select(p => p.Channel)).Distinct().Order(StringComparer.Ordinal).ToList();
        var chart = $"importance_{Slug(group)}.png";
        Charts.Importance(Path.Combine(outDir, chart), $"{group}\npermutation importance (validation macro F1 lost)", explained, channels);
        md.AppendLine("What the models rest on: validation macro F1 lost when one channel is shuffled across the validation windows " +
                      "(permutation importance, paired bootstrap 95 % CI; **bold** where it excludes 0).").AppendLine();
        md.AppendLine($"![permutation importance]({chart})").AppendLine();
        md.AppendLine("| model | val macro F1 | " + string.Join(" | ", channels) + " |");
        md.AppendLine("|---|---|" + string.Concat(channels.Select(_ => "---|")));
        foreach (var m in explained)
        {
            var byChannel = m.Explanation!.Permutation.ToDictionary(p => p.Channel, p => p.Drop);
            md.AppendLine($"| {m.Name} | {F(m.Explanation.ValMacroF1)} | " + string.Join(" | ", channels.Select(c =>
                byChannel.TryGetValue(c, out var d) ? (d.ExcludesZero ? $"**{d}**" : d.ToString()) : "")) + " |");
        }
        md.AppendLine();
        foreach (var m in explained.Where(m => m.Explanation!.TopGain is { Count: > 0 }))
        {
            var e = m.Explanation!;
            md.AppendLine($"`{m.Name}` XGBoost total gain by channel: " +
                          string.Join(", ", e.GainShareByChannel!.OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Key} {kv.Value:P0}")) +
                          "; top features: " + string.Join(", ", e.TopGain!.Select(g => $"`{g.Feature}` {g.Share:P1}")) + ".").AppendLine();
        }
    }

    private static Estimate? Difference(EvaluationResult result, string a, string b)
    {
        var pair = result.Pairs.FirstOrDefault(p => p.A == a && p.B == b);
        if (pair is not null) return pair.Difference;
        pair = result.Pairs.FirstOrDefault(p => p.A == b && p.B == a);
        return pair is null ? null : new Estimate(-pair.Difference.Value, -pair.Difference.High, -pair.Difference.Low);
    }

    /// <summary>The hyper-parameters without <c>normalise</c>, as canonical text: what a train/per_host pair shares.</summary>
    private static string BaseHyper(JsonElement hyper)
    {
        if (hyper.ValueKind != JsonValueKind.Object) return "{}";
        var rest = hyper.EnumerateObject().Where(p => p.Name != "normalise").OrderBy(p => p.Name, StringComparer.Ordinal)
            .ToDictionary(p => p.Name, p => p.Value);
        return JsonSerializer.Serialize(rest);
    }
}
