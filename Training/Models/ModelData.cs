using Cis490.Training.Data;
using Cis490.Training.Features;
using Cis490.Training.Formats;

namespace Cis490.Training.Models;

/// <summary>Windows of one tensor batch: x and mask are rows × channels × steps (row-major), y the class of each row.</summary>
public sealed record TensorBatch(float[] X, byte[] Mask, int[] Y, int Channels, int Steps)
{
    public int Rows => Y.Length;
}

/// <summary>The data a model family trains and predicts on: the feature table, the schema, the mode's summary columns and
/// tensor channels, and the split. Tensors are read from the build's npz shards on first use.</summary>
public sealed partial class ModelData
{
    private readonly Lazy<TensorStore> _tensors;

    public FeatureTable Table { get; }
    public FeatureSchema Schema { get; }
    public string Mode { get; }
    public string DataDir { get; }
    public Split Split { get; }
    public IReadOnlyList<string> Columns { get; }
    public IReadOnlyList<int> TensorChannels { get; }
    public int Classes => Labels.Classes.Count;

    /// <summary>The job's seed: families that draw random numbers (initialisation, shuffling) derive theirs from it.</summary>
    public long Seed { get; }

    /// <param name="normalise"><see cref="Normalisation.Train"/> (the family standardises on its training rows) or
    /// <see cref="Normalisation.PerHost"/> (every window is first z-scored on its own host's statistics).</param>
    public ModelData(FeatureTable table, FeatureSchema schema, string mode, string dataDir, Split split, long seed = 0,
        string normalise = Normalisation.Train)
    {
        Normalise = Normalisation.Check(normalise);
        _summaryStats = new(SummaryStatsByHost);
        _tensorStats = new(TensorStatsByHost);
        Seed = seed;
        Table = table;
        Schema = schema;
        Mode = mode;
        DataDir = dataDir;
        Split = split;
        Columns = schema.ColumnsFor(mode);
        TensorChannels = schema.ModeTensorChannels.TryGetValue(mode, out var ch) ? ch : throw new ArgumentException($"schema has no tensor channels for '{mode}'");
        _tensors = new Lazy<TensorStore>(() => new TensorStore(Path.Combine(dataDir, DataBuilder.TensorsDir), table));
    }

    /// <summary>Summary features of the mode's columns for the given rows, and their labels.</summary>
    public (float[] X, int[] Y) Summary(IReadOnlyList<int> rows)
    {
        var (x, y) = Table.Select(rows, Columns);
        Adjust(rows, x);
        return (x, y);
    }

    /// <summary>Tensor windows of the mode's channels for the given rows.</summary>
    public TensorBatch Tensors(IReadOnlyList<int> rows)
    {
        var batch = RawTensors(rows, TensorChannels);
        Adjust(rows, batch);
        return batch;
    }

    /// <summary>Tensor windows as the build wrote them (no per-host scaling, no permutation).</summary>
    private TensorBatch RawTensors(IReadOnlyList<int> rows, IReadOnlyList<int> channels) => _tensors.Value.Get(rows, channels, Table.Labels);

    /// <summary>All tensors of every host shard, keyed back to table rows through each shard's <c>row</c> array.</summary>
    private sealed class TensorStore
    {
        private readonly Dictionary<int, (float[] X, byte[] Mask, int Index)> _byRow = new();
        private readonly int _channels;
        private readonly int _steps;

        public TensorStore(string dir, FeatureTable table)
        {
            if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"no tensors in {dir}: rebuild with './cis490 data build'");
            int channels = -1, steps = -1;
            foreach (var file in Directory.EnumerateFiles(dir, "*.npz").Order(StringComparer.Ordinal))
            {
                using var npz = NpzReader.Open(file);
                var x = npz.Read("x");
                var mask = NpyReader.ToBytes(npz.Read("mask"));
                var rows = NpyReader.ToInt64s(npz.Read("row"));
                (channels, steps) = (x.Shape[1], x.Shape[2]);
                var xs = NpyReader.ToSingles(x);
                for (var i = 0; i < rows.Length; i++)
                {
                    if (rows[i] < 0 || rows[i] >= table.Rows) throw new InvalidDataException($"{file}: row {rows[i]} is outside the feature table");
                    _byRow[(int)rows[i]] = (xs, mask, i);
                }
            }
            if (channels < 0) throw new InvalidDataException($"no .npz shards in {dir}");
            _channels = channels;
            _steps = steps;
        }

        public TensorBatch Get(IReadOnlyList<int> rows, IReadOnlyList<int> channels, int[] labels)
        {
            var c = channels.Count;
            var x = new float[rows.Count * c * _steps];
            var m = new byte[rows.Count * c * _steps];
            var y = new int[rows.Count];
            for (var r = 0; r < rows.Count; r++)
            {
                if (!_byRow.TryGetValue(rows[r], out var src)) throw new InvalidDataException($"table row {rows[r]} has no tensor window");
                for (var k = 0; k < c; k++)
                {
                    var from = (src.Index * _channels + channels[k]) * _steps;
                    Array.Copy(src.X, from, x, (r * c + k) * _steps, _steps);
                    Array.Copy(src.Mask, from, m, (r * c + k) * _steps, _steps);
                }
                y[r] = labels[rows[r]];
            }
            return new TensorBatch(x, m, y, c, _steps);
        }
    }
}
