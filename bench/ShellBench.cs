using System.Diagnostics;
using System.Globalization;
using Cis490.Shell.Client;
using Cis490.Shell.Demo;

namespace Cis490.Bench;

/// <summary><c>./cis490 bench shell [--runs 10] [--command status]</c>: how long a one-shot shell command takes, as an operator
/// runs it (<c>./cis490 shell --coordinator H:P status</c> on a built tree, against a running coordinator), median of
/// <c>--runs</c>, and where the time goes (the shell's own phase marks, <see cref="StartupClock"/>). In the same run, alternated
/// with it, the same command through the plain build output (<c>dotnet Cis490.Shell.dll</c>, JIT-compiled): the baseline the
/// ReadyToRun shell that <c>./cis490</c> uses is measured against.</summary>
public static class ShellBench
{
    public const string Usage = "usage: bench shell [--runs 10] [--command status]";

    private static readonly string[] Phases = ["main", "hocon", "config", "actor-system", "cluster-client", "first-answer", "output", "shutdown", "total"];

    public static int Run(string[] args, Func<string[], string, string, string> option)
    {
        var runs = int.Parse(option(args, "--runs", "10"), CultureInfo.InvariantCulture);
        if (runs < 1) throw new ArgumentException($"--runs must be at least 1, got {runs}");
        var command = option(args, "--command", "status").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var root = RepositoryRoot();
        var script = Path.Combine(root, "cis490");
        var logs = Directory.CreateTempSubdirectory("cis490-bench-shell-").FullName;
        var port = NodeProcess.FreePort();
        using var coordinator = NodeProcess.Start("coordinator", "Cis490.Coordinator",
            ["--port", port.ToString(CultureInfo.InvariantCulture), "--data-dir", Path.Combine(logs, "data"), "--http-port", "0"], logs);
        try
        {
            coordinator.WaitReady(TimeSpan.FromSeconds(90)).GetAwaiter().GetResult();
            var address = $"127.0.0.1:{port}";
            string[] Args(params string[] head) => [.. head, "shell", "--coordinator", address, .. command];
            var operatorRun = new Variant("./cis490 shell (ReadyToRun)", "bash", Args(script), root);
            var jitRun = new Variant("dotnet Cis490.Shell.dll (JIT)", "dotnet", Args(NodeProcess.ProgramPath("Cis490.Shell")), root);
            // One untimed run of each: the first start after a build reads every file from disk, an operator's later ones do not.
            operatorRun.Once();
            jitRun.Once();
            for (var i = 0; i < runs; i++)
            {
                operatorRun.Time();
                jitRun.Time();
            }
            Console.WriteLine($"shell one-shot benchmark on {Environment.ProcessorCount} cores: `{string.Join(' ', command)}` against a coordinator on " +
                              $"{address} (SQLite, empty), {runs} runs each, alternated; load average {LoadAverage()}");
            Console.WriteLine($"{"",-32} {"median s",9} {"min s",7} {"max s",7}   median ms per phase ({string.Join(' ', Phases)})");
            foreach (var v in new[] { operatorRun, jitRun }) Console.WriteLine(v.Row());
            Console.WriteLine($"ReadyToRun / JIT (median wall): {operatorRun.Median / jitRun.Median:F2}");
            return operatorRun.Median <= 1.0 ? 0 : 1;
        }
        finally
        {
            coordinator.Terminate();
            coordinator.WaitExit(TimeSpan.FromSeconds(20)).GetAwaiter().GetResult();
            Directory.Delete(logs, recursive: true);
        }
    }

    private sealed class Variant(string name, string program, string[] args, string workingDirectory)
    {
        private readonly List<double> _walls = [];
        private readonly Dictionary<string, List<double>> _phases = [];

        public double Median => MedianOf(_walls);

        public void Once() => Start(out _);

        public void Time()
        {
            var clock = Stopwatch.StartNew();
            var timings = Start(out var exitCode);
            var wall = clock.Elapsed.TotalSeconds;
            if (exitCode != 0) throw new InvalidOperationException($"{name} exited {exitCode}");
            _walls.Add(wall);
            foreach (var part in timings.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1))
            {
                var eq = part.IndexOf('=');
                if (eq <= 0) continue;
                var phase = part[..eq];
                if (!_phases.TryGetValue(phase, out var list)) _phases[phase] = list = [];
                list.Add(double.Parse(part[(eq + 1)..], CultureInfo.InvariantCulture));
            }
        }

        private string Start(out int exitCode)
        {
            var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory };
            foreach (var a in args) psi.ArgumentList.Add(a);
            psi.Environment[StartupClock.Variable] = "1";
            using var p = Process.Start(psi)!;
            var stderr = p.StandardError.ReadToEndAsync();
            p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            exitCode = p.ExitCode;
            var err = stderr.Result;
            if (exitCode != 0) throw new InvalidOperationException($"{name} exited {exitCode}: {err}");
            return err.Split('\n').LastOrDefault(l => l.StartsWith("timings-ms ", StringComparison.Ordinal))
                   ?? throw new InvalidOperationException($"{name} printed no timings line (is {StartupClock.Variable} honoured?): {err}");
        }

        public string Row()
        {
            var phases = string.Join(' ', Phases.Select(p => _phases.TryGetValue(p, out var l) ? MedianOf(l).ToString("F0", CultureInfo.InvariantCulture) : "-"));
            return $"{name,-32} {Median,9:F3} {_walls.Min(),7:F3} {_walls.Max(),7:F3}   {phases}";
        }
    }

    private static double MedianOf(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    /// <summary>The checkout this bench was built from: the nearest folder above the build output with the <c>cis490</c> script.</summary>
    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "cis490")) && File.Exists(Path.Combine(dir.FullName, "Cis490.Actors.sln")))
                return dir.FullName;
        throw new InvalidOperationException($"no cis490 script above {AppContext.BaseDirectory}: run the bench from a checkout's build");
    }
}
