using System.Security.Cryptography;
using Cis490.Training.Data;
using Cis490.Training.Episodes;

namespace Cis490.Training.Tests;

/// <summary>The generator's difficulty knobs: the legacy set is still reachable byte for byte, the defaults make no single
/// feature a perfect proxy for the label, and a knob out of range is refused by name.</summary>
[Collection(SyntheticBuildCollection.Name)]
public class GeneratorDifficultyTests(SyntheticBuild build)
{
    [Fact]
    public void The_legacy_knobs_write_the_bytes_of_the_generator_before_the_knobs_existed()
    {
        // sha256 of the files `data generate --episodes 4 --seed 5` wrote before the knobs (commit f8e120e).
        string[] before =
        [
            "582840e8b77e6db9e7e481f4530bcec86817cdd8c90dc2eec6efadf2ffdfcbff",
            "061276db0ab73cbba53d598bd7f6fa597d59f285f783685d796a20ca0f7d16ed",
            "c63d29d881313d8db19c21372d74ffbde4ea207bf254857a7e322c06e0b605b3",
            "69a3331f741309c5eadbc8327191c7925ea3a29a953e744ec9cb5ecd74300226",
        ];
        using var tmp = new TempDir();
        var paths = SyntheticEpisodes.Generate(tmp.Path, 4, 5, difficulty: GeneratorDifficulty.Legacy);
        Assert.Equal(before, paths.Select(p => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(p)))));
        var defaults = SyntheticEpisodes.Generate(tmp.Combine("d"), 4, 5);
        Assert.NotEqual(before, defaults.Select(p => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(p)))));
    }

    [Fact]
    public void With_the_default_knobs_no_single_feature_separates_clean_windows_from_the_rest()
    {
        // The legacy oracle channel was exactly 0 in every clean window: sample_tree.procs.last alone gave the label away.
        var t = build.Table;
        var clean = t.Labels.Select(l => l == 0).ToArray();
        var procs = Column(t, "sample_tree.procs.last");
        Assert.True(procs.Where((v, r) => clean[r]).Count(v => v == 0) < 0.05 * clean.Count(c => c),
            "most clean windows should see the tracker's background processes");
        foreach (var column in t.Columns)
        {
            var accuracy = BestThresholdAccuracy(Column(t, column), clean);
            Assert.True(accuracy < MaxSingleFeatureAccuracy, $"{column} alone tells clean windows from the rest with accuracy {accuracy:F4}");
        }
    }

    /// <summary>Labels sit up to 4 s off the behaviour and phases blend over 8 s: a window that ends near a boundary is
    /// ambiguous to any one feature, which caps how well a threshold can do.</summary>
    private const double MaxSingleFeatureAccuracy = 0.985;

    [Theory]
    [InlineData(nameof(GeneratorDifficulty.HostShift), -0.1)]
    [InlineData(nameof(GeneratorDifficulty.OracleSignal), 1.5)]
    [InlineData(nameof(GeneratorDifficulty.LabelNoise), 6)]
    public void A_knob_out_of_range_is_refused_by_name(string knob, double value)
    {
        var d = GeneratorDifficulty.Default;
        d = knob switch
        {
            nameof(GeneratorDifficulty.HostShift) => d with { HostShift = value },
            nameof(GeneratorDifficulty.OracleSignal) => d with { OracleSignal = value },
            _ => d with { LabelNoise = value },
        };
        using var tmp = new TempDir();
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => SyntheticEpisodes.Generate(tmp.Path, 1, 1, difficulty: d));
        Assert.Contains(knob, e.Message);
    }

    private static float[] Column(FeatureTable t, string name)
    {
        var (x, _) = t.Select(Enumerable.Range(0, t.Rows).ToArray(), [name]);
        return x;
    }

    /// <summary>The best accuracy of "value above a threshold ⇒ not clean" (either direction) over all thresholds; NaN counts as
    /// below every threshold.</summary>
    private static double BestThresholdAccuracy(float[] values, bool[] clean)
    {
        var order = Enumerable.Range(0, values.Length).OrderBy(i => float.IsNaN(values[i]) ? float.NegativeInfinity : values[i]).ToArray();
        var total = values.Length;
        var cleanTotal = clean.Count(c => c);
        // Threshold after position k: rows [0, k) predicted clean, [k, n) not clean.
        int cleanBelow = 0, best = Math.Max(cleanTotal, total - cleanTotal);
        for (var k = 1; k <= total; k++)
        {
            if (clean[order[k - 1]]) cleanBelow++;
            if (k < total && values[order[k]] == values[order[k - 1]]) continue; // ties cannot be split
            var notCleanAbove = (total - k) - (cleanTotal - cleanBelow);
            var correct = cleanBelow + notCleanAbove;
            best = Math.Max(best, Math.Max(correct, total - correct));
        }
        return best / (double)total;
    }
}
