using Cis490.Training.Episodes;
using static Cis490.Training.Tests.EpisodeKit;

namespace Cis490.Training.Tests;

/// <summary>Alignment puts every reading on the 1-second grid by its wall-clock time, never by netflow's uptime clock.</summary>
public class TimeBaseAlignmentTests
{
    [Fact]
    public void Netflow_readings_land_in_the_cell_of_their_wall_clock_time_whatever_t_mono_ns_says()
    {
        using var tmp = new TempDir();
        const int seconds = 20;
        var netflow = Channel("netflow");
        // 700 ms into each second on the wall clock. The capture box has been up ~5.8 days and its clock does not even keep
        // pace with the wall clock (1.5 s per record): a grid built from t_mono_ns, absolute or as offsets from the first
        // record, would put nothing in the episode or values in the wrong cells.
        var records = Enumerable.Range(0, seconds).Select(s => (
            T0 + s * Second + 700_000_000,
            (long?)(500_000L * Second + s * 1_500_000_000L + 300_000_000),
            netflow.Fields.Select((_, f) => 10.0 * s + f).ToArray()));
        var meta = Meta(seconds, ["netflow"]);

        var grid = WriteReadAlign(tmp, meta, new() { ["netflow.jsonl"] = Jsonl(netflow, records) });

        for (var f = 0; f < netflow.Fields.Count; f++)
        {
            var row = grid[Row("netflow", netflow.Fields[f].Name)];
            Assert.Equal(seconds, row.Length);
            for (var s = 0; s < seconds; s++) Assert.Equal(10f * s + f, row[s]);
        }
    }

    [Fact]
    public void A_reading_late_in_a_second_stays_in_that_second_and_the_next_cell_gets_the_next_reading()
    {
        // Readings at 0.999 s and 1.001 s are 2 ms apart but belong to cells 0 and 1.
        using var tmp = new TempDir();
        var proc = Channel("proc");
        var meta = Meta(3, ["proc"]);
        var records = new[] { (T0 + 999_000_000, (long?)null, new double[] { 1, 1, 1, 1, 1 }),
                              (T0 + 1_001_000_000, null, new double[] { 2, 2, 2, 2, 2 }),
                              (T0 + 2_500_000_000, null, new double[] { 3, 3, 3, 3, 3 }) };

        var grid = WriteReadAlign(tmp, meta, new() { ["proc.jsonl"] = Jsonl(proc, records) });

        Assert.Equal([1f, 2f, 3f], grid[Row("proc", "cpu_pct")]);
    }

    [Fact]
    public void Channels_an_episode_does_not_have_are_NaN_rows()
    {
        using var tmp = new TempDir();
        var grid = WriteReadAlign(tmp, Meta(5, ["proc"]), new() { ["proc.jsonl"] = Steady("proc", 5, 0, s => s) });

        Assert.Equal(ChannelRegistry.Default.AllFields.Count, grid.Length);
        for (var r = 0; r < grid.Length; r++)
        {
            var isProc = ChannelRegistry.Default.AllFields[r].Channel.Name == "proc";
            Assert.All(grid[r], v => Assert.Equal(!isProc, float.IsNaN(v)));
        }
    }
}
