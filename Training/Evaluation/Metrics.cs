namespace Cis490.Training.Evaluation;

/// <summary>Classification metrics.</summary>
public static class Metrics
{
    /// <summary>Per-class F1 (NaN for a class absent from both truth and prediction).</summary>
    public static double[] PerClassF1(int[] truth, int[] pred, int classes)
    {
        if (truth.Length != pred.Length) throw new ArgumentException("truth and prediction lengths differ");
        var tp = new int[classes]; var fp = new int[classes]; var fn = new int[classes];
        for (var i = 0; i < truth.Length; i++)
        {
            if (truth[i] == pred[i]) tp[truth[i]]++;
            else { fp[pred[i]]++; fn[truth[i]]++; }
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
