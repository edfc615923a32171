using Cis490.Training.Models;

namespace Cis490.Training.Neural;

/// <summary>A sequence model's input read from the tensor shards a batch at a time: the same encoding as
/// <see cref="SequenceRows"/> (each channel standardised over observed cells, 0 where missing, then the mask as channels),
/// but only the rows of the batch being gathered are ever in memory, so a trainer's memory does not grow with the data set
/// (at the earlier data set's scale the windows alone are several GiB).</summary>
internal sealed class ShardRows : IEncodedRows
{
    private readonly ModelData _data;
    private readonly TensorShards _shards;
    private readonly int[] _rows;
    private readonly int[] _channels;
    private readonly NormStats _norm;
    [ThreadStatic] private static float[]? _x;
    [ThreadStatic] private static byte[]? _mask;

    public int Count => _rows.Length;
    public int[] Y { get; }
    public long[] RowShape { get; }
    public int RowLength { get; }

    public ShardRows(ModelData data, IReadOnlyList<int> rows, NormStats norm)
    {
        if (norm.Mean.Length != data.TensorChannels.Count)
            throw new InvalidDataException($"the model was trained on {norm.Mean.Length} tensor channels, the data has {data.TensorChannels.Count}");
        _data = data;
        _shards = data.Shards;
        _rows = [.. rows];
        _channels = [.. data.TensorChannels];
        _norm = norm;
        Y = _rows.Select(r => data.Table.Labels[r]).ToArray();
        RowShape = [2L * _channels.Length, _shards.Steps];
        RowLength = 2 * _channels.Length * _shards.Steps;
    }

    public void Gather(ReadOnlySpan<int> rows, Span<float> into)
    {
        var steps = _shards.Steps;
        var block = _channels.Length * steps;
        var x = _x is { } bx && bx.Length >= _shards.Channels * steps ? bx : _x = new float[_shards.Channels * steps];
        var mask = _mask is { } bm && bm.Length >= _shards.Channels * steps ? bm : _mask = new byte[_shards.Channels * steps];
        for (var i = 0; i < rows.Length; i++)
        {
            _data.ReadWindow(_rows[rows[i]], x, mask); // per-host standardisation and permutation, as ModelData.Tensors gives them
            var dst = into.Slice(i * RowLength, RowLength);
            for (var k = 0; k < _channels.Length; k++)
            {
                var (src, at) = (_channels[k] * steps, k * steps);
                var (mean, std) = (_norm.Mean[k], _norm.Std[k]);
                for (var t = 0; t < steps; t++)
                {
                    var observed = mask[src + t] != 0;
                    dst[at + t] = observed ? (x[src + t] - mean) / std : 0f;
                    dst[block + at + t] = observed ? 1f : 0f;
                }
            }
        }
    }

    /// <summary>The per-channel statistics <see cref="SequenceRows.Fit"/> computes, read a window at a time in the same
    /// order (so the same sums, bit for bit): one pass for the means, one for the squared deviations about them.</summary>
    public static NormStats Fit(ModelData data, IReadOnlyList<int> rows)
    {
        var shards = data.Shards;
        var (channels, steps) = (data.TensorChannels, shards.Steps);
        var c = channels.Count;
        var sum = new double[c];
        var sq = new double[c];
        var n = new long[c];
        var (x, mask) = (new float[shards.Channels * steps], new byte[shards.Channels * steps]);
        foreach (var r in rows)
        {
            data.ReadWindow(r, x, mask);
            for (var k = 0; k < c; k++)
                for (int t = 0, at = channels[k] * steps; t < steps; t++)
                    if (mask[at + t] != 0) { sum[k] += x[at + t]; n[k]++; }
        }
        var m = new double[c];
        for (var k = 0; k < c; k++) m[k] = n[k] > 0 ? sum[k] / n[k] : 0;
        foreach (var r in rows)
        {
            data.ReadWindow(r, x, mask);
            for (var k = 0; k < c; k++)
                for (int t = 0, at = channels[k] * steps; t < steps; t++)
                    if (mask[at + t] != 0) { var d = x[at + t] - m[k]; sq[k] += d * d; }
        }
        var mean = new float[c];
        var std = new float[c];
        for (var k = 0; k < c; k++)
        {
            var sd = n[k] > 1 ? Math.Sqrt(sq[k] / n[k]) : 0;
            mean[k] = (float)m[k];
            std[k] = sd > 1e-6 ? (float)sd : 1f;
        }
        return new NormStats(mean, std);
    }
}
