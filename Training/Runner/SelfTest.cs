using System.Diagnostics;
using Cis490.Shared.Capability;
using Cis490.Shared.Models;
using Cis490.Training.Data;
using Cis490.Training.Episodes;
using Cis490.Training.Features;
using Cis490.Training.Models;
using Cis490.Training.Models.Xgb;

namespace Cis490.Training.Runner;

/// <summary>What the neural engine says about itself: its version once loaded, and whether it can use CUDA (and why not).</summary>
public sealed record TorchFacts(string? Version, bool Cuda, string? CudaProblem);

/// <summary>Tries every family of the model catalog for real, the way a lease trains it: a tiny synthetic data set is generated and
/// built, then each family trains on it (a few rounds or one epoch, on the CPU), predicts and saves. A family that throws (its
/// native library does not load, this build has no trainer for it) is reported with the reason, never assumed.</summary>
public static class SelfTest
{
    /// <summary>Episodes of the self-test's data: enough for both hosts, every class and a validation split, small enough that
    /// generating and building them takes well under a second.</summary>
    public const int Episodes = 16;

    private static Func<TorchFacts>? _torch;

    /// <summary>The neural families' assembly registers how to ask libtorch about itself (Training does not link it).</summary>
    public static void RegisterTorch(Func<TorchFacts> facts) => _torch = facts;

    /// <summary>Small settings per family: each is trained for real, but only long enough to show that it can be.</summary>
    public static readonly IReadOnlyDictionary<string, string> TinyHyper = new Dictionary<string, string>
    {
        ["knn"] = """{"k":3}""",
        ["knn_semi"] = """{"k":3}""",
        ["gbt"] = """{"num_boost_round":3,"early_stopping_rounds":2,"max_depth":2}""",
        ["mlp"] = """{"max_epochs":1,"hidden":8,"layers":1,"batch_size":64,"device":"cpu"}""",
        ["cnn"] = """{"max_epochs":1,"channels":4,"layers":1,"batch_size":64,"device":"cpu"}""",
        ["gru"] = """{"max_epochs":1,"hidden":4,"batch_size":64,"device":"cpu"}""",
        ["lstm"] = """{"max_epochs":1,"hidden":4,"batch_size":64,"device":"cpu"}""",
        ["transformer"] = """{"max_epochs":1,"d_model":8,"heads":2,"layers":1,"ff_dim":8,"batch_size":64,"device":"cpu"}""",
    };

    /// <summary>Runs the self-test in a fresh folder under <paramref name="workRoot"/> (removed afterwards); <paramref name="log"/>
    /// gets one line per step.</summary>
    public static SelfTestReport Run(string workRoot, Action<string> log)
    {
        var clock = Stopwatch.StartNew();
        var work = Path.Combine(workRoot, $"cis490-self-test-{Environment.ProcessId}-{Guid.NewGuid():N}");
        var families = new Dictionary<string, FamilyCheck>(StringComparer.Ordinal);
        try
        {
            ModelData? data = null;
            string? dataProblem = null;
            try
            {
                data = MakeData(work);
                log($"self-test: data made in {clock.Elapsed.TotalSeconds:F1} s ({data.Table.Rows} windows)");
            }
            catch (Exception e)
            {
                dataProblem = $"the self-test could not make its data in {work}: {Innermost(e)}";
                log($"self-test: {dataProblem}");
            }
            foreach (var name in ModelCatalog.All.Keys.Order(StringComparer.Ordinal))
            {
                families[name] = data is null ? new FamilyCheck(false, dataProblem, 0) : Try(name, data, Path.Combine(work, "models", name));
                log($"self-test: {name}: {(families[name].Ok ? "ok" : "FAILED: " + families[name].Problem)} ({families[name].Seconds:F2} s)");
            }
        }
        finally
        {
            try { if (Directory.Exists(work)) Directory.Delete(work, recursive: true); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        var torch = _torch?.Invoke() ?? new TorchFacts(null, false, "this build has no neural engine (Training.Neural is not linked)");
        var xgb = XgbLibrary.IsAvailable ? XgbLibrary.Version?.ToString() : null;
        return new SelfTestReport(families, torch.Version, xgb, torch.Cuda, torch.Cuda ? null : torch.CudaProblem, Math.Round(clock.Elapsed.TotalSeconds, 3));
    }

    private static ModelData MakeData(string work)
    {
        var episodes = Path.Combine(work, "episodes");
        var features = Path.Combine(work, "features");
        SyntheticEpisodes.Generate(episodes, Episodes, seed: 490);
        DataBuilder.Build(new BuildOptions(episodes, features, new WindowSettings()));
        var table = FeatureTable.Load(features);
        var split = Splits.Make(table, "host", [SyntheticEpisodes.Laptop], 0);
        return new ModelData(table, FeatureSchema.Load(features), ModelCatalog.Modes[0], features, split);
    }

    /// <summary>Trains one family on the data, predicts its validation rows and saves it; the problem when any step fails.</summary>
    private static FamilyCheck Try(string name, ModelData data, string outDir)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            var family = ModelFamilies.Get(name);
            var hyper = new HyperValues(ModelCatalog.All[name], TinyHyper.GetValueOrDefault(name, "{}"));
            var model = family.Train(data, hyper, _ => { }, CancellationToken.None);
            var rows = data.Split.Val.Length > 0 ? data.Split.Val : data.Split.Train;
            var proba = model.PredictProba(data, rows);
            if (proba.Length != rows.Length * data.Classes || !proba.All(float.IsFinite))
                return new FamilyCheck(false, $"trained, but predicted {proba.Length} values (expected {rows.Length * data.Classes}, all finite)", clock.Elapsed.TotalSeconds);
            Directory.CreateDirectory(outDir);
            model.Save(outDir);
            return new FamilyCheck(true, null, Math.Round(clock.Elapsed.TotalSeconds, 3));
        }
        catch (Exception e)
        {
            return new FamilyCheck(false, Innermost(e), Math.Round(clock.Elapsed.TotalSeconds, 3));
        }
    }

    /// <summary>The innermost exception's message on one line (type initialisers and reflection wrap the real cause).</summary>
    private static string Innermost(Exception e)
    {
        while (e.InnerException is not null && e is TypeInitializationException or System.Reflection.TargetInvocationException or AggregateException)
            e = e.InnerException;
        var text = string.Join(' ', e.Message.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        return text.Length > 400 ? text[..400] + "…" : text;
    }
}
