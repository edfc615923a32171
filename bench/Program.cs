using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Cis490.Training.Data;
using Cis490.Training.Features;

namespace Cis490.Bench;

/// <summary><c>./cis490 bench data [--episodes 567,5000] [--dir DIR]</c>: times <c>data generate</c> and <c>data build</c> as the
/// real programs, each in its own process, and prints episodes per second and the build's peak memory.</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "coordinator") return CoordinatorBench.Run(args, Option);
        if (args.Length > 0 && args[0] == "failover") return FailoverBench.Run(args, Option);
        if (args.Length > 0 && args[0] == "takeover") return TakeoverBench.Run(args, Option);
        if (args.Length > 0 && args[0] == "tls") return TlsBench.Run(args, Option);
        if (args.Length > 0 && args[0] == "chaos") return Chaos.ChaosBench.Run(args);
        if (args.Length > 0 && args[0] == "scale") return Scale.ScaleBench.Run(args);
        if (args.Length > 0 && args[0] == "recovery") return Scale.RecoveryBench.Run(args);
        if (args.Length > 0 && args[0] == "scale-data") return ScaleDataBench.Run(args, Option);
        if (args.Length > 0 && args[0] == "mlp") return MlpBench.Run(args, Option, a => RunCapture(a));
        if (args.Length > 0 && args[0] == "shell") return ShellBench.Run(args, Option);
        if (args.Length > 0 && args[0] == "models")
        {
            var knnData = Option(args, "--knn-data", "");
            if (knnData.Length > 0)
            {
                // Only KNN against the arithmetic limit, on a data set built elsewhere (e.g. by bench scale-data).
                ModelBench.KnnAgainstArithmeticLimit(Path.GetFullPath(knnData), Option(args, "--knn-mode", "oracle"),
                    int.Parse(Option(args, "--knn-queries", "3000"), CultureInfo.InvariantCulture));
                return 0;
            }
            var dir = Path.GetFullPath(Option(args, "--dir", Path.Combine(Path.GetTempPath(), "cis490-bench-models")));
            var models = Option(args, "--models", string.Join(",", ModelBench.Models)).Split(',');
            ModelBench.Run(dir, a => { var (wall, stdout) = RunCapture(a); return (wall, stdout); }, models);
            return 0;
        }
        if (args.Length == 0 || args[0] != "data")
        {
            Console.Error.WriteLine("usage: bench data [--episodes 567,5000] [--dir DIR] | bench models [--models knn,gbt,...] [--dir DIR]\n" +
                                    "     | bench models --knn-data FEATURES [--knn-mode oracle] [--knn-queries 3000]\n" +
                                    "     | bench coordinator [--journals sqlite,postgres] [--jobs 2000] [--shapes 1x1,8x4] [--events 10000,100000|none]\n" +
                                    "     | bench failover [--runs 3]\n" +
                                    "     | bench takeover [--runs 10]\n" +
                                    "     | " + ShellBench.Usage["usage: ".Length..] + "\n" +
                                    "     | bench tls [--jobs 2000] [--mb 256] [--rounds 2]\n" +
                                    "     | " + Scale.ScaleOptions.Usage["usage: ".Length..] + "\n" +
                                    "     | " + Scale.RecoveryBench.Usage["usage: ".Length..] + "\n" +
                                    "     | " + ScaleDataBench.Usage["usage: ".Length..] + "\n" +
                                    "     | " + MlpBench.Usage["usage: ".Length..] + "\n" +
                                    "     | " + Chaos.ChaosOptions.Usage["usage: ".Length..]);
            return 2;
        }
        var counts = Option(args, "--episodes", "567,5000").Split(',').Select(int.Parse).ToList();
        var root = Path.GetFullPath(Option(args, "--dir", Path.Combine(Path.GetTempPath(), "cis490-bench")));
        Console.WriteLine($"data pipeline benchmark on {Environment.ProcessorCount} cores, in {root}");
        Console.WriteLine($"{"episodes",9} {"generate s",11} {"build s",8} {"episodes/s",11} {"windows",9} {"peak MiB",9} {"MiB/1k ep",10}");
        foreach (var n in counts)
        {
            var dir = Path.Combine(root, $"n{n}");
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
            var gen = Run("data", "generate", "--out", Path.Combine(dir, "episodes"), "--episodes", n.ToString(CultureInfo.InvariantCulture), "--seed", "490");
            Run("data", "build", "--episodes", Path.Combine(dir, "episodes"), "--out", Path.Combine(dir, "features"));
            var summary = JsonSerializer.Deserialize<BuildSummary>(File.ReadAllText(Path.Combine(dir, "features", BuildSummary.FileName)), Json.Options)!;
            var peakMib = summary.PeakWorkingSetBytes / 1048576.0;
            Console.WriteLine($"{n,9} {gen.TotalSeconds,11:F1} {summary.Seconds,8:F1} {summary.EpisodesPerSecond,11:F0} {summary.Windows,9} {peakMib,9:F0} {peakMib / (n / 1000.0),10:F1}");
            Directory.Delete(dir, true);
        }
        return 0;
    }

    private static string Option(string[] args, string name, string fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }

    private static TimeSpan Run(params string[] args) => RunCapture(args).Wall;

    /// <summary>Runs the WorkerNode program (the one `./cis490 data|train|predict` runs) and returns its wall time and output
    /// (<see cref="Measured.Run"/>, which also samples its peak memory).</summary>
    private static (TimeSpan Wall, string Stdout) RunCapture(params string[] args)
    {
        var r = Measured.Run(args);
        return (r.Wall, r.Stdout);
    }
}
