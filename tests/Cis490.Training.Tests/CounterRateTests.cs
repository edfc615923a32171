using Cis490.Training.Episodes;
using Cis490.Training.Features;
using static Cis490.Training.Tests.EpisodeKit;

namespace Cis490.Training.Tests;

/// <summary>Counters (disk bytes since boot) become rates per second; a reset or a gap gives NaN, never a negative or huge rate.</summary>
public class CounterRateTests
{
    /// <summary>A disk episode whose read_bytes counter takes the given values at the given seconds (700 ms into each).</summary>
    private static float[] ReadRate(TempDir tmp, int seconds, IEnumerable<(int Second, double Value)> readings)
    {
        var records = readings.Select(r => (T0 + r.Second * Second + 700_000_000, (long?)null, new[] { r.Value, 0.0 }));
        var grid = WriteReadAlign(tmp, Meta(seconds, ["disk"]), new() { ["disk.jsonl"] = Jsonl(Channel("disk"), records) });
        return grid[Row("disk", "read_bytes")];
    }

    [Fact]
    public void A_counter_reset_gives_NaN_in_the_cell_after_it_and_the_true_rate_everywhere_else()
    {
        using var tmp = new TempDir();
        // 0, 100, 200, 300, then the counter restarts: 10, 110, 210, …
        var rate = ReadRate(tmp, 10, Enumerable.Range(0, 10).Select(s => (s, s < 4 ? 100.0 * s : 10 + 100.0 * (s - 4))));

        Assert.True(float.IsNaN(rate[0])); // no earlier reading: no rate
        Assert.Equal([100f, 100f, 100f], rate[1..4]);
        Assert.True(float.IsNaN(rate[4]), $"the cell after the reset is {rate[4]}, not NaN");
        Assert.All(rate[5..], r => Assert.Equal(100f, r));
    }

    [Fact]
    public void A_gap_longer_than_the_limit_gives_NaN_not_an_averaged_rate()
    {
        using var tmp = new TempDir();
        var settings = new WindowSettings();
        Assert.Equal(5, settings.MaxGapSeconds);
        // Readings every second to 5, then nothing until 12 (a 7 s gap), then every second again; 50 bytes/s throughout.
        var seconds = Enumerable.Range(0, 6).Concat(Enumerable.Range(12, 6)).ToList();
        var rate = ReadRate(tmp, 18, seconds.Select(s => (s, 50.0 * s)));

        Assert.Equal(50f, rate[5]);
        Assert.True(float.IsNaN(rate[12]), $"the rate across the 7 s gap is {rate[12]}, not NaN");
        Assert.Equal(50f, rate[13]);
        Assert.All(rate[8..12], r => Assert.True(float.IsNaN(r))); // beyond the 2-cell fill: nothing to show
    }

    [Fact]
    public void A_gap_within_the_limit_gives_the_average_rate_over_it()
    {
        using var tmp = new TempDir();
        // 400 bytes/s, then 1 200 bytes over the 4 s from second 1 to 5, then 300 bytes/s.
        var rate = ReadRate(tmp, 7, [(0, 0), (1, 400), (5, 1600), (6, 1900)]);
        Assert.Equal(400f, rate[1]);
        Assert.Equal(300f, rate[5]);
        Assert.Equal(300f, rate[6]);
    }

    [Fact]
    public void A_counter_of_trillions_since_boot_keeps_a_rate_of_a_few_bytes_per_second()
    {
        // A host up for months has counters near 10¹³ bytes; single precision would round the difference to 0 or 2²⁰.
        using var tmp = new TempDir();
        const double sinceBoot = 12_345_678_901_234;
        var rate = ReadRate(tmp, 6, Enumerable.Range(0, 6).Select(s => (s, sinceBoot + 7.0 * s)));
        Assert.All(rate[1..], r => Assert.Equal(7f, r, 0.01f));
    }

    [Fact]
    public void Every_rate_of_a_generated_data_set_is_finite_and_not_negative()
    {
        // The generator resets a disk counter now and then: no rate may come out negative or absurd.
        using var tmp = new TempDir();
        var paths = SyntheticEpisodes.Generate(tmp.Path, 60, 8);
        var resets = 0;
        foreach (var path in paths)
        {
            var data = EpisodeArchive.Read(path, ChannelRegistry.Default).Data!;
            var disk = data.Channels["disk"];
            resets += disk.Fields[0].Zip(disk.Fields[0].Skip(1)).Count(p => p.Second < p.First);
            var grid = Windowing.Align(data, ChannelRegistry.Default, new WindowSettings());
            foreach (var field in new[] { "read_bytes", "write_bytes" })
                Assert.All(grid[Row("disk", field)].Where(v => !float.IsNaN(v)), v => Assert.InRange(v, 0f, 1e9f));
        }
        Assert.True(resets > 0, "no counter reset in 60 generated episodes: this test checks nothing");
    }
}
