using System.Text.Json;

namespace Cis490.Training.Models;

/// <summary>How a job standardises its inputs: a hyper-parameter of every family that reads standardised values (part of the
/// job id when the manifest gives it, recorded in the checkpoint's hyper).</summary>
public static class Normalisation
{
    public const string HyperName = "normalise";

    /// <summary>The family's own statistics of the training rows (all hosts pooled).</summary>
    public const string Train = "train";

    /// <summary>Each window z-scored on the statistics of every window of its own host (labels are never read), then the family's own.</summary>
    public const string PerHost = "per_host";

    public static readonly IReadOnlyList<string> All = [Train, PerHost];

    public static string Check(string value) =>
        All.Contains(value) ? value : throw new ArgumentException($"normalise must be one of {string.Join(", ", All)}, got '{value}'");

    /// <summary>The setting a checkpoint's hyper records; <see cref="Train"/> when absent (checkpoints written before it existed).</summary>
    public static string FromHyper(JsonElement hyper) =>
        hyper.ValueKind == JsonValueKind.Object && hyper.TryGetProperty(HyperName, out var v) && v.ValueKind == JsonValueKind.String
            ? Check(v.GetString()!)
            : Train;
}

/// <summary>The view of the data a model sees: per-host standardisation, and (for permutation importance) one channel's values
/// taken from other windows.</summary>
public sealed partial class ModelData
{
    private readonly Lazy<Dictionary<string, (float[] Mean, float[] Std)>> _summaryStats;
    private readonly Lazy<Dictionary<string, (float[] Mean, float[] Std)>> _tensorStats;
    private ChannelPermutation? _permutation;

    /// <summary><see cref="Normalisation.Train"/> or <see cref="Normalisation.PerHost"/>.</summary>
    public string Normalise { get; }

    /// <summary>One channel's values of each permuted row come from another row (<see cref="From"/>: row → source row).</summary>
    private sealed record ChannelPermutation(string Channel, IReadOnlyDictionary<int, int> From);

    /// <summary>A view of this data in which <paramref name="channel"/>'s summary columns and tensor channels of each row in
    /// <paramref name="from"/> are those of the row it maps to (the other channels stay): permutation importance.</summary>
    public ModelData WithChannelFrom(string channel, IReadOnlyDictionary<int, int> from)
    {
        var view = (ModelData)MemberwiseClone();
        view._permutation = new ChannelPermutation(channel, from);
        return view;
    }

    /// <summary>The channels (registry names) of this mode's columns, in column order of first appearance.</summary>
    public IReadOnlyList<string> ColumnChannels => Columns.Select(ChannelOf).Distinct().ToList();

    private static string ChannelOf(string column) => column[..column.IndexOf('.')];

    private void Adjust(IReadOnlyList<int> rows, float[] x)
    {
        var dims = Columns.Count;
        if (_permutation is { } p)
        {
            var cols = Enumerable.Range(0, dims).Where(c => ChannelOf(Columns[c]) == p.Channel).ToArray();
            var moved = Enumerable.Range(0, rows.Count).Where(i => p.From.ContainsKey(rows[i])).ToArray();
            var (src, _) = Table.Select(moved.Select(i => p.From[rows[i]]).ToArray(), Columns);
            for (var k = 0; k < moved.Length; k++)
                foreach (var c in cols) x[moved[k] * dims + c] = src[k * dims + c];
        }
        if (Normalise != Normalisation.PerHost) return;
        var stats = _summaryStats.Value;
        for (var i = 0; i < rows.Count; i++)
        {
            var (mean, std) = stats[Table.Hosts[rows[i]]];
            for (var c = 0; c < dims; c++) x[i * dims + c] = (x[i * dims + c] - mean[c]) / std[c]; // NaN stays NaN
        }
    }

    private void Adjust(IReadOnlyList<int> rows, TensorBatch batch)
    {
        var (channels, steps) = (batch.Channels, batch.Steps);
        if (_permutation is { } p)
        {
            var ks = Enumerable.Range(0, channels).Where(k => Schema.TensorChannels[TensorChannels[k]].StartsWith(p.Channel + ".", StringComparison.Ordinal)).ToArray();
            var moved = Enumerable.Range(0, rows.Count).Where(i => p.From.ContainsKey(rows[i])).ToArray();
            if (ks.Length > 0 && moved.Length > 0)
            {
                var src = RawTensors(moved.Select(i => p.From[rows[i]]).ToArray(), ks.Select(k => TensorChannels[k]).ToArray());
                for (var m = 0; m < moved.Length; m++)
                    for (var j = 0; j < ks.Length; j++)
                    {
                        Array.Copy(src.X, (m * ks.Length + j) * steps, batch.X, (moved[m] * channels + ks[j]) * steps, steps);
                        Array.Copy(src.Mask, (m * ks.Length + j) * steps, batch.Mask, (moved[m] * channels + ks[j]) * steps, steps);
                    }
            }
        }
        if (Normalise != Normalisation.PerHost) return;
        var stats = _tensorStats.Value;
        for (var i = 0; i < rows.Count; i++)
        {
            var (mean, std) = stats[Table.Hosts[rows[i]]];
            for (var k = 0; k < channels; k++)
            {
                var at = (i * channels + k) * steps;
                for (var t = 0; t < steps; t++)
                    if (batch.Mask[at + t] != 0) batch.X[at + t] = (batch.X[at + t] - mean[k]) / std[k];
            }
        }
    }

