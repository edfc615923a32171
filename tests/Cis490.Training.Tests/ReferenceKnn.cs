namespace Cis490.Training.Tests;

/// <summary>An independent, deliberately naive k-NN written from KnnClassifier's documented rules, to check it against.</summary>
/// <remarks>z-scoring follows the documented recipe and its float rounding (mean and 1/std stored as float, NaN → 0 after
/// z-scoring) so that both sides see the same points; everything else (distances, neighbour order, votes) is plain loops.</remarks>
internal sealed class ReferenceKnn(float[] x, int[] y, int dims, int classes, int k, bool distanceWeighted = false)
{
    private readonly int _k = Math.Min(k, y.Length);

    public sealed record Prediction(int Class, double[] Proba, double KthDistance, double NextDistance, bool BoundaryIsExactTie);

    public Prediction[] Predict(float[] queries)
    {
        var (mean, scale) = Statistics();
        var train = new float[y.Length][];
        for (var i = 0; i < y.Length; i++) train[i] = Z(x, i, mean, scale);
        var result = new Prediction[queries.Length / dims];
        for (var r = 0; r < result.Length; r++)
        {
            var q = Z(queries, r, mean, scale);
            var order = Enumerable.Range(0, y.Length)
                .Select(i => (Distance: Squared(q, train[i]), Index: i))
                .OrderBy(t => t.Distance).ThenBy(t => t.Index)
                .ToList();
            var votes = new double[classes];
            double total = 0;
            for (var n = 0; n < _k; n++)
            {
                var w = distanceWeighted ? 1.0 / (Math.Sqrt(order[n].Distance) + 1e-6) : 1.0;
                votes[y[order[n].Index]] += w;
                total += w;
            }
            var proba = votes.Select(v => v / total).ToArray();
            var best = 0;
            for (var c = 1; c < classes; c++)
                if (proba[c] > proba[best]) best = c;
            var next = _k < order.Count ? order[_k].Distance : double.PositiveInfinity;
            var exactTie = _k < order.Count && train[order[_k - 1].Index].AsSpan().SequenceEqual(train[order[_k].Index]);
            result[r] = new Prediction(best, proba, order[_k - 1].Distance, next, exactTie);
        }
        return result;
    }

    private (float[] Mean, float[] Scale) Statistics()
    {
        var mean = new float[dims];
        var scale = new float[dims];
        for (var j = 0; j < dims; j++)
        {
            var present = Enumerable.Range(0, y.Length).Select(i => (double)x[i * dims + j]).Where(v => !double.IsNaN(v)).ToList();
            var m = present.Count > 0 ? present.Average() : 0;
            // Population standard deviation, two-pass; a constant column has exactly none.
            var constant = present.Distinct().Count() <= 1;
            var sd = constant ? 0 : Math.Sqrt(present.Sum(v => (v - m) * (v - m)) / present.Count);
            mean[j] = (float)m;
            scale[j] = sd > 1e-12 ? (float)(1.0 / sd) : 1f;
        }
        return (mean, scale);
    }

    private float[] Z(float[] data, int row, float[] mean, float[] scale)
    {
        var z = new float[dims];
        for (var j = 0; j < dims; j++)
        {
            var v = data[row * dims + j];
            z[j] = float.IsNaN(v) ? 0f : (v - mean[j]) * scale[j];
        }
        return z;
    }

    private static double Squared(float[] a, float[] b)
    {
        double sum = 0;
        for (var j = 0; j < a.Length; j++)
        {
            var d = (double)a[j] - b[j];
            sum += d * d;
        }
        return sum;
    }
}
