using System.Text.Json;
using Cis490.Shared.Artifacts;
using Cis490.Shared.DataSets;
using Cis490.Training.Data;
using Cis490.Training.Models;
using Cis490.Training.Runner;

namespace Cis490.Training.Evaluation;

/// <summary>Everything measured about one model on its split's test windows.</summary>
public sealed record ModelEvaluation(
    string Name,
    string Model,
    string Mode,
    JsonElement Hyper,
    string Source,
    string SplitRecipe,
    IReadOnlyList<string> TrainHosts,
    long SplitSeed,
    double ValMacroF1,
    Estimate TestMacroF1,
    IReadOnlyDictionary<string, Estimate> TestClassF1,
    IReadOnlyDictionary<string, Estimate> PerProfile,
    IReadOnlyDictionary<string, Estimate> PerHost,
    IReadOnlyList<string> UntestedProfiles,
    Estimate? LabelerOnlyTestMacroF1,
    int TestWindows,
    int TestEpisodes,
    int[][] Confusion,
    string? DataSet = null,
    string Normalise = "train",
    ModelExplanation? Explanation = null)
{
    /// <summary>Models compare (paired) only on the same test windows: same mode, split recipe, train hosts and seed, and trained on
    /// the same data set (<paramref name="DataSet"/>, the content hash in its checkpoint; null for one written before data sets).</summary>
    public string Group => $"{Mode} · split {SplitRecipe} (train {string.Join("+", TrainHosts)}, seed {SplitSeed})" +
                           (DataSet is { Length: >= 12 } d ? $" · data set {d[..12]}" : "");
}

/// <summary>An artifact that was not evaluated, and why.</summary>
public sealed record SkippedArtifact(string Source, string Reason);

/// <summary>Paired bootstrap of macro F1(A) − macro F1(B) on the same test windows.</summary>
public sealed record PairedComparison(string A, string B, Estimate Difference);

/// <summary>The whole evaluation: models, skipped artifacts, pairwise comparisons, and how the intervals were computed.</summary>
public sealed record EvaluationResult(
    IReadOnlyList<ModelEvaluation> Models,
    IReadOnlyList<SkippedArtifact> Skipped,
    IReadOnlyList<PairedComparison> Pairs,
    ResampleUnit Unit,
    int Resamples,
    int Seed,
    JsonElement? DataSummary,
    string? EvaluatedOn = null);

