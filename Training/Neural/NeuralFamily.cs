using Cis490.Shared.Models;
using Cis490.Training.Data;
using Cis490.Training.Models;
using Cis490.Training.Runner;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Cis490.Training.Neural;

/// <summary>What the five neural families share: encode the split (statistics from the train rows only), seed, build the
/// module from the architecture hyper-parameters, run <see cref="NeuralTrainer"/>, and save or load weights plus sidecar.
/// A family only says what it reads, which hyper-parameters shape it, and how to build its module.</summary>
public abstract class NeuralFamily : IModelFamily
{
    /// <summary>The seed when none is given (the family interface carries no job seed yet).</summary>
    public const long DefaultSeed = 490;

    /// <summary>Seeds module initialisation, dropout and batch order.</summary>
    public long Seed { get; init; } = DefaultSeed;

    public abstract string Name { get; }

    /// <summary>True for tensor windows (sequence models), false for summary features.</summary>
    protected abstract bool ReadsTensors { get; }

    /// <summary>The hyper-parameters that shape the module, as the sidecar stores them (bools as 0/1).</summary>
    protected abstract IReadOnlyDictionary<string, double> Architecture(HyperValues hyper);

    /// <summary>A fresh module for the sidecar's input and architecture (initialised from torch's seeded generator).</summary>
    internal abstract Module<Tensor, Tensor> Build(NeuralSidecar sidecar);

    protected ModelDefinition Definition => ModelCatalog.Declared[Name];

    public ITrainedModel Train(ModelData data, HyperValues hyper, Action<ProgressReport> progress, CancellationToken cancel)
    {
        TorchRuntime.EnsureAvailable();
        // Read (and check) the architecture before any data is touched: a bad combination fails at once.
        var architecture = new Dictionary<string, double>(Architecture(hyper)) { ["dropout"] = hyper.GetFloat("dropout") };
        var seed = Seed + data.Seed; // the family's base seed, moved by the job's seed
        var settings = TrainSettings.From(hyper, seed);
        var device = TorchRuntime.PickDevice(hyper.GetString("device"));
        progress(new ProgressReport(0, settings.MaxEpochs, null, null, 0, $"{Name}: reading {data.Split.Train.Length} training and {data.Split.Val.Length} validation windows"));

        IEncodedRows train, val;
        NeuralSidecar sidecar;
        if (ReadsTensors)
        {
            // Streamed from the shards a batch at a time: the training windows are never all in memory.
            var norm = ShardRows.Fit(data, data.Split.Train);
            sidecar = NewSidecar(data, architecture, data.TensorChannels.Select(c => data.Schema.TensorChannels[c]).ToList(), data.Shards.Steps, norm);
            train = new ShardRows(data, data.Split.Train, norm);
        }
        else
        {
            var (x, y) = data.Summary(data.Split.Train);
            var norm = SummaryRows.Fit(x, data.Columns.Count);
            sidecar = NewSidecar(data, architecture, data.Columns, 0, norm);
            train = new SummaryRows(x, y, norm);
        }
        val = NeuralModel.Encode(data, data.Split.Val, sidecar);
        cancel.ThrowIfCancellationRequested();

        var threads = TorchRuntime.IntraOpThreads(PreferredThreads);
        using var seeded = TorchRuntime.Seed(seed, device, threads);
        var net = Build(sidecar);
        var outcome = NeuralTrainer.Fit(net, train, val, data.Classes, settings, device, progress, cancel);
        var extra = new Dictionary<string, double>
        {
            ["best_epoch"] = outcome.BestEpoch,
            ["epochs_run"] = outcome.EpochsRun,
            ["parameters"] = outcome.Parameters,
            // Median and fastest epoch after the first (training steps + validation scoring); ./cis490 bench mlp reads them.
            ["epoch_seconds"] = outcome.TypicalEpochSeconds,
            ["epoch_seconds_fastest"] = outcome.FastestEpochSeconds,
            ["threads"] = threads,
        };
        return new NeuralModel(net, sidecar, device, settings.BatchSize, extra);
    }

    public ITrainedModel Load(string dir, Checkpoint checkpoint)
    {
        TorchRuntime.EnsureAvailable();
        if (checkpoint.Model != Name) throw new InvalidDataException($"{dir} holds a '{checkpoint.Model}' checkpoint, not '{Name}'");
        var sidecar = NeuralSidecar.Load(dir, Name);
        var hyper = new HyperValues(Definition, checkpoint.Hyper.GetRawText());
        var device = TorchRuntime.PickDevice(hyper.GetString("device"));
        var state = Path.Combine(dir, string.IsNullOrEmpty(checkpoint.Sidecar) ? NeuralSidecar.StateFile(Name) : checkpoint.Sidecar);
        if (!File.Exists(state)) throw new FileNotFoundException($"no {Path.GetFileName(state)} in {dir}: the checkpoint folder is incomplete", state);
        var net = Build(sidecar);
        net.load(state);
        net.to(device);
        var extra = checkpoint.Metrics.Where(m => m.Key is "best_epoch" or "epochs_run" or "parameters" or "epoch_seconds" or "epoch_seconds_fastest" or "threads").ToDictionary(m => m.Key, m => m.Value);
        return new NeuralModel(net, sidecar, device, (int)hyper.GetInt("batch_size"), extra);
    }

    private NeuralSidecar NewSidecar(ModelData data, IReadOnlyDictionary<string, double> architecture, IReadOnlyList<string> features, int steps, NormStats norm) =>
        new(NeuralSidecar.CurrentFormat, Name, data.Mode, ReadsTensors ? "tensor" : "summary", [.. features], steps, data.Classes,
            architecture, norm.Mean, norm.Std, Seed + data.Seed);

