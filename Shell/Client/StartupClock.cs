using System.Diagnostics;

namespace Cis490.Shell.Client;

/// <summary>Where a one-shot command's time goes, for <c>./cis490 bench shell</c>: with <c>CIS490_SHELL_TIMINGS=1</c> the shell
/// prints one line to standard error at exit, each phase in milliseconds from the previous mark (the first from the process's
/// start as the kernel recorded it: runtime start-up and loading before Main).</summary>
public static class StartupClock
{
    public const string Variable = "CIS490_SHELL_TIMINGS";

    private static readonly bool Enabled = Environment.GetEnvironmentVariable(Variable) == "1";
    private static readonly List<(string Phase, DateTime At)> Marks = [];

    /// <summary>Records that <paramref name="phase"/> ended now (only the first mark of a phase counts).</summary>
    public static void Mark(string phase)
    {
        if (!Enabled) return;
        lock (Marks)
            if (!Marks.Exists(m => m.Phase == phase)) Marks.Add((phase, DateTime.UtcNow));
    }

    /// <summary>Prints the phases when enabled, e.g. <c>timings-ms main=180 actor-system=240 answer=60 shutdown=30 total=510</c>.</summary>
    public static void Report(TextWriter error)
    {
        if (!Enabled) return;
        var start = Process.GetCurrentProcess().StartTime.ToUniversalTime();
        var parts = new List<string>();
        var previous = start;
        lock (Marks)
            foreach (var (phase, at) in Marks)
            {
                parts.Add($"{phase}={(at - previous).TotalMilliseconds:F0}");
                previous = at;
            }
        parts.Add($"total={(DateTime.UtcNow - start).TotalMilliseconds:F0}");
        error.WriteLine("timings-ms " + string.Join(' ', parts));
    }
}
