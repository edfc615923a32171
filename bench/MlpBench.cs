using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Cis490.Training.Data;
using Cis490.Training.Formats;
using Cis490.Training.Models;

namespace Cis490.Bench;

/// <summary><c>bench mlp</c>: an epoch of our <c>mlp</c> (TorchSharp, through the real <c>train</c> command) against the same
/// model in PyTorch (<c>bench/mlp_torch.py</c>) on the same training and validation rows, the same threads, in the same run.</summary>
/// <remarks>An epoch is the training steps plus the validation scoring on both sides; each side's figure is the median epoch
/// after the first (JIT, first-touch allocations), and its fastest (the least disturbed on a shared machine); rounds alternate
/// the two sides. PyTorch's BLAS is printed as the process mapped it, since Debian's
/// python3-torch calls whatever libblas.so.3 the alternatives system names.</remarks>
public static class MlpBench
{
    public const string Usage = "usage: bench mlp [--data FEATURES_DIR] [--mode realistic] [--epochs 8] [--rounds 3] [--threads 1,CORES] [--dir DIR]";

    public static int Run(string[] args, Func<string[], string, string, string> option, Func<string[], (TimeSpan Wall, string Stdout)> run)
    {
        string Opt(string name, string fallback) => option(args, name, fallback);
        var root = Path.GetFullPath(Opt("--dir", Path.Combine(Path.GetTempPath(), "cis490-bench-mlp")));
        var mode = Opt("--mode", "realistic");
        var epochs = int.Parse(Opt("--epochs", "8"), CultureInfo.InvariantCulture);
        var rounds = int.Parse(Opt("--rounds", "3"), CultureInfo.InvariantCulture);
        // Each thread count is run on both sides (ours with CIS490_TORCH_THREADS, PyTorch with torch.set_num_threads and its
        // BLAS pool), and ours once more as shipped (the family's own choice).
        var threadCounts = Opt("--threads", $"1,{Environment.ProcessorCount}").Split(',')
            .Select(t => int.Parse(t, CultureInfo.InvariantCulture)).Distinct().Order().ToArray();
        if (epochs < 2 || threadCounts.Any(t => t < 1) || rounds < 1) { Console.Error.WriteLine(Usage + "\n(--epochs at least 2: the first epoch is left out)"); return 2; }
        var script = Path.Combine(AppContext.BaseDirectory, "mlp_torch.py");
        if (!File.Exists(script)) throw new FileNotFoundException($"{script} is missing: the bench project copies bench/mlp_torch.py beside itself", script);

        var features = Opt("--data", "");
        if (features.Length == 0)
        {
            features = Path.Combine(root, "features");
            if (!File.Exists(Path.Combine(features, FeatureTable.FileName)))
            {
                run(["data", "generate", "--out", Path.Combine(root, "episodes"), "--episodes", "567", "--seed", "490"]);
                run(["data", "build", "--episodes", Path.Combine(root, "episodes"), "--out", features]);
            }
        }
        features = Path.GetFullPath(features);

        // The rows `train` uses: its default split (host, trained on the laptop, seed 0), the mode's summary columns.
        var table = FeatureTable.Load(features);
        var split = Splits.Make(table, "host", ["elliott-thinkpad"], 0);
        var data = new ModelData(table, FeatureSchema.Load(features), mode, features, split);
        var export = Path.Combine(root, "export");
        Directory.CreateDirectory(export);
        Export(data, split.Train, Path.Combine(export, "x_train.npy"), Path.Combine(export, "y_train.npy"));
        Export(data, split.Val, Path.Combine(export, "x_val.npy"), Path.Combine(export, "y_val.npy"));
        Console.WriteLine($"mlp epoch benchmark: {split.Train.Length} training and {split.Val.Length} validation windows × {data.Columns.Count} features " +
                          $"({mode}, {features}), {epochs} epochs, threads {string.Join(" and ", threadCounts)} on each side; load average {LoadAverage()}");

        // Rounds alternate ours and PyTorch at each thread count, so that load from elsewhere falls on all; each run's first
        // epoch is left out.
        var outDir = Path.Combine(root, "model");
        var hyper = $"{{\"max_epochs\": {epochs}, \"patience\": {epochs}, \"device\": \"cpu\"}}";
        var sides = new List<Side> { new("ours, as shipped", null, false) };
        foreach (var t in threadCounts) sides.Add(new($"ours, {t} thread{(t == 1 ? "" : "s")}", t, false));
        foreach (var t in threadCounts) sides.Add(new($"PyTorch, {t} thread{(t == 1 ? "" : "s")}", t, true));
        double ourF1 = 0, theirF1 = 0;
        var shippedThreads = 0;
        var torchVersion = "";
        JsonElement torch = default;
        Console.WriteLine($"{"round",5}  " + string.Join("  ", sides.Select(x => $"{x.Name,22}")) + "  (median / fastest epoch ms)  load average");
        for (var round = 1; round <= rounds; round++)
        {
            foreach (var side in sides)
            {
                if (!side.Torch)
                {
                    // Ours: the real trainer (patience = epochs, so every epoch runs).
                    Environment.SetEnvironmentVariable("CIS490_TORCH_THREADS", side.Threads?.ToString(CultureInfo.InvariantCulture));
                    try { run(["train", "--model", "mlp", "--mode", mode, "--data", features, "--out", outDir, "--hyper", hyper]); }
                    finally { Environment.SetEnvironmentVariable("CIS490_TORCH_THREADS", null); }
                    using var ckpt = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "ckpt.json")));
                    var metrics = ckpt.RootElement.GetProperty("metrics");
                    side.Median.Add(metrics.GetProperty("epoch_seconds").GetDouble());
                    side.Fastest.Add(metrics.GetProperty("epoch_seconds_fastest").GetDouble());
                    ourF1 = metrics.GetProperty("val_macro_f1").GetDouble();
                    if (side.Threads is null) shippedThreads = (int)metrics.GetProperty("threads").GetDouble();
                }
                else
                {
                    torch = Python(script, export, data.Classes, epochs, side.Threads!.Value);
                    var times = torch.GetProperty("epoch_seconds").EnumerateArray().Select(e => e.GetDouble()).Skip(1).Order().ToArray();
                    side.Median.Add(Median(times));
                    side.Fastest.Add(times[0]);
                    theirF1 = torch.GetProperty("val_macro_f1").EnumerateArray().Select(e => e.GetDouble()).Max();
                    torchVersion = torch.GetProperty("torch").GetString()!;
                }
            }
            Console.WriteLine($"{round,5}  " + string.Join("  ", sides.Select(x => $"{$"{x.Median[^1] * 1000:F1} / {x.Fastest[^1] * 1000:F1}",22}")) + $"  {LoadAverage()}");
        }

        Console.WriteLine();
        Console.WriteLine($"{"",-28} {"median epoch ms",16} {"fastest epoch ms",17}");
        foreach (var side in sides)
        {
            var name = side.Threads is null ? $"ours, as shipped ({shippedThreads} thread{(shippedThreads == 1 ? "" : "s")})" : side.Torch ? side.Name.Replace("PyTorch", $"PyTorch {torchVersion}") : side.Name;
            Console.WriteLine($"{name,-28} {side.MedianMs,16:F1} {side.FastestMs,17:F1}");
        }
        Console.WriteLine($"best val F1: ours {ourF1:F3}, PyTorch {theirF1:F3}");
        foreach (var t in threadCounts)
        {
            var (o, p) = (sides.Single(x => !x.Torch && x.Threads == t), sides.Single(x => x.Torch && x.Threads == t));
            Console.WriteLine($"ratio ours / PyTorch at {t} thread{(t == 1 ? "" : "s")} each: {o.MedianMs / p.MedianMs:F2} on the median epochs, {o.FastestMs / p.FastestMs:F2} on the fastest (goal ≤ 1.2)");
        }
        var shipped = sides[0];
        var best = sides.Where(x => x.Torch).MinBy(x => x.MedianMs)!;
        Console.WriteLine($"ratio ours as shipped / PyTorch's best ({best.Threads} thread{(best.Threads == 1 ? "" : "s")}): {shipped.MedianMs / best.MedianMs:F2} on the median epochs, " +
                          $"{shipped.FastestMs / best.FastestMs:F2} on the fastest; load average {LoadAverage()}");
        Console.WriteLine($"PyTorch's BLAS, as mapped: {string.Join(", ", torch.GetProperty("blas_mapped").EnumerateArray().Select(e => e.GetString()))}");
        Console.WriteLine($"PyTorch's build: {string.Join("; ", torch.GetProperty("blas_build").EnumerateArray().Select(e => e.GetString()))}");
        return 0;
    }

    /// <summary>One side of the comparison at one thread count (null: ours as shipped), with its per-round figures.</summary>
    private sealed record Side(string Name, int? Threads, bool Torch)
    {
        public List<double> Median { get; } = [];
        public List<double> Fastest { get; } = [];
        public double MedianMs => MlpBench.Median([.. Median]) * 1000;
        public double FastestMs => Fastest.Min() * 1000;
    }

    private static double Median(double[] values)
    {
        var v = values.Order().ToArray();
        return v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
    }

    private static void Export(ModelData data, IReadOnlyList<int> rows, string xPath, string yPath)
    {
        var (x, y) = data.Summary(rows);
        var width = data.Columns.Count;
        using (var xs = new NpyArrayWriter(xPath, NpyDType.Float32, width))
            for (var r = 0; r < y.Length; r++) xs.Append(x.AsSpan(r * width, width));
        using var ys = new NpyArrayWriter(yPath, NpyDType.Int64);
        foreach (var label in y) ys.Append(label);
    }

    private static JsonElement Python(string script, string export, int classes, int epochs, int threads)
    {
        // Debian's interpreter, which python3-torch installs into (a python3 earlier on PATH, pyenv's say, would not see it).
        var python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
        var psi = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { script, "--data", export, "--classes", classes.ToString(CultureInfo.InvariantCulture),
                     "--epochs", epochs.ToString(CultureInfo.InvariantCulture), "--threads", threads.ToString(CultureInfo.InvariantCulture) })
            psi.ArgumentList.Add(a);
        // OpenBLAS and OpenMP pools sized as torch's own threads, waiting passively as our trainer's libgomp does (TorchRuntime).
        psi.Environment["OPENBLAS_NUM_THREADS"] = threads.ToString(CultureInfo.InvariantCulture);
        psi.Environment["OMP_NUM_THREADS"] = threads.ToString(CultureInfo.InvariantCulture);
        psi.Environment["OMP_WAIT_POLICY"] = "PASSIVE";
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"{python} did not start");
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{script} failed (exit {p.ExitCode}): {stderr.Result.Trim()}" +
                                                (stderr.Result.Contains("No module named 'torch'") ? " — install python3-torch (./cis490 bench mlp does)" : ""));
        return JsonDocument.Parse(stdout.Trim().Split('\n')[^1]).RootElement.Clone();
    }

    /// <summary>The 1-, 5- and 15-minute load averages, as uptime prints them.</summary>
    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";
}
