using Cis490.Training.Episodes;

namespace Cis490.Training.Features;

/// <summary>How episodes are cut into windows: length and stride on the 1-second grid, and how far missing values are bridged.</summary>
/// <param name="MaxGapSeconds">Two counter readings further apart than this give no rate (NaN), never a huge one.</param>
/// <param name="ForwardFillSeconds">A gauge's last reading stands in for at most this many empty grid cells.</param>
public sealed record WindowSettings(int LengthSeconds = 30, int StrideSeconds = 10, double MaxGapSeconds = 5, int ForwardFillSeconds = 2);

/// <summary>One window cut from an aligned episode: its cells [<see cref="FirstCell"/>, FirstCell + length) and its label.</summary>
public sealed record Window(int FirstCell, long StartNs, long EndNs, string Label);

/// <summary>Aligns an episode's channels on a 1-second wall-clock grid and cuts windows (Training/EPISODES.md, "Features").</summary>
public static class Windowing
{
    public static readonly IReadOnlyList<string> Stats = ["mean", "std", "min", "max", "last", "slope"];

    /// <summary>The grid: one row per registry field (<see cref="ChannelRegistry.AllFields"/> order), one cell per second from the
    /// episode's start; NaN where the channel is missing, no reading is near, or a counter reset or gap leaves no honest rate.</summary>
    public static float[][] Align(EpisodeData episode, ChannelRegistry registry, WindowSettings settings)
    {
        var cells = (int)Math.Floor(episode.Meta.DurationSeconds);
        var fields = registry.AllFields;
        var grid = new float[fields.Count][];
        for (var row = 0; row < fields.Count; row++)
        {
            grid[row] = new float[cells];
            Array.Fill(grid[row], float.NaN);
            var (channel, field) = fields[row];
            if (!episode.Channels.TryGetValue(channel.Name, out var series)) continue; // degraded episode: stays NaN
            var values = series.Fields[channel.Fields.ToList().IndexOf(field)];
            var observed = new bool[cells];
            for (var i = 0; i < series.Count; i++)
            {
                var cell = (int)Math.Floor((series.TWallNs[i] - episode.Meta.StartNs) / 1e9);
                if (cell < 0 || cell >= cells) continue;
                observed[cell] = true;
                grid[row][cell] = field.Kind == FieldKind.Gauge ? (float)values[i] : Rate(series, values, i, settings.MaxGapSeconds);
            }
            ForwardFill(grid[row], observed, settings.ForwardFillSeconds);
        }
        return grid;
    }

    /// <summary>A counter's rate per second at reading <paramref name="i"/>; NaN for the first reading, a gap, or a reset.</summary>
    public static float Rate(ChannelSeries series, double[] values, int i, double maxGapSeconds)
    {
        if (i == 0) return float.NaN;
        var dt = (series.TWallNs[i] - series.TWallNs[i - 1]) / 1e9;
        if (dt <= 0 || dt > maxGapSeconds) return float.NaN;
        var dv = values[i] - values[i - 1];
        if (dv < 0 || double.IsNaN(dv)) return float.NaN; // counter reset: no negative rate
        return (float)(dv / dt);
    }

    private static void ForwardFill(float[] row, bool[] observed, int maxCells)
    {
        var last = float.NaN;
        var age = int.MaxValue;
        for (var c = 0; c < row.Length; c++)
        {
            if (observed[c]) { last = row[c]; age = 0; continue; }
            age = age == int.MaxValue ? age : age + 1;
            if (age <= maxCells && !float.IsNaN(last)) row[c] = last;
        }
    }

    /// <summary>The windows of an episode; each is labelled with the phase in force at its last instant (end − 1 ns).</summary>
    public static IEnumerable<Window> Cut(EpisodeMeta meta, int cells, WindowSettings settings)
    {
        for (var first = 0; first + settings.LengthSeconds <= cells; first += settings.StrideSeconds)
        {
            var start = meta.StartNs + first * 1_000_000_000L;
            var end = start + settings.LengthSeconds * 1_000_000_000L;
            yield return new Window(first, start, end, meta.PhaseAt(end - 1));
        }
    }

    /// <summary>Summary statistics of each grid row over a window, in (field, stat) order: mean, std, min, max, last, slope per second.
    /// A row with no values in the window gives NaN for every statistic (missing, never 0).</summary>
    public static void Summarize(float[][] grid, int first, int length, Span<float> output)
    {
        var o = 0;
        foreach (var row in grid)
        {
            double sum = 0, sumSq = 0, min = double.PositiveInfinity, max = double.NegativeInfinity, last = double.NaN;
            double sx = 0, sxx = 0, sxy = 0;
            var n = 0;
            for (var c = 0; c < length; c++)
            {
                var v = row[first + c];
                if (float.IsNaN(v)) continue;
                n++; sum += v; sumSq += (double)v * v; min = Math.Min(min, v); max = Math.Max(max, v); last = v;
                sx += c; sxx += (double)c * c; sxy += c * (double)v;
            }
            if (n == 0)
            {
                for (var s = 0; s < Stats.Count; s++) output[o++] = float.NaN;
                continue;
            }
            var mean = sum / n;
            var denom = n * sxx - sx * sx;
            output[o++] = (float)mean;
            output[o++] = (float)Math.Sqrt(Math.Max(0, sumSq / n - mean * mean));
            output[o++] = (float)min;
            output[o++] = (float)max;
            output[o++] = (float)last;
            output[o++] = n >= 2 && denom > 0 ? (float)((n * sxy - sx * sum) / denom) : float.NaN;
        }
    }

    /// <summary>The feature columns of the full (oracle) table: <c>channel.field.stat</c> in registry order.</summary>
    public static IReadOnlyList<string> Columns(ChannelRegistry registry, string mode) =>
        registry.ChannelsFor(mode).SelectMany(c => c.Fields.SelectMany(f => Stats.Select(s => $"{c.Name}.{f.Name}.{s}"))).ToList();
}
