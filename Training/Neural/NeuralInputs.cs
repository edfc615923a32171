using Cis490.Training.Models;

namespace Cis490.Training.Neural;

/// <summary>Encoded windows ready for a network: <see cref="Gather"/> copies the chosen rows into one batch, row-major, each row
/// of shape <see cref="RowShape"/>.</summary>
internal interface IEncodedRows
{
    int Count { get; }
    int[] Y { get; }
    long[] RowShape { get; }
    int RowLength { get; }
    void Gather(ReadOnlySpan<int> rows, Span<float> into);
}

/// <summary>Per-feature standardisation statistics fitted on the training split (observed values only), stored in the sidecar.</summary>
public sealed record NormStats(float[] Mean, float[] Std)
{
    /// <summary>Mean and population standard deviation of each of <paramref name="features"/> columns over its non-missing
    /// values; a feature never observed gets mean 0, and a constant one std 1 (so it becomes 0 rather than ±∞).</summary>
    public static NormStats Fit(int features, Func<int, IEnumerable<float>> observed)
    {
        var mean = new float[features];
        var std = new float[features];
        for (var f = 0; f < features; f++)
        {
            double sum = 0, sq = 0;
            long n = 0;
            foreach (var v in observed(f)) { sum += v; n++; }
            var m = n > 0 ? sum / n : 0;
            // Second pass about the mean: the one-pass E[x²] − m² leaves rounding noise on constant features.
            foreach (var v in observed(f)) { var d = v - m; sq += d * d; }
            var sd = n > 1 ? Math.Sqrt(sq / n) : 0;
            mean[f] = (float)m;
            std[f] = sd > 1e-6 ? (float)sd : 1f;
        }
        return new NormStats(mean, std);
    }
}

/// <summary>The MLP's input: summary features z-scored with the training split's mean and std, a missing value (NaN) set to
/// 0 (the training mean) after z-scoring, and one missingness indicator per feature (1 = missing) appended, so that a
/// channel the host does not record (no netflow on the gaming PC) is never confused with a value at the mean.</summary>
internal sealed class SummaryRows : IEncodedRows
{
    private readonly float[] _values;

    public int Count => Y.Length;
    public int[] Y { get; }
    public long[] RowShape { get; }
    public int RowLength { get; }

    public SummaryRows(float[] x, int[] y, NormStats norm)
    {
        var features = norm.Mean.Length;
        RowLength = 2 * features;
        RowShape = [RowLength];
        Y = y;
        _values = new float[y.Length * RowLength];
        for (var r = 0; r < y.Length; r++)
            for (var f = 0; f < features; f++)
            {
                var v = x[r * features + f];
                var missing = float.IsNaN(v);
                _values[r * RowLength + f] = missing ? 0f : (v - norm.Mean[f]) / norm.Std[f];
                _values[r * RowLength + features + f] = missing ? 1f : 0f;
            }
    }

    public static NormStats Fit(float[] x, int features)
    {
        var rows = x.Length / Math.Max(1, features);
        return NormStats.Fit(features, f => Enumerable.Range(0, rows).Select(r => x[r * features + f]).Where(v => !float.IsNaN(v)));
    }

    public void Gather(ReadOnlySpan<int> rows, Span<float> into)
    {
        for (var i = 0; i < rows.Length; i++)
            _values.AsSpan(rows[i] * RowLength, RowLength).CopyTo(into.Slice(i * RowLength, RowLength));
    }
}

/// <summary>A sequence model's input, rows × (2 × channels) × steps: each channel standardised with the training split's
/// per-channel mean and std over observed cells only, 0 where the mask says missing, followed by the mask itself as
/// channels (1 = observed). The mask channels are how every sequence family tells "no netflow on this host" (mask 0) from
/// "netflow observed, and quiet" (mask 1 with the standardised value of zero traffic).</summary>
internal sealed class SequenceRows : IEncodedRows
{
    private readonly float[] _x;
    private readonly byte[] _mask;
    private readonly int _channels;
    private readonly int _steps;

    public int Count => Y.Length;
    public int[] Y { get; }
    public long[] RowShape { get; }
    public int RowLength { get; }

    /// <summary>Standardises <paramref name="batch"/>'s values in place (the batch is this object's from now on).</summary>
    public SequenceRows(TensorBatch batch, NormStats norm)
    {
        if (norm.Mean.Length != batch.Channels)
            throw new InvalidDataException($"the model was trained on {norm.Mean.Length} tensor channels, the data has {batch.Channels}");
        (_x, _mask, _channels, _steps, Y) = (batch.X, batch.Mask, batch.Channels, batch.Steps, batch.Y);
        RowShape = [2L * _channels, _steps];
        RowLength = 2 * _channels * _steps;
        for (var r = 0; r < batch.Rows; r++)
            for (var c = 0; c < _channels; c++)
            {
                var at = (r * _channels + c) * _steps;
                for (var t = 0; t < _steps; t++)
                    _x[at + t] = _mask[at + t] != 0 ? (_x[at + t] - norm.Mean[c]) / norm.Std[c] : 0f;
            }
    }

    public static NormStats Fit(TensorBatch batch)
    {
        IEnumerable<float> Observed(int c)
        {
            for (var r = 0; r < batch.Rows; r++)
            {
                var at = (r * batch.Channels + c) * batch.Steps;
                for (var t = 0; t < batch.Steps; t++)
                    if (batch.Mask[at + t] != 0) yield return batch.X[at + t];
            }
        }
        return NormStats.Fit(batch.Channels, Observed);
    }

    public void Gather(ReadOnlySpan<int> rows, Span<float> into)
    {
        var block = _channels * _steps;
        for (var i = 0; i < rows.Length; i++)
        {
            var dst = into.Slice(i * RowLength, RowLength);
            _x.AsSpan(rows[i] * block, block).CopyTo(dst);
            var maskDst = dst[block..];
            var maskSrc = _mask.AsSpan(rows[i] * block, block);
            for (var k = 0; k < block; k++) maskDst[k] = maskSrc[k];
        }
    }
}
