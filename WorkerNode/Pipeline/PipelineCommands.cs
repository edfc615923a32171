using Cis490.Shared.Cli;
using Cis490.Shared.Manifest;
using Cis490.Shared.Models;
using Cis490.Training.Data;
using Cis490.Training.Episodes;
using Cis490.Training.Evaluation;
using Cis490.Training.Features;
using Cis490.Training.Runner;
using Cis490.WorkerNode.Cli;

namespace Cis490.WorkerNode.Pipeline;

/// <summary>The data and model commands a person runs without a cluster: <c>data generate</c>, <c>data build</c>, <c>train</c>,
/// <c>predict</c>, <c>eval</c>. Each has a parser (every usage check, nothing run) and a run.</summary>
public static class PipelineCommands
{
    /// <summary>The options of <c>data generate</c>.</summary>
    public sealed record GenerateOptions(string OutDir, int Episodes, int Seed, GeneratorDifficulty Difficulty);

    public static GenerateOptions ParseGenerate(CommandLine c)
    {
        var knobs = new GeneratorDifficulty(c.GetDouble("host-shift"), c.GetDouble("episode-spread"), c.GetDouble("label-noise"),
            c.GetDouble("phase-overlap"), c.GetDouble("oracle-signal"));
        try { knobs = knobs.Validated(); }
        catch (ArgumentOutOfRangeException e)
        {
            // OracleSignal → --oracle-signal: name the option the person typed.
            var option = string.Concat((e.ParamName ?? "").Select((ch, i) => char.IsUpper(ch) ? (i > 0 ? "-" : "") + char.ToLowerInvariant(ch) : ch.ToString()));
            throw new CliException($"--{option}: {e.Message.Split('\n')[0].Trim()}");
        }
        var options = new GenerateOptions(c.Require("out"), c.GetInt("episodes"), c.GetInt("seed"), knobs);
        if (options.Episodes < 1) throw new CliException($"--episodes must be at least 1, got {options.Episodes}");
        return options;
    }

