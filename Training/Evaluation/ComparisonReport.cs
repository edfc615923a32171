using System.Globalization;
using System.Text;
using System.Text.Json;
using Cis490.Training.Data;

namespace Cis490.Training.Evaluation;

/// <summary>Writes the evaluation: <c>comparison.md</c> (tables per mode, significance, breakdowns, pictures), one
/// <c>NAME_eval.json</c> per model, and the PNG charts. Predictions CSVs are written by the evaluator as it scores.</summary>
public static partial class ComparisonReport
{
    public const string FileName = "comparison.md";

    private static readonly JsonSerializerOptions JsonOut = new(Json.Options) { Converters = { new EstimateConverter() } };

    public static string Write(EvaluationResult result, string outDir)
    {
        Directory.CreateDirectory(outDir);
        foreach (var m in result.Models)
        {
            File.WriteAllText(Path.Combine(outDir, $"{m.Name}_eval.json"), JsonSerializer.Serialize(new
            {
                evaluation = m,
                resample = result.Unit.ToString().ToLowerInvariant(),
                resamples = result.Resamples,
                seed = result.Seed,
                paired = result.Pairs.Where(p => p.A == m.Name || p.B == m.Name),
            }, JsonOut));
            Charts.Confusion(Path.Combine(outDir, $"{m.Name}_confusion.png"), $"{m.Name}: test confusion", m.Confusion, Labels.Classes);
        }

        var md = new StringBuilder();
        md.AppendLine("# Model comparison").AppendLine();
        AppendDataSummary(md, result);
        if (result.EvaluatedOn is { } evaluatedOn)
        {
            var trained = result.Models.GroupBy(m => m.DataSet ?? "unrecorded (checkpoints older than data sets)")
                .Select(g => $"`{g.Key}` ({g.Count()} model{(g.Count() == 1 ? "" : "s")})");
            md.AppendLine($"Data sets: evaluated on `{evaluatedOn}`; trained on {string.Join(", ", trained)}. Models are ranked only against models trained on the same data set.")
              .AppendLine();
        }
        md.AppendLine($"Intervals: 95 % percentile bootstrap, {result.Resamples} resamples of **{(result.Unit == ResampleUnit.Episodes ? "whole episodes" : "windows")}**, seed {result.Seed}." +
                      (result.Unit == ResampleUnit.Windows ? " Windows of one episode are correlated, so these intervals are optimistic; `--resample episodes` gives the honest, wider ones." : ""))
          .AppendLine();

        foreach (var group in result.Models.GroupBy(m => m.Group).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var models = group.OrderByDescending(m => m.TestMacroF1.Value).ToList();
            var chart = $"macro_f1_{Slug(group.Key)}.png";
            Charts.MacroF1(Path.Combine(outDir, chart), group.Key, models);
            md.AppendLine($"## {group.Key}").AppendLine();
            md.AppendLine($"![macro F1 per model]({chart})").AppendLine();
            md.AppendLine("| rank | model | hyper | normalise | test macro F1 [95 % CI] | val macro F1 | val − test | " +
                          string.Join(" | ", Labels.Classes.Select(c => $"F1 {c}")) + " | test windows |");
            md.AppendLine("|---|---|---|---|---|---|---|" + string.Concat(Labels.Classes.Select(_ => "---|")) + "---|");
            for (var i = 0; i < models.Count; i++)
            {
                var m = models[i];
                md.AppendLine($"| {i + 1} | {m.Name} | `{JsonSerializer.Serialize(m.Hyper)}` | {m.Normalise} | {m.TestMacroF1} | {F(m.ValMacroF1)} | {F(m.ValMacroF1 - m.TestMacroF1.Value)} | " +
                              string.Join(" | ", Labels.Classes.Select(c => m.TestClassF1[c].ToString())) + $" | {m.TestWindows} |");
            }
            md.AppendLine();
            var untested = models.SelectMany(m => m.UntestedProfiles).Distinct().Order().ToList();
            md.AppendLine($"Untested profiles (no test windows under this split; not averaged in): {(untested.Count == 0 ? "none" : string.Join(", ", untested))}.").AppendLine();

            if (models.Count > 1)
            {
                md.AppendLine("Paired bootstrap, macro F1(row) − macro F1(column) [95 % CI]; **bold** where the interval excludes 0:").AppendLine();
                md.AppendLine("| | " + string.Join(" | ", models.Select(m => m.Name)) + " |");
                md.AppendLine("|---|" + string.Concat(models.Select(_ => "---|")));
                foreach (var a in models)
                {
                    var cells = models.Select(b =>
                    {
                        if (a == b) return "—";
                        var pair = result.Pairs.FirstOrDefault(p => p.A == a.Name && p.B == b.Name);
                        var sign = 1.0;
                        if (pair is null) { pair = result.Pairs.First(p => p.A == b.Name && p.B == a.Name); sign = -1; }
                        var d = pair.Difference;
                        var text = sign > 0 ? d.ToString() : new Estimate(-d.Value, -d.High, -d.Low).ToString();
                        return d.ExcludesZero ? $"**{text}**" : text;
                    });
                    md.AppendLine($"| {a.Name} | {string.Join(" | ", cells)} |");
                }
                md.AppendLine();
            }

            AppendSignificance(md, result, models);
            AppendNormalisation(md, result, models);
            AppendExplanations(md, outDir, group.Key, models);
            AppendBreakdown(md, "Per profile (test macro F1 [95 % CI])", models, m => m.PerProfile);
            AppendBreakdown(md, "Per host (test macro F1 [95 % CI])", models, m => m.PerHost);
            foreach (var semi in models.Where(m => m.LabelerOnlyTestMacroF1 is not null))
                md.AppendLine($"`{semi.Name}`: labeller alone {semi.LabelerOnlyTestMacroF1} vs the whole self-training pipeline {semi.TestMacroF1} (test macro F1).").AppendLine();
            md.AppendLine("Confusion matrices: " + string.Join(", ", models.Select(m => $"[{m.Name}]({m.Name}_confusion.png)"))).AppendLine();
        }

        if (result.Skipped.Count > 0)
        {
            md.AppendLine("## Skipped artifacts").AppendLine();
            foreach (var s in result.Skipped) md.AppendLine($"* `{s.Source}`: {s.Reason}");
            md.AppendLine();
        }
        md.AppendLine("Predictions behind every figure: `NAME_predictions.csv` (the columns of `./cis490 predict`); every figure: `NAME_eval.json`.");
        var path = Path.Combine(outDir, FileName);
        File.WriteAllText(path, md.ToString());
        return path;
    }

