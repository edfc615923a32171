using Cis490.Training.Episodes;
using Cis490.Training.Features;
using static Cis490.Training.Tests.EpisodeKit;

namespace Cis490.Training.Tests;

/// <summary>A window's label is the phase in force at its last instant (end − 1 ns): "what is the host doing now?".</summary>
public class WindowLabelTests
{
    // clean from 0 s, armed from 40 s, infecting from 50 s, infected_running from 60 s, to 100 s.
    private static readonly EpisodeMeta Meta = EpisodeKit.Meta(100, ["proc"],
        [new("clean", T0), new("armed", T0 + 40 * Second), new("infecting", T0 + 50 * Second), new("infected_running", T0 + 60 * Second)]);

    [Fact]
    public void A_window_ending_exactly_at_a_phase_boundary_has_the_earlier_phase_and_one_ending_a_second_later_the_new_one()
    {
        var windows = Windowing.Cut(Meta, 100, new WindowSettings(LengthSeconds: 30, StrideSeconds: 1)).ToList();
        string LabelOfWindowEndingAt(int s) => Assert.Single(windows, w => w.EndNs == T0 + s * Second).Label;

        Assert.Equal("clean", LabelOfWindowEndingAt(40));
        Assert.Equal("armed", LabelOfWindowEndingAt(41));
        Assert.Equal("armed", LabelOfWindowEndingAt(50));
        Assert.Equal("infecting", LabelOfWindowEndingAt(51));
        Assert.Equal("infecting", LabelOfWindowEndingAt(60));
        Assert.Equal("infected_running", LabelOfWindowEndingAt(61));
    }

    [Fact]
    public void Windows_are_cut_every_stride_within_the_episode_and_each_spans_its_length()
    {
        var windows = Windowing.Cut(Meta, 100, new WindowSettings()).ToList();

        Assert.Equal([0, 10, 20, 30, 40, 50, 60, 70], windows.Select(w => w.FirstCell));
        Assert.All(windows, w => Assert.Equal(30 * Second, w.EndNs - w.StartNs));
        Assert.All(windows, w => Assert.Equal(T0 + w.FirstCell * Second, w.StartNs));
        // Ends at 30, 40, …, 100 s: clean, clean, armed, infecting, then infected_running.
        Assert.Equal(["clean", "clean", "armed", "infecting", "infected_running", "infected_running", "infected_running", "infected_running"],
            windows.Select(w => w.Label));
    }

    [Fact]
    public void A_generated_data_set_labels_each_window_by_the_phase_at_its_end()
    {
        using var tmp = new TempDir();
        var path = SyntheticEpisodes.Generate(tmp.Path, 1, 4)[0];
        var meta = EpisodeArchive.Read(path, ChannelRegistry.Default).Data!.Meta;
        var windows = Windowing.Cut(meta, 240, new WindowSettings()).ToList();

        Assert.Equal(BuiltData.WindowsPerEpisode, windows.Count);
        Assert.All(windows, w => Assert.Equal(meta.PhaseAt(w.EndNs - 1), w.Label));
        Assert.Equal("clean", windows[0].Label);
        Assert.Equal("infected_running", windows[^1].Label);
    }
}