    public static int Generate(GenerateOptions o)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        SyntheticEpisodes.Generate(o.OutDir, o.Episodes, o.Seed, n => Console.Error.WriteLine($"  {n}/{o.Episodes} episodes"), o.Difficulty);
        Console.WriteLine($"wrote {o.Episodes} episodes to {Path.GetFullPath(o.OutDir)} (seed {o.Seed}; {o.Difficulty}) in {clock.Elapsed.TotalSeconds:F1} s");
        return 0;
    }

    /// <summary>The options of <c>data build</c>.</summary>
    public sealed record BuildCommandOptions(BuildOptions Build, double MaxBadFraction);

    public static BuildCommandOptions ParseBuild(CommandLine c)
    {
        var episodes = c.Require("episodes");
        var outDir = c.Require("out");
        var window = c.GetInt("window");
        var stride = c.GetInt("stride");
        var maxBadText = c.Get("max-bad-fraction")!;
        if (!double.TryParse(maxBadText, System.Globalization.CultureInfo.InvariantCulture, out var maxBad) || maxBad is < 0 or > 1)
            throw new CliException($"--max-bad-fraction must be a number between 0 and 1, got '{maxBadText}'");
        if (window < 2 || stride < 1) throw new CliException($"--window must be at least 2 and --stride at least 1 (got {window}, {stride})");
        return new BuildCommandOptions(new BuildOptions(episodes, outDir, new WindowSettings(window, stride), maxBad), maxBad);
    }

    public static int Build(BuildCommandOptions o)
    {
        var outDir = o.Build.OutDir;
        var maxBad = o.MaxBadFraction;
        var summary = DataBuilder.Build(o.Build, Console.Error.WriteLine);
        Console.WriteLine($"{summary.EpisodesUsed}/{summary.EpisodesSeen} episodes used ({summary.DegradedEpisodes} degraded), " +
                          $"{summary.EpisodesBad} skipped, {summary.Windows} windows in {summary.Seconds:F1} s " +
                          $"({summary.EpisodesPerSecond:F0} episodes/s, peak {summary.PeakWorkingSetBytes / 1048576.0:F0} MiB)");
        foreach (var (kind, n) in summary.BadByKind) Console.WriteLine($"  skipped, {kind}: {n}");
        Console.WriteLine($"  windows per class: {string.Join(", ", summary.WindowsPerClass.Select(kv => $"{kv.Key} {kv.Value}"))}");
        Console.WriteLine($"  → {Path.Combine(Path.GetFullPath(outDir), FeatureTable.FileName)}, {FeatureSchema.FileName}, {DataBuilder.TensorsDir}/<host>.npz, {BuildSummary.FileName}");
        if (summary.BadFraction > maxBad)
        {
            Console.Error.WriteLine($"cis490: {summary.EpisodesBad} of {summary.EpisodesSeen} episodes are bad ({summary.BadFraction:P1}), over --max-bad-fraction {maxBad:P1}; see {BuildSummary.FileName}");
            return 1;
        }
        return 0;
    }

    /// <summary>The job id a checkpoint trained by <c>train</c> records in its lineage: it was not leased.</summary>
    public const string LocalJobId = "local";

    /// <summary>Reads <c>train</c>'s options into the request a lease's trainer would get: the hyper-parameters are checked and
    /// made canonical by the manifest's own code, and the train hosts default as a manifest job's do, so the same training
    /// has the same job id here and in a manifest.</summary>
    public static TrainRequest ParseTrain(CommandLine c)
    {
        var model = c.Require("model");
        var mode = c.Require("mode");
        var data = Path.GetFullPath(c.Require("data"));
        var outDir = Path.GetFullPath(c.Require("out"));
        var hyper = c.Get("hyper")!;
        var split = c.Get("split")!;
        var trainHosts = c.Get("train-hosts")!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var seed = c.GetInt("seed");
        if (!ModelCatalog.TryGet(model, out var definition)) throw new CliException($"unknown model '{model}' (known: {string.Join(", ", ModelCatalog.All.Keys)})");
        if (!ModelCatalog.Modes.Contains(mode)) throw new CliException($"unknown mode '{mode}' (known: {string.Join(", ", ModelCatalog.Modes)})");
        if (!ModelCatalog.SplitRecipes.Contains(split)) throw new CliException($"unknown --split '{split}' (known: {string.Join(", ", ModelCatalog.SplitRecipes)})");
        if (trainHosts.Length == 0) throw new CliException("--train-hosts must name at least one host");
        var check = ManifestLoader.CanonicalHyper(definition, hyper);
        if (check.CanonicalJson is null)
            throw new CliException(string.Join("; ", check.Problems.Select(p => p.Key.Length == 0 ? $"--hyper {p.Message}" : $"--hyper ({model}): {p.Message}")));
        return new TrainRequest(LocalJobId, 0, model, mode, check.CanonicalJson, split, trainHosts, seed, data, outDir, null);
    }

    public static int Train(TrainRequest request) => ReportingDataErrors("train", () =>
    {
        var ckpt = TrainerRunner.Run(request, p => Console.Error.Write($"\r{p.Message} {p.Epoch}/{p.TotalEpochs}   "));
        Console.Error.WriteLine();
        Console.WriteLine($"{request.Model}/{request.Mode}: val macro F1 {ckpt.Metrics["val_macro_f1"]:F3} (normalise {ckpt.Normalise}; the test split is scored only by eval) → {request.OutDir}");
        return 0;
    });

    /// <summary>The options of <c>predict</c>.</summary>
    public sealed record PredictOptions(string ModelDir, string DataDir, string Split, string OutFile);

    public static PredictOptions ParsePredict(CommandLine c)
    {
        var options = new PredictOptions(c.Require("model-dir"), c.Require("data"), c.Get("split")!, c.Require("out"));
        if (!Predictor.SplitNames.Contains(options.Split))
            throw new CliException($"--split must be one of {string.Join(", ", Predictor.SplitNames)}, got '{options.Split}'");
        return options;
    }

    public static int Predict(PredictOptions o) => ReportingDataErrors("predict", () =>
    {
        var ckpt = Checkpoint.Load(o.ModelDir);
        var predictions = Predictor.Predict(o.ModelDir, o.DataDir, o.Split);
        Predictor.WriteCsv(o.OutFile, predictions, ckpt.Classes);
        var correct = predictions.Count(p => p.TrueLabel == p.PredictedLabel);
        Console.WriteLine($"{ckpt.Model}/{ckpt.Mode}: {predictions.Count} {o.Split} windows scored in {Predictor.LastScoringSeconds:F3} s " +
                          $"({predictions.Count / Math.Max(Predictor.LastScoringSeconds, 1e-9):F0} windows/s), accuracy {(double)correct / Math.Max(1, predictions.Count):F3} → {o.OutFile}");
        return 0;
    });

    /// <summary>The options of <c>eval</c>.</summary>
    public sealed record EvalOptions(string Artifacts, string DataDir, string OutDir, ResampleUnit Unit, int Resamples, int Seed, bool AllowMixedData = false);

    public static EvalOptions ParseEval(CommandLine c)
    {
        var artifacts = c.Require("artifacts");
        var data = c.Require("data");
        var outDir = c.Require("out");
        var unitText = c.Get("resample")!;
        var resamples = c.GetInt("resamples");
        var seed = c.GetInt("seed");
        if (!ResampleUnits.Contains(unitText) || !Enum.TryParse<ResampleUnit>(unitText, ignoreCase: true, out var unit))
            throw new CliException($"--resample must be {string.Join(" or ", ResampleUnits)}, got '{unitText}'");
        if (resamples < 10) throw new CliException($"--resamples must be at least 10, got {resamples}");
        return new EvalOptions(artifacts, data, outDir, unit, resamples, seed, c.Flag("allow-mixed-data"));
    }

    /// <summary>The values of <c>eval --resample</c>, as written on the command line.</summary>
    public static IReadOnlyList<string> ResampleUnits { get; } = Enum.GetNames<ResampleUnit>().Select(n => n.ToLowerInvariant()).ToArray();

    public static int Evaluate(EvalOptions o) => ReportingDataErrors("eval", () =>
    {
        var result = Evaluator.Evaluate(o.Artifacts, o.DataDir, o.OutDir, o.Unit, o.Resamples, o.Seed, Console.Error.WriteLine, o.AllowMixedData);
        var report = ComparisonReport.Write(result, o.OutDir);
        Console.WriteLine($"evaluated {result.Models.Count} model(s), skipped {result.Skipped.Count} → {report}");
        foreach (var line in File.ReadLines(report).Where(l => l.StartsWith("| ", StringComparison.Ordinal) && !l.StartsWith("| model", StringComparison.Ordinal)).Take(20))
            Console.WriteLine(line);
        return result.Models.Count > 0 ? 0 : 1;
    });

    /// <summary>Runs a command whose inputs are files: a missing or malformed one is one line naming it, and exit code 1.</summary>
    private static int ReportingDataErrors(string command, Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception e) when (e is InvalidDataException or FileNotFoundException or DirectoryNotFoundException)
        {
            Console.Error.WriteLine($"cis490 {command}: {e.Message}");
            return 1;
        }
    }
}