/// <summary><c>./cis490 eval</c>: finds the trained models under an artifacts folder (bundles or checkpoint folders), scores each on its
/// split's test windows, and computes macro F1 and per-class F1 with bootstrap CIs, paired comparisons, and per-profile and per-host
/// breakdowns. An artifact whose feature schema does not match the data is reported and skipped.</summary>
public static class Evaluator
{
    /// <param name="allowMixedData">Rank models trained on different data sets in one report (each in its own group); without it
    /// such a folder is refused, naming the data sets: their scores are not comparable.</param>
    public static EvaluationResult Evaluate(string artifactsDir, string dataDir, string outDir, ResampleUnit unit, int resamples, int seed,
        Action<string>? log = null, bool allowMixedData = false)
    {
        var work = Path.Combine(outDir, ".models");
        if (Directory.Exists(work)) Directory.Delete(work, true);
        var sources = Discover(artifactsDir, work, log);
        var schema = FeatureSchema.Load(dataDir);
        var table = FeatureTable.Load(dataDir);
        var models = new List<ModelEvaluation>();
        var skipped = new List<SkippedArtifact>();
        var predictions = new Dictionary<string, int[]>();
        var truths = new Dictionary<string, int[]>();
        var usable = new List<(string Source, string Dir, Checkpoint Ckpt)>();
        foreach (var (source, dir) in sources)
        {
            try
            {
                var ckpt = Checkpoint.Load(dir);
                ckpt.EnsureSchema(schema);
                usable.Add((source, dir, ckpt));
            }
            catch (Exception e) when (e is InvalidDataException or FileNotFoundException or JsonException)
            {
                skipped.Add(new SkippedArtifact(source, e.Message));
                log?.Invoke($"skipped {source}: {e.Message}");
            }
        }
        var trainedOn = usable.GroupBy(u => u.Ckpt.Lineage.DataSet).ToList();
        if (trainedOn.Count > 1 && !allowMixedData)
            throw new InvalidDataException(
                $"the models under {artifactsDir} were trained on {trainedOn.Count} different data sets: " +
                string.Join("; ", trainedOn.Select(g => $"{g.Count()} on {g.Key ?? "an unrecorded data set (a checkpoint older than data sets)"}")) +
                ". Their scores are not comparable; evaluate one data set's models at a time, or pass --allow-mixed-data to rank each data set's models separately in one report");
        var evaluatedOn = DataSetContent.Hash(dataDir);
        foreach (var g in trainedOn.Where(g => g.Key is not null && g.Key != evaluatedOn))
            log?.Invoke($"note: {g.Count()} model(s) were trained on data set {g.Key}, and are evaluated on {evaluatedOn} ({dataDir})");
        // model_mode when it is the only one of its kind; with several hyper-parameter variants each name carries its hyper tag.
        var shared = usable.GroupBy(u => (u.Ckpt.Model, u.Ckpt.Mode)).Where(g => g.Count() > 1).Select(g => g.Key).ToHashSet();
        var names = new HashSet<string>();
        foreach (var (source, dir, ckpt) in usable)
        {
            var name = shared.Contains((ckpt.Model, ckpt.Mode)) ? $"{ckpt.Model}_{ckpt.Mode}_{Short(ckpt.Hyper)}" : $"{ckpt.Model}_{ckpt.Mode}";
            for (var n = 2; !names.Add(name); n++) name = $"{ckpt.Model}_{ckpt.Mode}_{Short(ckpt.Hyper)}_{n}"; // same hyper, other split
            log?.Invoke($"evaluating {name} ({source})");
            var split = Splits.Make(table, ckpt.Split.Recipe, ckpt.Split.TrainHosts.ToHashSet(), ckpt.Split.Seed);
            var data = new ModelData(table, schema, ckpt.Mode, dataDir, split, normalise: ckpt.Normalise);
            var model = ModelFamilies.Get(ckpt.Model).Load(dir, ckpt);
            var rows = split.Test;
            var proba = model.PredictProba(data, rows);
            var pred = KnnClassifier.ArgMax(proba, data.Classes);
            var truth = rows.Select(r => table.Labels[r]).ToArray();
            var boot = new Bootstrap(rows.Select(r => table.EpisodeIds[r]).ToList(), unit, resamples, seed);
            Estimate? labelerOnly = model is KnnSemiModel semi
                ? boot.MacroF1(truth, KnnClassifier.ArgMax(semi.PredictProbaLabelerOnly(data, rows), data.Classes), data.Classes)
                : null;
            models.Add(new ModelEvaluation(
                name, ckpt.Model, ckpt.Mode, ckpt.Hyper, source, ckpt.Split.Recipe, ckpt.Split.TrainHosts, ckpt.Split.Seed,
                ckpt.Metrics.GetValueOrDefault("val_macro_f1", double.NaN),
                boot.MacroF1(truth, pred, data.Classes),
                Labels.Classes.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => boot.ClassF1(truth, pred, data.Classes, x.i)),
                Breakdown(rows, table.Profiles, truth, pred, table, unit, resamples, seed, data.Classes),
                Breakdown(rows, table.Hosts, truth, pred, table, unit, resamples, seed, data.Classes),
                split.UntestedProfiles, labelerOnly, rows.Length, rows.Select(r => table.EpisodeIds[r]).Distinct().Count(),
                Confusion(truth, pred, data.Classes), ckpt.Lineage.DataSet, ckpt.Normalise,
                Importance.Explain(model, data, unit, resamples, seed)));
            predictions[name] = pred;
            truths[name] = truth;
            WritePredictions(outDir, name, rows, table, proba, pred, ckpt);
        }

