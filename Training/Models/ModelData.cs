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
/// tensor channels, and the split. Tensor windows are read from the build's npz shards where they lie, only the rows asked for.</summary>
public sealed partial class ModelData
{
    private readonly Lazy<TensorShards> _tensors;

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
        _tensors = new Lazy<TensorShards>(() => new TensorShards(Path.Combine(dataDir, DataBuilder.TensorsDir), table));
    }

    /// <summary>Summary features of the mode's columns for the given rows, and their labels.</summary>
    public (float[] X, int[] Y) Summary(IReadOnlyList<int> rows)
    {
        var (x, y) = Table.Select(rows, Columns);
        Adjust(rows, x);
        return (x, y);
    }

    /// <summary>Tensor windows of the mode's channels for the given rows, all in memory (for a slice of rows; a whole
    /// training split at scale is read a window at a time through <see cref="ReadWindow"/>).</summary>
    public TensorBatch Tensors(IReadOnlyList<int> rows)
    {
        var batch = RawTensors(rows, TensorChannels);
        Adjust(rows, batch);
        return batch;
    }

    /// <summary>Tensor windows as the build wrote them (no per-host scaling, no permutation).</summary>
    private TensorBatch RawTensors(IReadOnlyList<int> rows, IReadOnlyList<int> channels) => _tensors.Value.Get(rows, channels, Table.Labels);

    /// <summary>The build's tensor shards, read in place row by row.</summary>
    public TensorShards Shards => _tensors.Value;
}
