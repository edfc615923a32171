using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Cis490.Training.Data;
using Cis490.Training.Models;

namespace Cis490.Bench;

/// <summary><c>bench models</c>: per model family, training time and prediction throughput on the demo data set (each through
/// the real <c>train</c> and <c>predict</c> commands), and KNN's scoring rate against this machine's arithmetic limit.</summary>
public static partial class ModelBench
{
    public static readonly string[] Models = ["knn", "knn_semi", "gbt", "mlp", "cnn", "gru", "lstm", "transformer"];

    public static void Run(string root, Func<string[], (TimeSpan Wall, string Stdout)> run, IReadOnlyList<string> models)
    {
        var features = Path.Combine(root, "features");
        if (!File.Exists(Path.Combine(features, FeatureTable.FileName)))
        {
            run(["data", "generate", "--out", Path.Combine(root, "episodes"), "--episodes", "567", "--seed", "490"]);
            run(["data", "build", "--episodes", Path.Combine(root, "episodes"), "--out", features]);
        }
        Console.WriteLine($"model benchmark on the demo set (567 episodes), realistic mode, {Environment.ProcessorCount} cores");
        Console.WriteLine($"{"model",-12} {"train s",8} {"val F1",7} {"windows",8} {"score s",8} {"windows/s",10}");
        foreach (var model in models)
        {
            var outDir = Path.Combine(root, "models", model);
            try
            {
                run(["train", "--model", model, "--mode", "realistic", "--data", features, "--out", outDir]);
            }
            catch (InvalidOperationException e)
            {
                Console.WriteLine($"{model,-12} not trainable here: {e.Message.Split('\n')[0]}");
                continue;
            }
            using var ckpt = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "ckpt.json")));
            var metrics = ckpt.RootElement.GetProperty("metrics");
            var (_, stdout) = run(["predict", "--model-dir", outDir, "--data", features, "--split", "all", "--out", Path.Combine(outDir, "all.csv")]);
            var m = Scored().Match(stdout);
            Console.WriteLine($"{model,-12} {metrics.GetProperty("train_seconds").GetDouble(),8:F1} {metrics.GetProperty("val_macro_f1").GetDouble(),7:F3} " +
                              $"{m.Groups[1].Value,8} {m.Groups[2].Value,8} {m.Groups[3].Value,10}");
        }
        KnnAgainstArithmeticLimit(features);
    }

    /// <summary>KNN scoring in-process, in rows/s and in GFLOP/s, next to a SIMD multiply-add loop that bounds what this machine can do.</summary>
    private static void KnnAgainstArithmeticLimit(string features)
    {
        var table = FeatureTable.Load(features);
        var schema = FeatureSchema.Load(features);
        var split = Splits.Make(table, "host", ["elliott-thinkpad"], 0);
        var data = new ModelData(table, schema, "realistic", features, split);
        var (xTrain, yTrain) = data.Summary(split.Train);
        var (xTest, _) = data.Summary(split.Test);
        var knn = KnnClassifier.Fit(xTrain, yTrain, data.Columns.Count, data.Classes, 10);
        knn.PredictProba(xTest[..(data.Columns.Count * 200)]); // warm-up (JIT)
        var clock = Stopwatch.StartNew();
        knn.PredictProba(xTest);
        var seconds = clock.Elapsed.TotalSeconds;
        var rows = xTest.Length / data.Columns.Count;
        // Per (query, training row) pair and dimension: one subtract, one multiply, one add.
        var flops = 3.0 * rows * yTrain.Length * data.Columns.Count;
        var peak = PeakGflops();
        Console.WriteLine();
        Console.WriteLine($"knn scoring: {rows} windows × {yTrain.Length} training rows × {data.Columns.Count} features in {seconds:F2} s = " +
                          $"{rows / seconds:F0} windows/s, {flops / seconds / 1e9:F1} GFLOP/s");
        Console.WriteLine($"arithmetic limit measured here (Vector<float> multiply-add, {Vector<float>.Count} lanes, {Environment.ProcessorCount} threads): {peak:F1} GFLOP/s " +
                          $"→ knn runs at {100 * flops / seconds / 1e9 / peak:F0} % of it");
    }

    private static double PeakGflops()
    {
        const int iterations = 50_000_000;
        var clock = Stopwatch.StartNew();
        var sums = new float[Environment.ProcessorCount];
        Parallel.For(0, Environment.ProcessorCount, t =>
        {
            // Four independent accumulators hide the multiply-add latency; a < 1 keeps them finite.
            Vector<float> a = new(0.9999f), b = new(0.0001f), c0 = Vector<float>.Zero, c1 = c0, c2 = c0, c3 = c0;
            for (var i = 0; i < iterations; i++)
            {
                c0 = c0 * a + b; c1 = c1 * a + b; c2 = c2 * a + b; c3 = c3 * a + b;
            }
            sums[t] = Vector.Sum(c0 + c1 + c2 + c3);
        });
        var seconds = clock.Elapsed.TotalSeconds;
        GC.KeepAlive(sums); // the results are kept so the loop is not optimised away
        return 2.0 * 4 * Vector<float>.Count * (double)iterations * Environment.ProcessorCount / seconds / 1e9;
    }

    [GeneratedRegex(@"(\d+) all windows scored in ([\d.]+) s \((\d+) windows/s\)")]
    private static partial Regex Scored();
}
