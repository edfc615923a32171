namespace Cis490.Training.Neural.Tests;

/// <summary>The shared training loop's pieces: learning-rate schedule, class weights, and early stopping.</summary>
[Collection(NeuralCollection.Name)]
public sealed class TrainerTests(NeuralFixture fixture)
{
    [Fact]
    public void The_learning_rate_warms_up_linearly_over_5_percent_of_steps_then_decays_by_cosine_to_zero()
    {
        const int total = 400;
        const double peak = 0.01;
        var warmup = NeuralTrainer.WarmupSteps(total);
        Assert.Equal(20, warmup);
        var lr = Enumerable.Range(0, total + 1).Select(s => NeuralTrainer.LearningRate(s, total, warmup, peak)).ToArray();

        for (var s = 0; s < warmup; s++) Assert.Equal(peak * (s + 1) / warmup, lr[s], 12);
        Assert.Equal(peak, lr[warmup - 1], 12);
        Assert.Equal(peak, lr[warmup], 12);
        Assert.Equal(peak / 2, lr[warmup + (total - warmup) / 2], 12);
        for (var s = warmup + 1; s <= total; s++) Assert.True(lr[s] < lr[s - 1], $"step {s}: {lr[s]} is not below {lr[s - 1]}");
        Assert.Equal(0, lr[total], 12);
        Assert.All(lr, v => Assert.InRange(v, 0, peak));
    }

    [Fact]
    public void A_short_run_still_warms_up_for_one_step()
    {
        Assert.Equal(1, NeuralTrainer.WarmupSteps(3));
        Assert.Equal(0.5, NeuralTrainer.LearningRate(0, 3, 1, 0.5), 12);
        Assert.Equal(0.25, NeuralTrainer.LearningRate(2, 3, 1, 0.5), 12);
    }

    [Fact]
    public void Class_weights_are_inverse_frequency_normalised_to_mean_one_and_clipped()
    {
        // 1000 rows: 100 clean, 10 armed, 10 infecting, 880 infected_running.
        int[] labels = [.. Enumerable.Repeat(0, 100), .. Enumerable.Repeat(1, 10), .. Enumerable.Repeat(2, 10), .. Enumerable.Repeat(3, 880)];

        var unclipped = NeuralTrainer.ClassWeights(labels, 4, clip: 1000);
        Assert.Equal([2.5f, 25f, 25f, 1000f / (4 * 880)], unclipped);
        Assert.Equal(1.0, labels.Average(y => unclipped[y]), 6); // the average row weight is 1

        var clipped = NeuralTrainer.ClassWeights(labels, 4, clip: 10);
        Assert.Equal([2.5f, 10f, 10f, 1000f / (4 * 880)], clipped);
    }

    [Fact]
    public void A_class_absent_from_training_gets_weight_one_and_the_others_share_the_normalisation()
    {
        int[] labels = [0, 0, 0, 3];
        Assert.Equal([4f / (2 * 3), 1f, 1f, 4f / (2 * 1)], NeuralTrainer.ClassWeights(labels, 4, clip: 10));
    }

    [Fact]
    public void Epoch_times_leave_out_the_first_epoch_then_give_the_median_and_the_fastest()
    {
        TrainOutcome Run(params double[] seconds) => new(1, seconds.Length, 0.5, [.. seconds.Select(_ => 0.5)], 10, seconds);
        Assert.Equal((0.2, 0.1), (Run(9.0, 0.3, 0.1, 0.2).TypicalEpochSeconds, Run(9.0, 0.3, 0.1, 0.2).FastestEpochSeconds));
        Assert.Equal(0.25, Run(9.0, 0.1, 0.4, 0.3, 0.2).TypicalEpochSeconds, 12); // an even count: the middle two's mean
        Assert.Equal((2.5, 2.5), (Run(2.5).TypicalEpochSeconds, Run(2.5).FastestEpochSeconds)); // one epoch: itself
    }

    [Fact]
    public void Patience_one_stops_training_at_the_first_epoch_without_a_better_validation_f1()
    {
        // A learning rate this small leaves every prediction where it was: validation F1 is flat from the first epoch.
        var run = fixture.TrainNew("mlp", "realistic", """{"lr": 1e-6, "patience": 1, "max_epochs": 6}""");
        try
        {
            var epochs = run.Reports.Where(r => r.Epoch > 0).ToList();
            Assert.Equal(2, (int)run.Model.ExtraMetrics["epochs_run"]);
            Assert.Equal(1, (int)run.Model.ExtraMetrics["best_epoch"]);
            Assert.Equal(2, epochs.Count);
            Assert.Equal(epochs[0].ValMacroF1, epochs[1].ValMacroF1);
            // Two epochs: the second alone is the steady one, so median and fastest are the same, real time.
            Assert.True(run.Model.ExtraMetrics["epoch_seconds"] > 0);
            Assert.Equal(run.Model.ExtraMetrics["epoch_seconds"], run.Model.ExtraMetrics["epoch_seconds_fastest"]);
            // The mlp trains on one intra-op thread (its products are too small for a second), recorded in the checkpoint.
            Assert.Equal(1, run.Model.ExtraMetrics["threads"]);
        }
        finally
        {
            (run.Model as IDisposable)?.Dispose();
        }
    }

    [Fact]
    public void A_job_that_is_cancelled_stops_within_a_batch()
    {
        using var cancel = new CancellationTokenSource();
        var family = NeuralFixture.Family("gru");
        var hyper = NeuralFixture.Hyper("gru");
        Assert.Throws<OperationCanceledException>(() => family.Train(fixture.Data("realistic"), hyper, r =>
        {
            if (r.Epoch == 1) cancel.Cancel();
        }, cancel.Token));
    }

    [Fact]
    public void The_operators_thread_count_wins_over_the_familys_and_a_bad_one_is_an_error_naming_the_variable()
    {
        Assert.Equal(1, TorchRuntime.IntraOpThreads(1, _ => null));
        Assert.Equal(2, TorchRuntime.IntraOpThreads(2, _ => " "));
        Assert.Equal(3, TorchRuntime.IntraOpThreads(1, name => name == TorchRuntime.ThreadsVariable ? "3" : null));
        foreach (var bad in new[] { "0", "-1", "two", "1.5", "5000" })
        {
            var e = Assert.Throws<ArgumentException>(() => TorchRuntime.IntraOpThreads(1, _ => bad));
            Assert.Contains($"CIS490_TORCH_THREADS='{bad}'", e.Message);
        }
    }
}
