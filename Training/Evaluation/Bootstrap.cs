namespace Cis490.Training.Evaluation;

/// <summary>A point estimate with its 95 % bootstrap confidence interval (percentile method).</summary>
public sealed record Estimate(double Value, double Low, double High)
{
    public bool ExcludesZero => Low > 0 || High < 0;

    public override string ToString() => double.IsNaN(Value) ? "n/a" : $"{R(Value)} [{R(Low)}, {R(High)}]";

    /// <summary>Three decimals, and never "-0.000".</summary>
    private static string R(double v) => Math.Round(v, 3) == 0 ? "0.000" : v.ToString("F3", System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>How the bootstrap resamples the test set: single windows, or whole episodes (windows of one episode are correlated,
/// so resampling episodes gives honest, wider intervals).</summary>
public enum ResampleUnit { Windows, Episodes }

/// <summary>Seeded bootstrap confidence intervals for macro F1, per-class F1, and paired differences between two models.</summary>
public sealed class Bootstrap
{
    private readonly int[][] _groups; // each resampling unit's window indices
    private readonly int _resamples;
    private readonly int _seed;

    public ResampleUnit Unit { get; }
    public int Resamples => _resamples;

    /// <param name="episodeOf">The episode of each test window (used when <paramref name="unit"/> is Episodes).</param>
    public Bootstrap(IReadOnlyList<string> episodeOf, ResampleUnit unit, int resamples = 1000, int seed = 490)
    {
        if (resamples < 10) throw new ArgumentOutOfRangeException(nameof(resamples), resamples, "at least 10 resamples");
        Unit = unit;
        _resamples = resamples;
        _seed = seed;
        _groups = unit == ResampleUnit.Windows
            ? Enumerable.Range(0, episodeOf.Count).Select(i => new[] { i }).ToArray()
            : Enumerable.Range(0, episodeOf.Count).GroupBy(i => episodeOf[i]).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => g.ToArray()).ToArray();
    }

    /// <summary>The CI of a statistic computed from per-window weights (how many times each test window is in a resample;
    /// all ones is the original set). Every call sees the same resamples (same seed), which is what makes comparisons paired.</summary>
    public Estimate Of(Func<int[], double> statistic, int windows)
    {
        var ones = new int[windows];
        Array.Fill(ones, 1);
        var point = statistic(ones);
        var values = new List<double>(_resamples);
        foreach (var weights in Samples(windows))
        {
            var v = statistic(weights);
            if (!double.IsNaN(v)) values.Add(v);
        }
        if (values.Count == 0 || double.IsNaN(point)) return new Estimate(point, double.NaN, double.NaN);
        values.Sort();
        return new Estimate(point, Percentile(values, 0.025), Percentile(values, 0.975));
    }

    public Estimate MacroF1(int[] truth, int[] pred, int classes) =>
        Of(w => Metrics.MacroF1(Metrics.WeightedConfusion(truth, pred, w, classes)), truth.Length);

    public Estimate ClassF1(int[] truth, int[] pred, int classes, int c) =>
        Of(w => Metrics.PerClassF1(Metrics.WeightedConfusion(truth, pred, w, classes))[c], truth.Length);

    /// <summary>Paired bootstrap of macro F1(A) − macro F1(B) on the same resampled windows.</summary>
    public Estimate PairedDifference(int[] truth, int[] predA, int[] predB, int classes) =>
        Of(w => Metrics.MacroF1(Metrics.WeightedConfusion(truth, predA, w, classes))
                - Metrics.MacroF1(Metrics.WeightedConfusion(truth, predB, w, classes)), truth.Length);

    /// <summary>The resamples as window multiplicities: each draws as many units as there are, with replacement, from a generator
    /// seeded once. The array is reused between resamples.</summary>
    private IEnumerable<int[]> Samples(int windows)
    {
        var rng = new Random(_seed);
        var weights = new int[windows];
        for (var b = 0; b < _resamples; b++)
        {
            Array.Clear(weights);
            for (var g = 0; g < _groups.Length; g++)
                foreach (var i in _groups[rng.Next(_groups.Length)]) weights[i]++;
            yield return weights;
        }
    }

    private static double Percentile(List<double> sorted, double q)
    {
        var pos = q * (sorted.Count - 1);
        var lo = (int)Math.Floor(pos);
        var hi = Math.Min(lo + 1, sorted.Count - 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }
}
