using Cis490.Training.Features;

namespace Cis490.Training.Tests.Formats;

/// <summary>Deterministic feature-table rows with awkward values: NaN gaps, extremes, negative zero, non-ASCII text.</summary>
internal static class SampleWindows
{
    public static readonly string[] DottedColumns = ["proc.cpu.mean", "proc.cpu.max", "net.tx.bytes.sum", "disk.write.p95", "mem.rss"];

    public static List<WindowRow> Make(int count, int features, int seed = 11)
    {
        var random = new Random(seed);
        string[] labels = ["clean", "armed", "infecting", "infected_running"];
        var rows = new List<WindowRow>(count);
        for (var i = 0; i < count; i++)
        {
            var values = new float[features];
            for (var f = 0; f < features; f++)
                values[f] = ((i * 7 + f * 3) % 11) switch
                {
                    0 => float.NaN, // a missing channel
                    1 => float.Epsilon,
                    2 => -0f,
                    3 => float.MaxValue,
                    4 => float.NegativeInfinity,
                    _ => (float)(random.NextDouble() * 2e6 - 1e6),
                };
            var episode = $"ep-{i / 100:D4}";
            rows.Add(new WindowRow(
                WindowId: $"{episode}/w{i:D6}",
                EpisodeId: episode,
                Host: i % 3 == 0 ? "hôte-é" : $"host-{i % 5}",
                Profile: i % 2 == 0 ? "office" : "dev",
                Sample: i % 4 == 0 ? "" : $"sha256:{i % 17:x8}",
                TStartNs: 1_700_000_000_000_000_000L + i * 5_000_000_000L,
                TEndNs: i == count - 1 ? long.MaxValue : 1_700_000_000_000_000_000L + i * 5_000_000_000L + 10_000_000_000L,
                Label: labels[i % labels.Length],
                Degraded: i % 7 == 0,
                Features: values));
        }
        return rows;
    }

    public static string[] Columns(int features) =>
        Enumerable.Range(0, features).Select(f => f < DottedColumns.Length ? DottedColumns[f] : $"feature.{f}").ToArray();

    /// <summary>Field-by-field equality, features compared bit for bit (so NaN positions and -0 count).</summary>
    public static void AssertSame(WindowRow expected, WindowRow actual)
    {
        Assert.Equal(expected.WindowId, actual.WindowId);
        Assert.Equal(expected.EpisodeId, actual.EpisodeId);
        Assert.Equal(expected.Host, actual.Host);
        Assert.Equal(expected.Profile, actual.Profile);
        Assert.Equal(expected.Sample, actual.Sample);
        Assert.Equal(expected.TStartNs, actual.TStartNs);
        Assert.Equal(expected.TEndNs, actual.TEndNs);
        Assert.Equal(expected.Label, actual.Label);
        Assert.Equal(expected.Degraded, actual.Degraded);
        Assert.Equal(expected.Features.Select(BitConverter.SingleToInt32Bits), actual.Features.Select(BitConverter.SingleToInt32Bits));
    }
}