        var pairs = new List<PairedComparison>();
        foreach (var group in models.GroupBy(m => m.Group))
        {
            var list = group.OrderByDescending(m => m.TestMacroF1.Value).ToList();
            for (var i = 0; i < list.Count; i++)
                for (var j = i + 1; j < list.Count; j++)
                {
                    var test = Splits.Make(table, list[i].SplitRecipe, list[i].TrainHosts.ToHashSet(), list[i].SplitSeed).Test;
                    var boot = new Bootstrap(test.Select(r => table.EpisodeIds[r]).ToList(), unit, resamples, seed);
                    pairs.Add(new PairedComparison(list[i].Name, list[j].Name,
                        boot.PairedDifference(truths[list[i].Name], predictions[list[i].Name], predictions[list[j].Name], Labels.Classes.Count)));
                }
        }
        if (Directory.Exists(work)) Directory.Delete(work, true); // the unpacked bundles; the store keeps the originals
        var summaryPath = Path.Combine(dataDir, Features.BuildSummary.FileName);
        JsonElement? dataSummary = File.Exists(summaryPath) ? JsonDocument.Parse(File.ReadAllText(summaryPath)).RootElement.Clone() : null;
        return new EvaluationResult(models, skipped, pairs, unit, resamples, seed, dataSummary, evaluatedOn);
    }

    /// <summary>Checkpoint folders under <paramref name="dir"/>: bundles are unpacked into <paramref name="work"/>, plain folders used as they are.</summary>
    private static List<(string Source, string Dir)> Discover(string dir, string work, Action<string>? log)
    {
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"artifacts folder {dir} does not exist");
        var found = new List<(string, string)>();
        foreach (var bundle in Directory.EnumerateFiles(dir, ArtifactBundle.FileName, SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var target = Path.Combine(work, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(bundle)))[..16]);
            try
            {
                ArtifactBundle.Extract(bundle, target);
                found.Add((Path.GetRelativePath(dir, bundle), target));
            }
            catch (Exception e) when (e is InvalidDataException or IOException)
            {
                log?.Invoke($"unreadable bundle {bundle}: {e.Message}");
            }
        }
        foreach (var ckpt in Directory.EnumerateFiles(dir, Checkpoint.FileName, SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            if (!Path.GetFullPath(ckpt).StartsWith(Path.GetFullPath(work), StringComparison.Ordinal))
                found.Add((Path.GetRelativePath(dir, Path.GetDirectoryName(ckpt)!), Path.GetDirectoryName(ckpt)!));
        return found;
    }

    private static IReadOnlyDictionary<string, Estimate> Breakdown(int[] rows, string[] key, int[] truth, int[] pred, FeatureTable table,
        ResampleUnit unit, int resamples, int seed, int classes)
    {
        var result = new SortedDictionary<string, Estimate>(StringComparer.Ordinal);
        foreach (var g in Enumerable.Range(0, rows.Length).GroupBy(i => key[rows[i]]))
        {
            var idx = g.ToArray();
            var boot = new Bootstrap(idx.Select(i => table.EpisodeIds[rows[i]]).ToList(), unit, resamples, seed);
            result[g.Key] = boot.MacroF1(idx.Select(i => truth[i]).ToArray(), idx.Select(i => pred[i]).ToArray(), classes);
        }
        return result;
    }

    private static int[][] Confusion(int[] truth, int[] pred, int classes)
    {
        var m = Enumerable.Range(0, classes).Select(_ => new int[classes]).ToArray();
        for (var i = 0; i < truth.Length; i++) m[truth[i]][pred[i]]++;
        return m;
    }

    private static void WritePredictions(string outDir, string name, int[] rows, FeatureTable table, float[] proba, int[] pred, Checkpoint ckpt)
    {
        var classes = ckpt.Classes.Count;
        var list = rows.Select((r, i) => new Prediction(table.RowIds[r], table.EpisodeIds[r], table.Hosts[r], table.Profiles[r], table.StartNs[r],
            Labels.Classes[table.Labels[r]], ckpt.Classes[pred[i]], proba.AsSpan(i * classes, classes).ToArray())).ToList();
        Predictor.WriteCsv(Path.Combine(outDir, $"{name}_predictions.csv"), list, ckpt.Classes);
    }

    /// <summary>A file-name-safe tag of the hyper-parameters, e.g. <c>k25-weights_distance</c>.</summary>
    private static string Short(JsonElement hyper)
    {
        if (hyper.ValueKind != JsonValueKind.Object) return "default";
        var parts = hyper.EnumerateObject().Select(p => p.Name + (p.Value.ValueKind == JsonValueKind.String ? "_" + p.Value.GetString() : p.Value.GetRawText()));
        var tag = string.Join("-", parts);
        return tag.Length == 0 ? "default" : new string(tag.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray());
    }
}