    private static void AppendDataSummary(StringBuilder md, EvaluationResult result)
    {
        if (result.DataSummary is not { } s) return;
        long Get(string name) => s.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt64() : 0;
        md.AppendLine($"Data set: {Get("episodes_used")} episodes ({Get("degraded_episodes")} degraded, {Get("episodes_bad")} skipped as bad), {Get("windows")} windows.");
        if (s.TryGetProperty("windows_per_class", out var perClass))
            md.AppendLine("Windows per class: " + string.Join(", ", perClass.EnumerateObject().Select(p => $"{p.Name} {p.Value.GetInt64()}")) + ".");
        md.AppendLine();
    }

    private static void AppendBreakdown(StringBuilder md, string title, IReadOnlyList<ModelEvaluation> models, Func<ModelEvaluation, IReadOnlyDictionary<string, Estimate>> pick)
    {
        var keys = models.SelectMany(m => pick(m).Keys).Distinct().Order(StringComparer.Ordinal).ToList();
        if (keys.Count == 0) return;
        md.AppendLine($"{title}:").AppendLine();
        md.AppendLine("| model | " + string.Join(" | ", keys) + " |");
        md.AppendLine("|---|" + string.Concat(keys.Select(_ => "---|")));
        foreach (var m in models)
            md.AppendLine($"| {m.Name} | " + string.Join(" | ", keys.Select(k => pick(m).TryGetValue(k, out var e) ? e.ToString() : "")) + " |");
        md.AppendLine();
    }

    private static string F(double v) => double.IsNaN(v) ? "n/a" : v.ToString("F3", CultureInfo.InvariantCulture);

    private static string Slug(string s) => new(s.Select(c => char.IsLetterOrDigit(c) ? char.ToLowerInvariant(c) : '_').ToArray());

    /// <summary>Writes an estimate as {"value", "low", "high"} (NaN as the literal NaN, which the options allow).</summary>
    private sealed class EstimateConverter : System.Text.Json.Serialization.JsonConverter<Estimate>
    {
        public override Estimate Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            throw new NotSupportedException("estimates are written, not read");

        public override void Write(Utf8JsonWriter writer, Estimate value, JsonSerializerOptions options)
        {
            writer.WriteStartObject();
            Number(writer, "value", value.Value);
            Number(writer, "low", value.Low);
            Number(writer, "high", value.High);
            writer.WriteBoolean("excludes_zero", value.ExcludesZero);
            writer.WriteEndObject();
        }

        private static void Number(Utf8JsonWriter w, string name, double v)
        {
            if (double.IsFinite(v)) w.WriteNumber(name, v);
            else w.WriteString(name, v.ToString(CultureInfo.InvariantCulture));
        }
    }
}
