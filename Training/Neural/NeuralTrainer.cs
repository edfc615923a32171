using System.Diagnostics;
using System.Runtime.InteropServices;
using Cis490.Shared.Models;
using Cis490.Training.Evaluation;
using Cis490.Training.Runner;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Cis490.Training.Neural;

/// <summary>The training-loop hyper-parameters every neural family shares (ModelCatalog's NeuralCommon), plus the seed.</summary>
public sealed record TrainSettings(double Lr, double WeightDecay, int BatchSize, int MaxEpochs, int Patience, double ClassWeightClip, long Seed)
{
    public static TrainSettings From(HyperValues hyper, long seed) => new(
        hyper.GetFloat("lr"), hyper.GetFloat("weight_decay"), (int)hyper.GetInt("batch_size"), (int)hyper.GetInt("max_epochs"),
        (int)hyper.GetInt("patience"), hyper.GetFloat("class_weight_clip"), seed);
}

/// <summary>How a training run went: the epoch whose weights were kept, how many epochs ran, each epoch's validation macro F1
/// and wall time (its training steps and its validation scoring).</summary>
public sealed record TrainOutcome(int BestEpoch, int EpochsRun, double BestValMacroF1, IReadOnlyList<double> ValMacroF1ByEpoch, long Parameters,
    IReadOnlyList<double> EpochSeconds)
{
    /// <summary>The epoch times that say what an epoch costs: all but the first (JIT compilation, first-touch allocations) when
    /// there are others, sorted.</summary>
    private double[] SteadyEpochs => (EpochSeconds.Count > 1 ? EpochSeconds.Skip(1) : EpochSeconds).Order().ToArray();

    /// <summary>The median steady epoch time.</summary>
    public double TypicalEpochSeconds
    {
        get
        {
            var times = SteadyEpochs;
            return times.Length == 0 ? double.NaN : times.Length % 2 == 1 ? times[times.Length / 2] : (times[times.Length / 2 - 1] + times[times.Length / 2]) / 2;
        }
    }

    /// <summary>The fastest steady epoch: on a shared machine, the one least disturbed by other work.</summary>
    public double FastestEpochSeconds => SteadyEpochs.FirstOrDefault(double.NaN);
}

/// <summary>The one training loop of the neural families: class-weighted cross-entropy, AdamW, linear warm-up over the first 5 %
/// of steps then cosine decay to 0, early stopping on validation macro F1 with the best epoch's weights restored. Seeded and, on
/// the CPU, deterministic: the caller seeds torch (<see cref="TorchRuntime.Seed"/>) before building the module, and the batch
/// order comes from a <see cref="Random"/> with the same seed.</summary>
public static class NeuralTrainer
{
    public const double WarmupFraction = 0.05;

    /// <summary>Steps of linear warm-up for a run of <paramref name="totalSteps"/> (at least one).</summary>
    public static int WarmupSteps(int totalSteps) => Math.Max(1, (int)Math.Ceiling(totalSteps * WarmupFraction));

    /// <summary>The learning rate of 0-based optimizer step <paramref name="step"/>: rises linearly to <paramref name="peak"/>
    /// over <paramref name="warmup"/> steps (reaching it at step warmup − 1), then follows a half cosine from the peak at step
    /// <paramref name="warmup"/> down to 0 at step <paramref name="total"/>.</summary>
    public static double LearningRate(int step, int total, int warmup, double peak)
    {
        if (step < warmup) return peak * (step + 1) / warmup;
        if (total <= warmup) return peak;
        var progress = Math.Min(1.0, (double)(step - warmup) / (total - warmup));
        return peak * 0.5 * (1 + Math.Cos(Math.PI * progress));
    }

    /// <summary>Inverse-frequency class weights of the training labels, normalised so that the average weight over the training
    /// rows is 1 (rows / (present classes × count), scikit-learn's "balanced"), then clipped at <paramref name="clip"/>. A class
    /// absent from training gets weight 1 (it is never a target, so its weight is never used).</summary>
    public static float[] ClassWeights(IReadOnlyList<int> labels, int classes, double clip)
    {
        var counts = new long[classes];
        foreach (var y in labels) counts[y]++;
        var present = counts.Count(c => c > 0);
        return counts.Select(n => n == 0 ? 1f : (float)Math.Min(clip, (double)labels.Count / (present * n))).ToArray();
    }

