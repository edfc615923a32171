using Cis490.Training.Evaluation;

namespace Cis490.Training.Tests;

public class MetricsTests
{
    [Fact]
    public void Perfect_predictions_have_macro_f1_of_one()
    {
        int[] truth = [0, 1, 2, 3, 3, 2];
        Assert.Equal(1.0, Metrics.MacroF1(truth, truth, 4));
    }

    [Fact]
    public void All_wrong_predictions_have_macro_f1_of_zero()
    {
        Assert.Equal(0.0, Metrics.MacroF1([0, 1, 2, 3], [1, 2, 3, 0], 4));
    }

    [Fact]
    public void A_class_never_predicted_counts_as_zero()
    {
        // Class 2 is in the truth but never predicted: F1 0, and it still weighs in the average.
        var perClass = Metrics.PerClassF1([0, 1, 2], [0, 1, 1], 3);
        Assert.Equal([1.0, 2.0 / 3, 0.0], perClass);
        Assert.Equal((1.0 + 2.0 / 3) / 3, Metrics.MacroF1([0, 1, 2], [0, 1, 1], 3), 12);
    }

    [Fact]
    public void A_class_absent_from_truth_and_predictions_is_left_out_of_the_average()
    {
        var perClass = Metrics.PerClassF1([0, 1, 2], [0, 1, 1], 4);
        Assert.True(double.IsNaN(perClass[3]));
        Assert.Equal(Metrics.MacroF1([0, 1, 2], [0, 1, 1], 3), Metrics.MacroF1([0, 1, 2], [0, 1, 1], 4));
    }

    [Fact]
    public void A_class_only_predicted_counts_as_zero()
    {
        // Predicting class 3 that never occurs is a false positive: it drags the average down.
        var perClass = Metrics.PerClassF1([0, 0], [0, 3], 4);
        Assert.Equal(0.0, perClass[3]);
        Assert.Equal((2.0 / 3 + 0) / 2, Metrics.MacroF1([0, 0], [0, 3], 4), 12);
    }

    [Fact]
    public void Hand_computed_case_matches()
    {
        // class 0: tp 1, fp 1, fn 1 → 0.5; class 1: tp 2, fp 1, fn 0 → 0.8; class 2: tp 0, fn 1 → 0.
        int[] truth = [0, 0, 1, 1, 2];
        int[] pred = [0, 1, 1, 1, 0];
        Assert.Equal([0.5, 0.8, 0.0], Metrics.PerClassF1(truth, pred, 3));
        Assert.Equal(1.3 / 3, Metrics.MacroF1(truth, pred, 3), 12);
    }

    [Fact]
    public void No_rows_give_nan_and_length_mismatch_throws()
    {
        Assert.True(double.IsNaN(Metrics.MacroF1([], [], 4)));
        Assert.Throws<ArgumentException>(() => Metrics.MacroF1([0, 1], [0], 4));
    }

    [Fact]
    public void Majority_baseline_predicts_the_most_frequent_training_class()
    {
        // Majority is 3: class 3 F1 = 2·2/(2·2+2) = 2/3; classes 0 and 1 score 0; class 2 is absent.
        Assert.Equal(2.0 / 9, Metrics.MajorityBaseline([3, 3, 3, 0, 1], [3, 0, 3, 1], 4), 12);
    }

    [Fact]
    public void Majority_baseline_breaks_ties_towards_the_lower_class()
    {
        // 1 and 2 are equally frequent: predicting 1 scores perfectly on a truth of all 1s, predicting 2 would score 0.
        Assert.Equal(1.0, Metrics.MajorityBaseline([2, 1, 2, 1], [1, 1, 1], 4));
    }
}
