using Cis490.Training.Features;

namespace Cis490.Training.Tests;

/// <summary>Per (channel, field) and window: mean, std, min, max, last and slope over the non-NaN cells; all NaN when there are none.</summary>
public class SummaryStatisticsTests
{
    private static float[] Summarize(float[][] grid, int first, int length)
    {
        var output = new float[grid.Length * Windowing.Stats.Count];
        Windowing.Summarize(grid, first, length, output);
        return output;
    }

    [Fact]
    public void The_six_statistics_match_a_hand_computation_that_skips_NaN_cells()
    {
        // Window = cells 1..5: values 2, NaN, 4, 6, NaN at offsets 0..4; the 100s outside it must not count.
        float[][] grid = [[100, 2, float.NaN, 4, 6, float.NaN, 100]];

        var s = Summarize(grid, 1, 5);

        Assert.Equal(["mean", "std", "min", "max", "last", "slope"], Windowing.Stats);
        Assert.Equal(4f, s[0], 1e-5f);
        Assert.Equal((float)Math.Sqrt(8.0 / 3), s[1], 1e-5f); // population std of 2, 4, 6
        Assert.Equal(2f, s[2]);
        Assert.Equal(6f, s[3]);
        Assert.Equal(6f, s[4]); // the last non-NaN cell, not the NaN in the last cell
        // Least squares over (0, 2), (2, 4), (3, 6): Sxy = 6, Sxx = 14/3, slope 9/7 per second.
        Assert.Equal(9f / 7, s[5], 1e-5f);
    }

    [Fact]
    public void A_row_with_no_values_in_the_window_gives_six_NaNs_and_its_neighbours_are_unaffected()
    {
        float[][] grid = [[1, 2, 3], [float.NaN, float.NaN, float.NaN], [5, 5, 5]];

        var s = Summarize(grid, 0, 3);

        Assert.All([2f, (float)Math.Sqrt(2.0 / 3), 1f, 3f, 3f, 1f], (expected, i) => Assert.Equal(expected, s[i], 1e-5f));
        Assert.All(s[6..12], v => Assert.True(float.IsNaN(v), "a missing channel must be NaN, never 0"));
        Assert.Equal([5f, 0f, 5f, 5f, 5f, 0f], s[12..]);
    }

    [Fact]
    public void One_value_has_no_slope_but_every_other_statistic()
    {
        float[][] grid = [[float.NaN, 7, float.NaN]];
        var s = Summarize(grid, 0, 3);
        Assert.Equal([7f, 0f, 7f, 7f, 7f], s[..5]);
        Assert.True(float.IsNaN(s[5]));
    }

    [Fact]
    public void Columns_are_named_channel_field_stat_in_registry_order()
    {
        var columns = Windowing.Columns(Cis490.Training.Episodes.ChannelRegistry.Default, "oracle");
        Assert.Equal(19 * 6, columns.Count);
        Assert.Equal("proc.cpu_pct.mean", columns[0]);
        Assert.Equal("proc.cpu_pct.slope", columns[5]);
        Assert.Equal("sample_tree.rss_mb.slope", columns[^1]);
    }
}