    internal static TrainOutcome Fit(Module<Tensor, Tensor> net, IEncodedRows train, IEncodedRows val, int classes, TrainSettings s,
        Device device, Action<ProgressReport> progress, CancellationToken cancel)
    {
        if (train.Count == 0) throw new InvalidOperationException("no training rows");
        var clock = Stopwatch.StartNew();
        net.to(device);
        var parameters = net.parameters().Sum(p => p.numel());
        using var weights = tensor(ClassWeights(train.Y, classes, s.ClassWeightClip)).to(device);
        using var optimizer = new AdamW(net.parameters(), s.WeightDecay);
        var rng = new Random(unchecked((int)s.Seed ^ (int)(s.Seed >> 32)));
        var stepsPerEpoch = (train.Count + s.BatchSize - 1) / s.BatchSize;
        var total = stepsPerEpoch * s.MaxEpochs;
        var warmup = WarmupSteps(total);
        var order = Enumerable.Range(0, train.Count).ToArray();
        using var batch = new BatchTensors(train, s.BatchSize);

        Dictionary<string, Tensor>? best = null;
        var bestF1 = double.NegativeInfinity;
        var bestEpoch = 0;
        var history = new List<double>();
        var epochSeconds = new List<double>();
        var step = 0;
        try
        {
            for (var epoch = 1; epoch <= s.MaxEpochs; epoch++)
            {
                var epochStart = clock.Elapsed;
                net.train();
                rng.Shuffle(order);
                double lossSum = 0;
                for (var start = 0; start < order.Length; start += s.BatchSize)
                {
                    cancel.ThrowIfCancellationRequested();
                    using var scope = NewDisposeScope();
                    var rows = order.AsSpan(start, Math.Min(s.BatchSize, order.Length - start));
                    var lr = LearningRate(step++, total, warmup, s.Lr);
                    var (x, y) = batch.Fill(train, rows, device);
                    optimizer.ZeroGrad();
                    var loss = nn.functional.cross_entropy(net.call(x), y, weights);
                    var lossValue = loss.item<float>();
                    // A diverged run would otherwise go on for every remaining epoch and keep NaN weights.
                    if (!float.IsFinite(lossValue))
                        throw new InvalidOperationException($"the train loss is {lossValue} at epoch {epoch}, step {step} (learning rate {lr:G3}): the run diverged; lower 'lr'");
                    loss.backward();
                    optimizer.Step(lr);
                    lossSum += lossValue * rows.Length;
                }

                var valF1 = val.Count == 0 ? double.NaN : Metrics.MacroF1(val.Y, ArgMax(Predict(net, val, s.BatchSize, device), classes), classes);
                history.Add(valF1);
                epochSeconds.Add((clock.Elapsed - epochStart).TotalSeconds);
                // Without validation rows there is nothing to stop on: every epoch counts as the best, the last one is kept.
                if (best is null || double.IsNaN(valF1) || valF1 > bestF1)
                {
                    Release(best);
                    best = Snapshot(net);
                    (bestF1, bestEpoch) = (valF1, epoch);
                }
                var trainLoss = lossSum / train.Count;
                progress(new ProgressReport(epoch, s.MaxEpochs, trainLoss, double.IsNaN(valF1) ? null : valF1, clock.Elapsed.TotalSeconds,
                    $"epoch {epoch}/{s.MaxEpochs}: train loss {trainLoss:F4}, val macro F1 {valF1:F4} (best {bestF1:F4} at epoch {bestEpoch})"));
                if (epoch - bestEpoch >= s.Patience) break;
            }
            net.load_state_dict(best!);
        }
        finally
        {
            Release(best);
        }
        return new TrainOutcome(bestEpoch, history.Count, bestF1, history, parameters, epochSeconds);
    }

    /// <summary>Softmax probabilities, rows × classes, in eval mode and batches of <paramref name="batchSize"/>.</summary>
    internal static float[] Predict(Module<Tensor, Tensor> net, IEncodedRows rows, int batchSize, Device device)
    {
        var wasTraining = net.training;
        net.eval();
        try
        {
            using var _ = no_grad();
            float[]? result = null;
            using var batch = new BatchTensors(rows, batchSize);
            var index = Enumerable.Range(0, rows.Count).ToArray();
            for (var start = 0; start < rows.Count; start += batchSize)
            {
                using var scope = NewDisposeScope();
                var count = Math.Min(batchSize, rows.Count - start);
                var (x, _) = batch.Fill(rows, index.AsSpan(start, count), device);
                var proba = nn.functional.softmax(net.call(x), 1).cpu().contiguous();
                var classes = (int)proba.shape[1];
                result ??= new float[rows.Count * classes];
                MemoryMarshal.Cast<byte, float>(proba.bytes).CopyTo(result.AsSpan(start * classes, count * classes));
            }
            return result ?? [];
        }
        finally
        {
            net.train(wasTraining);
        }
    }

    internal static int[] ArgMax(float[] proba, int classes) => Cis490.Training.Models.KnnClassifier.ArgMax(proba, classes);

    /// <summary>A detached copy of every parameter and buffer, outside any dispose scope.</summary>
    private static Dictionary<string, Tensor> Snapshot(Module<Tensor, Tensor> net)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        return net.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone().MoveToOuterDisposeScope());
    }

    private static void Release(Dictionary<string, Tensor>? state)
    {
        if (state is null) return;
        foreach (var t in state.Values) t.Dispose();
        state.Clear();
    }
}
