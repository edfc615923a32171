using Cis490.Training.Models;

namespace Cis490.Training.Tests;

/// <summary>The blocked kernel (norms trick, register tiles, candidates re-scored exactly) against the direct path, which
/// <see cref="KnnClassifierTests"/> checks against an independent reference: the probabilities must be bit-identical.</summary>
public class KnnBlockedTests
{
    /// <summary>Rows of <paramref name="dims"/> features; <paramref name="grid"/> > 0 rounds values to that many steps, so
    /// many distances tie exactly and many more nearly (the cases where the norms trick alone would reorder neighbours).</summary>
    private static float[] Rows(int rows, int dims, int seed, int grid = 0, double scale = 1, double missing = 0.02)
    {
        var rng = new Random(seed);
        var x = new float[rows * dims];
        for (var i = 0; i < x.Length; i++)
        {
            var v = rng.NextDouble() * 2 - 1;
            if (grid > 0) v = Math.Round(v * grid) / grid;
            x[i] = rng.NextDouble() < missing ? float.NaN : (float)(v * scale * (1 + i % dims));
        }
        return x;
    }

    private static int[] Labels(int rows, int classes, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, rows).Select(_ => rng.Next(classes)).ToArray();
    }

    [Theory]
    // dims, training rows, queries, k, grid: odd sizes leave partial panels, partial query tiles and partial blocks
    [InlineData(90, 1237, 301, 10, 0)]
    [InlineData(90, 1237, 301, 10, 2)]
    [InlineData(230, 700, 130, 5, 3)]
    [InlineData(7, 300, 97, 1, 1)]
    [InlineData(1, 50, 40, 3, 4)]
    [InlineData(33, 17, 9, 31, 0)]
    [InlineData(16, 2000, 200, 2, 1)]
    public void Blocked_scores_equal_the_direct_path_bit_for_bit(int dims, int trainRows, int queries, int k, int grid)
    {
        var x = Rows(trainRows, dims, seed: dims + trainRows, grid);
        var y = Labels(trainRows, 5, seed: k);
        // Half the queries are training rows themselves (distance 0, exact ties with their duplicates).
        var q = Rows(queries, dims, seed: queries, grid).Concat(x[..(Math.Min(trainRows, queries / 2) * dims)]).ToArray();
        foreach (var weighted in new[] { false, true })
        {
            var knn = KnnClassifier.Fit(x, y, dims, 5, k, weighted);
            Assert.Equal(knn.PredictProbaDirect(q), knn.PredictProba(q));
        }
    }

    [Fact]
    public void Large_offsets_widen_the_bound_but_not_the_answer()
    {
        // Rows far from the mean: ‖q‖² + ‖t‖² is large against the neighbours' distances, the case the error bound is for.
        const int dims = 40;
        var x = Rows(900, dims, seed: 3, grid: 5, scale: 1);
        for (var i = 0; i < 300; i++) x[i * dims] += 1e4f; // a third of the rows share a huge first feature
        var q = Rows(150, dims, seed: 4, grid: 5).Concat(x[..(50 * dims)]).ToArray();
        var knn = KnnClassifier.Fit(x, Labels(900, 4, seed: 5), dims, 4, 7);
        Assert.Equal(knn.PredictProbaDirect(q), knn.PredictProba(q));
    }

    [Fact]
    public void Non_finite_values_take_the_direct_path_with_the_same_answer()
    {
        const int dims = 12;
        var x = Rows(400, dims, seed: 8);
        var q = Rows(60, dims, seed: 9);
        q[5 * dims + 3] = float.PositiveInfinity; // one query with an infinite feature
        q[7 * dims] = 3e38f;                      // and one whose squared norm overflows a float
        var knn = KnnClassifier.Fit(x, Labels(400, 3, seed: 10), dims, 3, 4);
        Assert.Equal(knn.PredictProbaDirect(q), knn.PredictProba(q));

        x[17 * dims + 2] = float.PositiveInfinity; // a training row with an infinite feature: the whole model scores directly
        var direct = KnnClassifier.Fit(x, Labels(400, 3, seed: 10), dims, 3, 4);
        Assert.Equal(direct.PredictProbaDirect(q), direct.PredictProba(q));
    }
}
