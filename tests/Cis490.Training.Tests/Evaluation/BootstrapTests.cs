using Cis490.Training.Evaluation;

namespace Cis490.Training.Tests.Evaluation;

/// <summary>Metrics against hand-computed cases, and the bootstrap's intervals against known truths.</summary>
public sealed class BootstrapTests
{
    private static string[] Episodes(int n, int perEpisode = 1) => Enumerable.Range(0, n).Select(i => $"e{i / perEpisode}").ToArray();

    [Fact]
    public void Perfect_predictions_score_one_and_all_wrong_score_zero()
    {
        int[] truth = [0, 1, 2, 3, 0, 1];
        Assert.Equal(1.0, Metrics.MacroF1(truth, truth, 4));
        Assert.Equal(0.0, Metrics.MacroF1(truth, [1, 2, 3, 0, 1, 2], 4));
    }

    [Fact]
    public void A_class_missing_from_the_predictions_counts_as_zero_f1()
    {
        // truth: two of class 0, two of class 1; the model never predicts 1.
        int[] truth = [0, 0, 1, 1];
        int[] pred = [0, 0, 0, 0];
        // class 0: tp 2, fp 2, fn 0 → F1 = 4/6; class 1: tp 0, fn 2 → F1 0. Macro over the two present classes.
        Assert.Equal((4.0 / 6 + 0) / 2, Metrics.MacroF1(truth, pred, 4), 12);
        Assert.Equal(0.0, Metrics.PerClassF1(truth, pred, 4)[1]);
    }

    [Fact]
    public void A_class_absent_from_the_test_set_and_the_predictions_is_left_out_not_averaged_as_zero()
    {
        int[] truth = [0, 0, 3, 3];
        int[] pred = [0, 0, 3, 3];

        var perClass = Metrics.PerClassF1(truth, pred, 4);

        Assert.True(double.IsNaN(perClass[1]) && double.IsNaN(perClass[2]));
        Assert.Equal(1.0, Metrics.MacroF1(truth, pred, 4));
    }

    [Fact]
    public void The_bootstrap_interval_of_a_known_accuracy_covers_it()
    {
        // 2 000 windows of a binary problem where the prediction is right with probability 0.8: macro F1 is near 0.8.
        var rng = new Random(3);
        var truth = Enumerable.Range(0, 2000).Select(_ => rng.Next(2)).ToArray();
        var pred = truth.Select(t => rng.NextDouble() < 0.8 ? t : 1 - t).ToArray();
        var boot = new Bootstrap(Episodes(truth.Length), ResampleUnit.Windows, 1000, 7);

        var ci = boot.MacroF1(truth, pred, 2);

        Assert.InRange(0.8, ci.Low, ci.High);
        Assert.InRange(ci.Value, ci.Low, ci.High);
        Assert.True(ci.High - ci.Low is > 0.01 and < 0.1, $"width {ci.High - ci.Low}");
    }

    [Fact]
    public void Resampling_whole_episodes_gives_wider_intervals_when_windows_of_an_episode_agree()
    {
        // Each episode of 20 windows is either all right or all wrong: windows are strongly correlated.
        var rng = new Random(5);
        var truth = new int[2000];
        var pred = new int[2000];
        for (var e = 0; e < 100; e++)
        {
            var right = rng.NextDouble() < 0.7;
            for (var w = 0; w < 20; w++)
            {
                truth[e * 20 + w] = rng.Next(2);
                pred[e * 20 + w] = right ? truth[e * 20 + w] : 1 - truth[e * 20 + w];
            }
        }
        var windows = new Bootstrap(Episodes(2000, 20), ResampleUnit.Windows, 500, 1).MacroF1(truth, pred, 2);
        var episodes = new Bootstrap(Episodes(2000, 20), ResampleUnit.Episodes, 500, 1).MacroF1(truth, pred, 2);

        Assert.Equal(windows.Value, episodes.Value);
        Assert.True(episodes.High - episodes.Low > 2 * (windows.High - windows.Low),
            $"episodes {episodes.High - episodes.Low:F3} vs windows {windows.High - windows.Low:F3}");
    }

    [Fact]
    public void A_model_compared_with_itself_has_a_paired_difference_of_zero()
    {
        var rng = new Random(9);
        var truth = Enumerable.Range(0, 500).Select(_ => rng.Next(4)).ToArray();
        var pred = truth.Select(t => rng.NextDouble() < 0.6 ? t : rng.Next(4)).ToArray();
        var boot = new Bootstrap(Episodes(500, 5), ResampleUnit.Episodes, 300, 2);

        var d = boot.PairedDifference(truth, pred, pred, 4);

        Assert.Equal(0.0, d.Value);
        Assert.Equal(0.0, d.Low);
        Assert.Equal(0.0, d.High);
        Assert.False(d.ExcludesZero);
    }

    [Fact]
    public void A_clearly_better_model_has_a_paired_difference_that_excludes_zero()
    {
        var rng = new Random(11);
        var truth = Enumerable.Range(0, 1000).Select(_ => rng.Next(2)).ToArray();
        var good = truth.Select(t => rng.NextDouble() < 0.9 ? t : 1 - t).ToArray();
        var poor = truth.Select(t => rng.NextDouble() < 0.6 ? t : 1 - t).ToArray();
        var boot = new Bootstrap(Episodes(1000), ResampleUnit.Windows, 500, 3);

        var d = boot.PairedDifference(truth, good, poor, 2);

        Assert.True(d.ExcludesZero);
        Assert.True(d.Low > 0.15, d.ToString());
    }

    [Fact]
    public void The_same_seed_gives_the_same_interval()
    {
        int[] truth = [0, 1, 0, 1, 1, 0, 0, 1, 1, 1];
        int[] pred = [0, 1, 1, 1, 0, 0, 0, 1, 1, 0];
        var a = new Bootstrap(Episodes(10), ResampleUnit.Windows, 200, 4).MacroF1(truth, pred, 2);
        var b = new Bootstrap(Episodes(10), ResampleUnit.Windows, 200, 4).MacroF1(truth, pred, 2);

        Assert.Equal(a, b);
    }
}
