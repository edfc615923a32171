using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Cis490.Training.Data;
using Cis490.Training.Features;

namespace Cis490.Bench;

/// <summary><c>bench scale-data</c>: the earlier fleet's data set size (24 000 episodes) through the real programs, each in its
/// own process: <c>data generate</c>, <c>data build</c>, then <c>train</c> of every family, printing wall time, the
/// process's peak resident memory (VmHWM, sampled from /proc while it runs) and what it wrote (sidecars, shards); then the
/// built data set is published to the coordinator's data-set store and pulled into a worker's cache, and the largest model folder
/// uploaded to the artifact store, each beside a raw socket copy (<see cref="StoreTransfer"/>).</summary>
public static class ScaleDataBench
{
    public const string Usage = "usage: bench scale-data [--episodes 24000] [--families knn,knn_semi,gbt,mlp,cnn,gru,lstm,transformer] [--mode oracle]\n" +
                                "                        [--epochs 2] [--dir DIR] [--reuse] [--transfer-only]\n" +
                                "  --reuse: keep DIR's generated episodes and built features when they are there\n" +
                                "  --transfer-only: with DIR's existing build (and models/ when there), only the transfers through the stores";

    public static int Run(string[] args, Func<string[], string, string, string> option)
    {
        string Opt(string name, string fallback) => option(args, name, fallback);
        var episodes = int.Parse(Opt("--episodes", "24000"), CultureInfo.InvariantCulture);
        var families = Opt("--families", string.Join(",", ModelBench.Models)).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var mode = Opt("--mode", "oracle");
        var epochs = int.Parse(Opt("--epochs", "2"), CultureInfo.InvariantCulture);
        var root = Path.GetFullPath(Opt("--dir", Path.Combine(Path.GetTempPath(), "cis490-bench-scale")));
        var transferOnly = args.Contains("--transfer-only");
        var reuse = transferOnly || args.Contains("--reuse");
        if (episodes < 1 || epochs < 1 || families.Length == 0) { Console.Error.WriteLine(Usage); return 2; }
        var unknown = families.Except(ModelBench.Models).ToList();
        if (unknown.Count > 0) { Console.Error.WriteLine($"unknown families: {string.Join(", ", unknown)} (known: {string.Join(", ", ModelBench.Models)})"); return 2; }

        var (episodesDir, features) = (Path.Combine(root, "episodes"), Path.Combine(root, "features"));
        Console.WriteLine($"scale-data benchmark: {episodes} episodes, {mode} mode, " + (transferOnly ? "transfers only" : $"neural families {epochs} epoch(s)") +
                          $", {Environment.ProcessorCount} cores, in {root}; load average {string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ')[0..3])}");
        Console.WriteLine($"{"step",-22} {"wall s",8} {"peak RSS MiB",13} {"written MB",11} {"notes"}");
        if (transferOnly && !File.Exists(Path.Combine(features, FeatureTable.FileName)))
        {
            Console.Error.WriteLine($"--transfer-only: {features} holds no built data set; run bench scale-data --dir {root} without it first");
            return 2;
        }
        if (!(reuse && File.Exists(Path.Combine(features, FeatureTable.FileName))))
        {
            if (Directory.Exists(root)) Directory.Delete(root, true);
            var gen = Measured.Run("data", "generate", "--out", episodesDir, "--episodes", episodes.ToString(CultureInfo.InvariantCulture), "--seed", "490");
            Row("data generate", gen, Megabytes(episodesDir), $"{episodes / gen.Wall.TotalSeconds:F0} episodes/s");
            var build = Measured.Run("data", "build", "--episodes", episodesDir, "--out", features);
            Row("data build", build, Megabytes(features), "");
        }
        var summary = JsonSerializer.Deserialize<BuildSummary>(File.ReadAllText(Path.Combine(features, BuildSummary.FileName)), Json.Options)!;
        Console.WriteLine($"{"",-22} {summary.Windows} windows; tensor shards {Megabytes(Path.Combine(features, DataBuilder.TensorsDir)):F0} MB" +
                          (reuse ? " (reused: --reuse)" : ""));

        foreach (var family in transferOnly ? [] : families)
        {
            var outDir = Path.Combine(root, "models", family);
            if (Directory.Exists(outDir)) Directory.Delete(outDir, true);
            var hyper = Array.IndexOf(ModelBench.Models, family) >= 3 ? $"{{\"max_epochs\": {epochs}}}" : "{}";
            Measured.Result train;
            try
            {
                train = Measured.Run("train", "--model", family, "--mode", mode, "--data", features, "--out", outDir, "--hyper", hyper);
            }
            catch (InvalidOperationException e)
            {
                Console.WriteLine($"{"train " + family,-22} failed: {e.Message.Split('\n')[0]}");
                continue;
            }
            using var ckpt = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "ckpt.json")));
            var metrics = ckpt.RootElement.GetProperty("metrics");
            var val = metrics.TryGetProperty("val_macro_f1", out var v) ? v.GetDouble() : double.NaN;
            var epochsRun = metrics.TryGetProperty("epochs_run", out var e2) ? $", {e2.GetDouble():F0} epoch(s)" : "";
            Row("train " + family, train, Megabytes(outDir), $"val F1 {val:F3}{epochsRun}, train_seconds {metrics.GetProperty("train_seconds").GetDouble():F1}");
        }

        // The data set (GBs at full size) is what a fleet moves in bulk; the largest checkpoint is what a trainer uploads.
        var models = Path.Combine(root, "models");
        var largest = Directory.Exists(models)
            ? Directory.EnumerateDirectories(models).Where(d => File.Exists(Path.Combine(d, "ckpt.json"))).MaxBy(Megabytes)
            : null;
        StoreTransfer.Measure(features, largest, mode, root);
        Console.WriteLine($"load average at the end: {string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ')[0..3])}");
        return 0;
    }

    private static void Row(string step, Measured.Result r, double writtenMb, string notes) =>
        Console.WriteLine($"{step,-22} {r.Wall.TotalSeconds,8:F1} {r.PeakRssBytes / 1048576.0,13:F0} {writtenMb,11:F1} {notes}");

    /// <summary>Bytes under a folder (or one file), in MB (10⁶).</summary>
    public static double Megabytes(string path) =>
        (File.Exists(path) ? new FileInfo(path).Length
            : Directory.Exists(path) ? new DirectoryInfo(path).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length) : 0) / 1e6;

}

/// <summary>Runs the WorkerNode program (the one <c>./cis490 data|train</c> runs) and samples its peak resident set size
/// (VmHWM in /proc/PID/status, a high-water mark kept by the kernel) every 100 ms until it exits.</summary>
public static class Measured
{
    public sealed record Result(TimeSpan Wall, long PeakRssBytes, string Stdout);

    public static Result Run(params string[] args)
    {
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var dll = Path.Combine(here.Parent!.Parent!.FullName, "Cis490.WorkerNode", here.Name, "Cis490.WorkerNode.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        var clock = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEndAsync();
        long peak = 0;
        var status = $"/proc/{p.Id}/status";
        while (!p.WaitForExit(100))
            peak = Math.Max(peak, HighWaterMark(status));
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{string.Join(' ', args)} failed (exit {p.ExitCode}): {stderr.Result}");
        return new Result(clock.Elapsed, peak, stdout.Result);
    }

    private static long HighWaterMark(string statusFile)
    {
        try
        {
            foreach (var line in File.ReadLines(statusFile))
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
        }
        catch (IOException) { } // the process ended between two samples: the last sample stands
        return 0;
    }
}
