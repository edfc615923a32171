using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Cis490.Bench;

/// <summary>The seed-style claim queue (bench/seed_queue.py: a threaded Python HTTP server over SQLite in WAL with
/// synchronous=FULL, one <c>UPDATE … WHERE status='pending'</c> per claim, 8 keep-alive client threads doing claim → fail) run
/// as a subprocess, so that <c>bench coordinator</c> prints our leases per second beside its claims per second (issue 17).</summary>
public static partial class SeedQueueBaseline
{
    /// <summary>One run's result, as the script's one output line gives it.</summary>
    public sealed record Result(int Claims, double Seconds, int Workers, string Line)
    {
        public double ClaimsPerSecond => Claims / Seconds;
    }

    [GeneratedRegex(@"^seed_queue claims=(\d+) seconds=([0-9.]+) claims_per_s=\d+ workers=(\d+) .*$", RegexOptions.Multiline)]
    private static partial Regex LinePattern();

    /// <summary>The script beside the bench's binaries (the project copies it there).</summary>
    public static string Script => Path.Combine(AppContext.BaseDirectory, "seed_queue.py");

    /// <summary>Reads the script's output line; anything else is an error that quotes what it printed.</summary>
    public static Result Parse(string stdout)
    {
        var m = LinePattern().Match(stdout);
        if (!m.Success) throw new FormatException($"seed_queue.py printed no 'seed_queue claims=… seconds=…' line; it printed: {stdout.Trim()}");
        return new Result(int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture),
            int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture), m.Value.Trim());
    }

    /// <summary>Runs <paramref name="script"/> with python3 on <paramref name="jobs"/> jobs and <paramref name="workers"/> client
    /// threads, its SQLite file under <paramref name="dir"/>. A missing python3 or a failed run is an error saying so.</summary>
    public static Result Run(string script, int jobs, int workers, string dir)
    {
        if (!File.Exists(script)) throw new FileNotFoundException($"the seed-style baseline {script} is missing (is the bench built?)", script);
        Directory.CreateDirectory(dir);
        var psi = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { script, "--jobs", jobs.ToString(CultureInfo.InvariantCulture), "--workers", workers.ToString(CultureInfo.InvariantCulture), "--dir", dir })
            psi.ArgumentList.Add(a);
        Process p;
        try { p = Process.Start(psi)!; }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException($"python3 is needed to run the seed-style baseline {script} ({e.Message}); " +
                                                "install it (Debian: apt-get install python3; ./cis490 bench coordinator installs it as root)", e);
        }
        using (p)
        {
            var stderr = p.StandardError.ReadToEndAsync();
            var stdout = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0) throw new InvalidOperationException($"{script} failed (exit {p.ExitCode}): {stderr.Result.Trim()} {stdout.Trim()}");
            return Parse(stdout);
        }
    }
}
