using Cis490.Training.Data;
using Cis490.Training.Episodes;

namespace Cis490.Training.Tests;

/// <summary>Split recipes over whole episodes of a real (synthetic) build: host, sample and time.</summary>
[Collection(SyntheticBuildCollection.Name)]
public class SplitsTests(SyntheticBuild build)
{
    private static readonly string[] Laptop = [SyntheticEpisodes.Laptop];
    private FeatureTable Table => build.Table;

    private Split Make(string recipe, long seed = 0) => Splits.Make(Table, recipe, Laptop, seed);

    private IEnumerable<string> Episodes(IEnumerable<int> rows) => rows.Select(i => Table.EpisodeIds[i]).Distinct();

    private void AssertWholeEpisodesAndEveryKeptRowOnce(Split split)
    {
        var parts = new[] { split.Train, split.Val, split.Test };
        var all = parts.SelectMany(p => p).ToList();
        Assert.Equal(all.Count, all.Distinct().Count());
        // An episode's windows overlap in time: one on each side would leak the answer.
        var sides = parts.SelectMany((p, side) => Episodes(p).Select(e => (e, side))).GroupBy(x => x.e);
        Assert.All(sides, g => Assert.Single(g));
        var excluded = split.ExcludedProfiles.Select(x => x.Profile).ToHashSet();
        Assert.Equal(Enumerable.Range(0, Table.Rows).Where(i => !excluded.Contains(Table.Profiles[i])), all.Order());
    }

    [Theory]
    [InlineData("host")]
    [InlineData("sample")]
    [InlineData("time")]
    public void No_episode_straddles_two_parts_and_every_kept_window_is_in_one(string recipe) =>
        AssertWholeEpisodesAndEveryKeptRowOnce(Make(recipe));

    [Fact]
    public void The_host_split_tests_exactly_the_gaming_pc_windows_and_reports_scan_and_dial_untested()
    {
        var split = Make("host");

        Assert.Equal(Enumerable.Range(0, Table.Rows).Where(i => Table.Hosts[i] == SyntheticEpisodes.GamingPc), split.Test);
        Assert.All(split.Train.Concat(split.Val), i => Assert.Equal(SyntheticEpisodes.Laptop, Table.Hosts[i]));
        Assert.Equal(["scan-and-dial"], split.UntestedProfiles); // the gaming PC never runs it
        Assert.Empty(split.ExcludedProfiles);
        Assert.Contains(split.Train, i => Table.Profiles[i] == "scan-and-dial"); // trained on, just never tested
    }

    [Fact]
    public void Validation_is_about_a_fifth_of_the_train_side_episodes()
    {
        var split = Make("host");
        var val = Episodes(split.Val).Count();
        var share = val / (double)(val + Episodes(split.Train).Count());
        Assert.InRange(share, 0.13, 0.27); // 20 % by hash, ~180 episodes
    }

    [Fact]
    public void The_same_seed_gives_the_same_split_and_another_seed_another_validation_set()
    {
        var a = Make("host", 4);
        var b = Make("host", 4);
        var c = Make("host", 5);
        Assert.Equal(a.Train, b.Train);
        Assert.Equal(a.Val, b.Val);
        Assert.Equal(a.Test, b.Test);
        Assert.NotEqual(a.Val, c.Val);
        Assert.Equal(a.Test, c.Test); // for the host split the seed only moves episodes between train and validation
    }

    [Fact]
    public void The_sample_split_excludes_single_sample_profiles_and_says_why()
    {
        var split = Make("sample");

        Assert.Equal(["cpu-saturate", "low-and-slow"], split.ExcludedProfiles.Select(x => x.Profile).Order());
        Assert.All(split.ExcludedProfiles, x => Assert.Contains("1 distinct sample", x.Reason));
        var parts = split.Train.Concat(split.Val).Concat(split.Test);
        Assert.DoesNotContain(parts, i => Table.Profiles[i] is "cpu-saturate" or "low-and-slow");
        Assert.Contains("cpu-saturate", split.UntestedProfiles);
    }

    [Fact]
    public void The_sample_split_holds_out_exactly_one_sample_of_every_other_profile()
    {
        var split = Make("sample");
        var trainSide = split.Train.Concat(split.Val).ToList();

        foreach (var profile in new[] { "scan-and-dial", "io-walk", "exfil-burst", "fork-storm" })
        {
            var heldOut = Assert.Single(split.Test.Where(i => Table.Profiles[i] == profile).Select(i => Table.Samples[i]).Distinct());
            // Every window of the held-out sample is in test; the profile's other samples are trained on.
            Assert.DoesNotContain(trainSide, i => Table.Samples[i] == heldOut);
            Assert.Contains(trainSide, i => Table.Profiles[i] == profile);
        }
        Assert.Equal(4, split.Test.Select(i => Table.Samples[i]).Distinct().Count());
    }

    [Fact]
    public void The_sample_split_seed_chooses_the_held_out_samples()
    {
        string[] HeldOut(long seed)
        {
            var split = Make("sample", seed);
            return [.. split.Test.Select(i => Table.Samples[i]).Distinct().Order()];
        }
        Assert.Equal(HeldOut(1), HeldOut(1));
        Assert.Contains(Enumerable.Range(2, 10), s => !HeldOut(s).SequenceEqual(HeldOut(1)));
    }

    [Fact]
    public void The_time_split_tests_the_latest_quarter_of_episodes()
    {
        var split = Make("time");
        long Start(string episode) => Table.StartNs[Array.IndexOf(Table.EpisodeIds, episode)];

        var testStarts = Episodes(split.Test).Select(Start).ToList();
        var earlier = Episodes(split.Train.Concat(split.Val)).Select(Start).ToList();
        Assert.True(testStarts.Min() > earlier.Max(), "a test episode starts before a train or validation episode");
        Assert.Equal((int)Math.Ceiling(build.Episodes * 0.25), testStarts.Count);
    }

    [Fact]
    public void An_unknown_recipe_is_refused_naming_the_known_ones()
    {
        var e = Assert.Throws<ArgumentException>(() => Make("random"));
        Assert.Contains("'random'", e.Message);
        Assert.All(Splits.Recipes, r => Assert.Contains(r, e.Message));
        Assert.Equal(["host", "sample", "time"], Splits.Recipes);
    }

    [Fact]
    public void A_train_host_with_no_windows_is_refused()
    {
        var e = Assert.Throws<InvalidDataException>(() => Splits.Make(Table, "host", ["nobody"], 0));
        Assert.Contains("nobody", e.Message);
    }
}
