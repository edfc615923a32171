namespace Cis490.Training.Evaluation;

/// <summary>Classification metrics.</summary>
public static class Metrics
{
    /// <summary>Per-class F1 (NaN for a class absent from both truth and prediction).</summary>
    public static double[] PerClassF1(int[] truth, int[] pred, int classes)
    {
        if (truth.Length != pred.Length) throw new ArgumentException("truth and prediction lengths differ");
        var ones = new int[truth.Length];
        Array.Fill(ones, 1);
        return PerClassF1(WeightedConfusion(truth, pred, ones, classes));
    }

    /// <summary>Confusion matrix [true, predicted] where window i counts <paramref name="weights"/>[i] times (a bootstrap resample).</summary>
    public static long[,] WeightedConfusion(int[] truth, int[] pred, int[] weights, int classes)
    {
        var m = new long[classes, classes];
        for (var i = 0; i < truth.Length; i++) m[truth[i], pred[i]] += weights[i];
        return m;
    }

    /// <summary>Macro F1 of a confusion matrix, over the classes present in its truth or predictions.</summary>
    public static double MacroF1(long[,] confusion)
    {
        var f1 = PerClassF1(confusion).Where(v => !double.IsNaN(v)).ToArray();
        return f1.Length == 0 ? double.NaN : f1.Average();
    }

    /// <summary>Per-class F1 of a confusion matrix (NaN for a class absent from both truth and prediction).</summary>
    public static double[] PerClassF1(long[,] confusion)
    {
        var classes = confusion.GetLength(0);
        var tp = new long[classes]; var fp = new long[classes]; var fn = new long[classes];
        for (var t = 0; t < classes; t++)
            for (var p = 0; p < classes; p++)
            {
                if (t == p) tp[t] += confusion[t, p];
                else { fp[p] += confusion[t, p]; fn[t] += confusion[t, p]; }
            }
        var f1 = new double[classes];
        for (var c = 0; c < classes; c++)
        {
            var denom = 2.0 * tp[c] + fp[c] + fn[c];
            f1[c] = denom == 0 ? double.NaN : 2.0 * tp[c] / denom;
        }
        return f1;
    }

    /// <summary>Macro F1 over the classes present in the truth or the predictions (scikit-learn's convention); NaN for no rows.</summary>
    public static double MacroF1(int[] truth, int[] pred, int classes)
    {
        var f1 = PerClassF1(truth, pred, classes).Where(v => !double.IsNaN(v)).ToArray();
        return f1.Length == 0 ? double.NaN : f1.Average();
    }

    /// <summary>Macro F1 of always predicting the most frequent training class: the bar every model must clear.</summary>
    public static double MajorityBaseline(int[] trainLabels, int[] truth, int classes)
    {
        var majority = trainLabels.GroupBy(l => l).OrderByDescending(g => g.Count()).ThenBy(g => g.Key).First().Key;
        return MacroF1(truth, Enumerable.Repeat(majority, truth.Length).ToArray(), classes);
    }
}
