using System.Text.Json;
using Cis490.Training.Data;
using Cis490.Training.Models;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Cis490.Training.Neural;

/// <summary><c>NAME.norm.json</c>: everything besides the weights that a neural model needs to score windows again: what it
/// reads, the training split's standardisation statistics, and the architecture numbers that rebuild the module.</summary>
/// <param name="Input"><c>summary</c> (the mode's feature columns) or <c>tensor</c> (the mode's tensor channels).</param>
/// <param name="Features">the columns or channels read, in order (the mean and std follow this order).</param>
/// <param name="Steps">seconds per tensor window (0 for summary input).</param>
/// <param name="Architecture">the hyper-parameters that shape the module (bools as 0/1).</param>
public sealed record NeuralSidecar(
    string Format,
    string Family,
    string Mode,
    string Input,
    IReadOnlyList<string> Features,
    int Steps,
    int Classes,
    IReadOnlyDictionary<string, double> Architecture,
    float[] Mean,
    float[] Std,
    long Seed)
{
    public const string CurrentFormat = "cis490.neural/v1";

    public static string StateFile(string family) => $"{family}.state.bin";

    public static string NormFile(string family) => $"{family}.norm.json";

    /// <summary>Width of one encoded input row: value + missingness per feature (summary), or value + mask channels (tensor).</summary>
    public int InputWidth => 2 * Features.Count;

    public NormStats Norm => new(Mean, Std);

    public int Int(string name) => (int)Get(name);

    public double Get(string name) =>
        Architecture.TryGetValue(name, out var v) ? v : throw new InvalidDataException($"{NormFile(Family)} has no architecture value '{name}'");

    public void Save(string dir) => File.WriteAllText(Path.Combine(dir, NormFile(Family)), JsonSerializer.Serialize(this, Json.Options));

    public static NeuralSidecar Load(string dir, string family)
    {
        var path = Path.Combine(dir, NormFile(family));
        if (!File.Exists(path)) throw new FileNotFoundException($"no {NormFile(family)} in {dir}: the checkpoint folder is incomplete", path);
        var sidecar = JsonSerializer.Deserialize<NeuralSidecar>(File.ReadAllText(path), Json.Options) ?? throw new InvalidDataException($"{path} is empty");
        if (sidecar.Format != CurrentFormat) throw new InvalidDataException($"{path}: format '{sidecar.Format}' is not {CurrentFormat}");
        if (sidecar.Family != family) throw new InvalidDataException($"{path} is a '{sidecar.Family}' sidecar, not '{family}'");
        return sidecar;
    }
}

/// <summary>A trained (or loaded) neural model: the module with its best-on-validation weights, the sidecar, and the device.</summary>
public sealed class NeuralModel : ITrainedModel, IDisposable
{
    private readonly Module<Tensor, Tensor> _net;
    private readonly Device _device;
    private readonly int _batchSize;

    internal NeuralModel(Module<Tensor, Tensor> net, NeuralSidecar sidecar, Device device, int batchSize, IReadOnlyDictionary<string, double> extraMetrics)
    {
        _net = net;
        _device = device;
        _batchSize = batchSize;
        Sidecar = sidecar;
        ExtraMetrics = extraMetrics;
        _net.eval();
    }

    public NeuralSidecar Sidecar { get; }

    public IReadOnlyDictionary<string, double> ExtraMetrics { get; }

    /// <summary>Rows encoded per slice when scoring: a large test split's tensors are never all in memory twice.</summary>
    public const int ScoringSlice = 16384;

    public float[] PredictProba(ModelData data, IReadOnlyList<int> rows)
    {
        var proba = new float[rows.Count * Sidecar.Classes];
        for (var start = 0; start < rows.Count; start += ScoringSlice)
        {
            var slice = rows.Skip(start).Take(ScoringSlice).ToArray();
            PredictProba(Encode(data, slice, Sidecar)).CopyTo(proba, start * Sidecar.Classes);
        }
        return proba;
    }

    /// <summary>Scores windows given as a tensor batch (tests flip a channel's mask with it).</summary>
    internal float[] PredictProba(TensorBatch batch) => PredictProba(new SequenceRows(batch, Sidecar.Norm));

    internal float[] PredictProba(IEncodedRows rows) => rows.Count == 0 ? [] : NeuralTrainer.Predict(_net, rows, _batchSize, _device);

    public string Save(string dir)
    {
        Directory.CreateDirectory(dir);
        Sidecar.Save(dir);
        var state = NeuralSidecar.StateFile(Sidecar.Family);
        _net.save(Path.Combine(dir, state));
        return state;
    }

    public void Dispose() => _net.Dispose();

    /// <summary>The model's input for table rows, standardised with the training statistics in <paramref name="sidecar"/>.</summary>
    internal static IEncodedRows Encode(ModelData data, IReadOnlyList<int> rows, NeuralSidecar sidecar)
    {
        var features = sidecar.Input == "tensor" ? data.TensorChannels.Select(c => data.Schema.TensorChannels[c]).ToList() : data.Columns;
        if (!features.SequenceEqual(sidecar.Features))
            throw new InvalidDataException($"the {sidecar.Family} model reads the {sidecar.Mode} {sidecar.Input} features it was trained on " +
                                           $"({sidecar.Features.Count}); the data's {data.Mode} mode has {features.Count}, not the same: use data of the model's schema and mode");
        if (sidecar.Input == "tensor")
        {
            if (data.Shards.Steps != sidecar.Steps)
                throw new InvalidDataException($"the {sidecar.Family} model reads {sidecar.Steps}-second windows, the data has {data.Shards.Steps}");
            return new ShardRows(data, rows, sidecar.Norm);
        }
        var (x, y) = data.Summary(rows);
        return new SummaryRows(x, y, sidecar.Norm);
    }
}