    /// <summary>libtorch's intra-op threads for this family's training (<see cref="TorchRuntime.ThreadsVariable"/> overrides it):
    /// every core, unless the family's operations are too small to gain from more than one.</summary>
    protected virtual int PreferredThreads => Environment.ProcessorCount;

    /// <summary>A bool hyper-parameter as the sidecar stores it.</summary>
    protected static double Flag(bool value) => value ? 1 : 0;
}

/// <summary><c>mlp</c>: a multi-layer perceptron on the mode's summary features, z-scored with the training split's mean and
/// std; a missing value becomes 0 after z-scoring and sets its feature's missingness indicator (inputs: 2 × columns).</summary>
public sealed class MlpFamily : NeuralFamily
{
    public override string Name => "mlp";
    protected override bool ReadsTensors => false;

    /// <summary>One thread. An MLP step is a dozen products of a few million multiply-adds (256 × 180 × 128 at the defaults:
    /// ~0.2 ms), and libgomp's second thread waits passively (<see cref="TorchRuntime"/>), so every product first wakes it: on
    /// 2 cores, quiet, an epoch of the demo set took 37–39 ms on one thread against 59–61 ms on two (PyTorch with OpenBLAS, in the
    /// same minutes: 36 ms on one, 41 ms on two). <c>./cis490 bench mlp</c> measures both.</summary>
    protected override int PreferredThreads => 1;

    protected override IReadOnlyDictionary<string, double> Architecture(HyperValues hyper) =>
        new Dictionary<string, double> { ["hidden"] = hyper.GetInt("hidden"), ["layers"] = hyper.GetInt("layers") };

    internal override Module<Tensor, Tensor> Build(NeuralSidecar s) =>
        new MlpNet(s.InputWidth, s.Int("hidden"), s.Int("layers"), s.Get("dropout"), s.Classes);
}

/// <summary><c>cnn</c>: 1D convolutions over time on the tensor window, the mask concatenated as extra input channels.</summary>
public sealed class CnnFamily : NeuralFamily
{
    public override string Name => "cnn";
    protected override bool ReadsTensors => true;

    protected override IReadOnlyDictionary<string, double> Architecture(HyperValues hyper) => new Dictionary<string, double>
    {
        ["channels"] = hyper.GetInt("channels"), ["kernel_size"] = hyper.GetInt("kernel_size"), ["layers"] = hyper.GetInt("layers"),
    };

    internal override Module<Tensor, Tensor> Build(NeuralSidecar s) =>
        new CnnNet(s.InputWidth, s.Int("channels"), s.Int("kernel_size"), s.Int("layers"), s.Get("dropout"), s.Classes);
}

/// <summary>A recurrent network over the tensor window's seconds; each step's input is every channel's standardised value and its mask.</summary>
public abstract class RecurrentFamily : NeuralFamily
{
    protected override bool ReadsTensors => true;

    protected override IReadOnlyDictionary<string, double> Architecture(HyperValues hyper) => new Dictionary<string, double>
    {
        ["hidden"] = hyper.GetInt("hidden"), ["layers"] = hyper.GetInt("layers"), ["bidirectional"] = Flag(hyper.GetBool("bidirectional")),
    };

    internal override Module<Tensor, Tensor> Build(NeuralSidecar s) =>
        new RecurrentNet(Name, s.InputWidth, s.Int("hidden"), s.Int("layers"), s.Get("bidirectional") != 0, s.Get("dropout"), s.Classes);
}

/// <summary><c>gru</c>: a GRU over the window's seconds.</summary>
public sealed class GruFamily : RecurrentFamily
{
    public override string Name => "gru";
}

/// <summary><c>lstm</c>: an LSTM over the window's seconds.</summary>
public sealed class LstmFamily : RecurrentFamily
{
    public override string Name => "lstm";
}

/// <summary><c>transformer</c>: a small Transformer encoder over the window's seconds with a learned positional embedding and
/// masked mean pooling (seconds with no observed channel are left out of the mean); the mask is also an input.</summary>
public sealed class TransformerFamily : NeuralFamily
{
    public override string Name => "transformer";
    protected override bool ReadsTensors => true;

    protected override IReadOnlyDictionary<string, double> Architecture(HyperValues hyper)
    {
        var (dModel, heads) = (hyper.GetInt("d_model"), hyper.GetInt("heads"));
        if (dModel % heads != 0) throw new ArgumentException($"transformer: heads ({heads}) must divide d_model ({dModel})");
        return new Dictionary<string, double>
        {
            ["d_model"] = dModel, ["heads"] = heads, ["layers"] = hyper.GetInt("layers"), ["ff_dim"] = hyper.GetInt("ff_dim"),
        };
    }

    internal override Module<Tensor, Tensor> Build(NeuralSidecar s) =>
        new TransformerNet(s.InputWidth, s.Steps, s.Int("d_model"), s.Int("heads"), s.Int("layers"), s.Int("ff_dim"), s.Get("dropout"), s.Classes);
}

/// <summary>Registers the neural families with <see cref="ModelFamilies"/> (the worker calls this at start-up: Training itself
/// does not reference TorchSharp).</summary>
public static class NeuralFamilies
{
    public static readonly IReadOnlyList<string> Names = ["mlp", "cnn", "gru", "lstm", "transformer"];

    public static void Register()
    {
        ModelFamilies.Register("mlp", () => new MlpFamily());
        ModelFamilies.Register("cnn", () => new CnnFamily());
        ModelFamilies.Register("gru", () => new GruFamily());
        ModelFamilies.Register("lstm", () => new LstmFamily());
        ModelFamilies.Register("transformer", () => new TransformerFamily());
        // The self-test asks libtorch for its version and CUDA through this (loading it only then).
        SelfTest.RegisterTorch(TorchRuntime.Facts);
    }
}
