using Cis490.Training.Features;
using static Cis490.Training.Tests.EpisodeKit;

namespace Cis490.Training.Tests;

/// <summary>An empty grid cell of a gauge takes the previous reading for at most <see cref="WindowSettings.ForwardFillSeconds"/> cells.</summary>
public class ForwardFillTests
{
    private static float[] CpuRow(TempDir tmp, int seconds, int[] readAt, WindowSettings? settings = null)
    {
        var proc = Channel("proc");
        var records = readAt.Select(s => (T0 + s * Second + 200_000_000, (long?)null, Enumerable.Repeat(10.0 + s, proc.Fields.Count).ToArray()));
        var grid = WriteReadAlign(tmp, Meta(seconds, ["proc"]), new() { ["proc.jsonl"] = Jsonl(proc, records) }, settings);
        return grid[Row("proc", "cpu_pct")];
    }

    [Fact]
    public void A_gauge_bridges_two_empty_cells_and_the_third_is_NaN()
    {
        using var tmp = new TempDir();
        Assert.Equal(2, new WindowSettings().ForwardFillSeconds);

        var row = CpuRow(tmp, 9, [0, 1, 7]);

        Assert.Equal([10f, 11f, 11f, 11f], row[..4]); // cells 2 and 3 take second 1's reading
        Assert.All(row[4..7], v => Assert.True(float.IsNaN(v)));
        Assert.Equal([17f, 17f], row[7..]);
    }

    [Fact]
    public void The_bridge_length_follows_the_settings()
    {
        using var tmp = new TempDir();
        var none = CpuRow(tmp, 4, [0], new WindowSettings(ForwardFillSeconds: 0));
        Assert.All(none[1..], v => Assert.True(float.IsNaN(v)));
    }

    [Fact]
    public void Nothing_is_filled_before_the_first_reading()
    {
        using var tmp = new TempDir();
        var row = CpuRow(tmp, 5, [3]);
        Assert.All(row[..3], v => Assert.True(float.IsNaN(v)));
        Assert.Equal([13f, 13f], row[3..]);
    }
}
