using System.Globalization;

namespace Cis490.Bench.Scale;

/// <summary>The options of <c>bench scale</c>; the defaults are issue 17's figures.</summary>
public sealed record ScaleOptions(int Workers, int Jobs, TimeSpan DurationMin, TimeSpan DurationMax, TimeSpan Busy, int Seed, string? Out, bool Keep, string? Config = null)
{
    public const string Usage =
        "usage: bench scale [--workers 1000] [--jobs 100000] [--duration 2-20] [--minutes 3] [--seed 490] [--out FILE.json] [--keep] [--config FILE.conf]\n" +
        "       (--duration: each simulated job's run time in seconds, uniform in MIN-MAX; --minutes: the measured busy window;\n" +
        "        --config: HOCON for the coordinator over the shipped files, e.g. to compare snapshot settings;\n" +
        "        quick: --workers 50 --jobs 2000 --minutes 0.5 --duration 1-3)";

    public static ScaleOptions Parse(string[] args)
    {
        var known = new HashSet<string> { "--workers", "--jobs", "--duration", "--minutes", "--seed", "--out", "--config" };
        for (var i = 1; i < args.Length; i++)
        {
            if (args[i] == "--keep") continue;
            if (!known.Contains(args[i])) throw new ArgumentException($"bench scale: unknown option '{args[i]}'\n{Usage}");
            if (++i >= args.Length) throw new ArgumentException($"bench scale: {args[i - 1]} needs a value\n{Usage}");
        }
        string Get(string name, string fallback)
        {
            var i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        }
        int Positive(string name, string fallback) =>
            int.TryParse(Get(name, fallback), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0
                ? n : throw new ArgumentException($"bench scale: {name} must be a positive integer, got '{Get(name, fallback)}'");
        var duration = Get("--duration", "2-20").Split('-');
        if (duration.Length != 2
            || !double.TryParse(duration[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var min)
            || !double.TryParse(duration[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var max) || min < 0 || max < min)
            throw new ArgumentException($"bench scale: --duration must be MIN-MAX seconds with 0 <= MIN <= MAX (e.g. 2-20), got '{Get("--duration", "")}'");
        if (!double.TryParse(Get("--minutes", "3"), NumberStyles.Float, CultureInfo.InvariantCulture, out var minutes) || minutes <= 0)
            throw new ArgumentException($"bench scale: --minutes must be a positive number, got '{Get("--minutes", "")}'");
        return new ScaleOptions(Positive("--workers", "1000"), Positive("--jobs", "100000"), TimeSpan.FromSeconds(min), TimeSpan.FromSeconds(max),
            TimeSpan.FromMinutes(minutes), Positive("--seed", "490"), Get("--out", "") is { Length: > 0 } o ? Path.GetFullPath(o) : null, args.Contains("--keep"),
            Get("--config", "") is { Length: > 0 } c ? File.Exists(c) ? Path.GetFullPath(c) : throw new ArgumentException($"bench scale: --config {c}: no such file") : null);
    }
}