    /// <summary>One window of every shard channel, read in place from the shards into <paramref name="x"/> and <paramref name="mask"/>
    /// (channel-major, <see cref="TensorShards.Steps"/> cells each) as this view sees it: the mode's channels standardised on the
    /// row's own host (per_host), and a permuted channel taken from its source row — the same values <see cref="Tensors"/>
    /// gives, for readers that stream a split a window at a time.</summary>
    public void ReadWindow(int row, float[] x, byte[] mask)
    {
        var shards = Shards;
        var steps = shards.Steps;
        shards.Read(row, x, mask);
        if (_permutation is { } p && p.From.TryGetValue(row, out var source))
        {
            var (sx, sm) = (new float[x.Length], new byte[mask.Length]);
            shards.Read(source, sx, sm);
            foreach (var ch in TensorChannels.Where(c => Schema.TensorChannels[c].StartsWith(p.Channel + ".", StringComparison.Ordinal)))
            {
                Array.Copy(sx, ch * steps, x, ch * steps, steps);
                Array.Copy(sm, ch * steps, mask, ch * steps, steps);
            }
        }
        if (Normalise != Normalisation.PerHost) return;
        var (mean, std) = _tensorStats.Value[Table.Hosts[row]];
        for (var k = 0; k < TensorChannels.Count; k++)
            for (int t = 0, at = TensorChannels[k] * steps; t < steps; t++)
                if (mask[at + t] != 0) x[at + t] = (x[at + t] - mean[k]) / std[k];
    }

    private IEnumerable<(string Host, int[] Rows)> RowsByHost() =>
        Table.Hosts.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)
            .Select(h => (h, Enumerable.Range(0, Table.Rows).Where(r => Table.Hosts[r] == h).ToArray()));

    private const int StatsChunk = 8192; // rows read at a time for the host statistics: bounded memory at the earlier data set's scale

    /// <summary>Per host: mean and standard deviation of each summary column over the observed values of all the host's windows
    /// (train, validation and test alike: no label is read, as a detector deployed on that host could do).</summary>
    private Dictionary<string, (float[] Mean, float[] Std)> SummaryStatsByHost()
    {
        var result = new Dictionary<string, (float[], float[])>(StringComparer.Ordinal);
        var dims = Columns.Count;
        foreach (var (host, rows) in RowsByHost())
        {
            var acc = new Moments(dims);
            foreach (var chunk in rows.Chunk(StatsChunk))
            {
                var (x, _) = Table.Select(chunk, Columns);
                for (var i = 0; i < chunk.Length; i++)
                    for (var c = 0; c < dims; c++) acc.Add(c, x[i * dims + c]);
            }
            result[host] = acc.Result();
        }
        return result;
    }

    /// <summary>Per host: the same for each tensor channel of this mode, over the observed cells (mask 1).</summary>
    private Dictionary<string, (float[] Mean, float[] Std)> TensorStatsByHost()
    {
        var result = new Dictionary<string, (float[], float[])>(StringComparer.Ordinal);
        foreach (var (host, rows) in RowsByHost())
        {
            var acc = new Moments(TensorChannels.Count);
            foreach (var chunk in rows.Chunk(StatsChunk))
            {
                var b = RawTensors(chunk, TensorChannels);
                for (var i = 0; i < b.Rows; i++)
                    for (var k = 0; k < b.Channels; k++)
                        for (var t = 0; t < b.Steps; t++)
                        {
                            var at = (i * b.Channels + k) * b.Steps + t;
                            if (b.Mask[at] != 0) acc.Add(k, b.X[at]);
                        }
            }
            result[host] = acc.Result();
        }
        return result;
    }

    /// <summary>Running mean and variance per column (Welford), skipping NaN; a constant or empty column gets std 1.</summary>
    private sealed class Moments(int columns)
    {
        private readonly long[] _n = new long[columns];
        private readonly double[] _mean = new double[columns];
        private readonly double[] _m2 = new double[columns];

        public void Add(int c, float value)
        {
            if (float.IsNaN(value)) return;
            var d = value - _mean[c];
            _mean[c] += d / ++_n[c];
            _m2[c] += d * (value - _mean[c]);
        }

        public (float[] Mean, float[] Std) Result()
        {
            var std = new float[_n.Length];
            for (var c = 0; c < std.Length; c++)
            {
                var s = _n[c] > 1 ? Math.Sqrt(_m2[c] / _n[c]) : 0;
                std[c] = s > 1e-6 ? (float)s : 1f;
            }
            return (_mean.Select(m => (float)m).ToArray(), std);
        }
    }
}
