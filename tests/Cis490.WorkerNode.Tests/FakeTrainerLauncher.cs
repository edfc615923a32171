using System.Text.Json;
using System.Threading.Channels;
using Cis490.Training.Runner;
using Cis490.WorkerNode.Trainer;

namespace Cis490.WorkerNode.Tests;

/// <summary>Starts no process: each start is a <see cref="FakeTrainer"/> that the test drives, printing the lines a real trainer
/// prints (<see cref="TrainerOutput"/>) and leaving the checkpoint a real one leaves.</summary>
public sealed class FakeTrainerLauncher : ITrainerLauncher
{
    private readonly Channel<FakeTrainer> _started = Channel.CreateUnbounded<FakeTrainer>();
    private int _nextId = 1000;

    /// <summary>When set, every start throws it, as <c>Process.Start</c> does for a missing or unrunnable program.</summary>
    public Exception? StartFailure { get; set; }

    public ITrainerProcess Start(string jobFile, Action<string> output, Action<string> error, Action<int> exited)
    {
        if (StartFailure is { } e) throw e;
        var trainer = new FakeTrainer(Interlocked.Increment(ref _nextId), TrainRequest.Load(jobFile), output, error, exited);
        _started.Writer.TryWrite(trainer);
        return trainer;
    }

    /// <summary>The next trainer started, in start order.</summary>
    public async Task<FakeTrainer> NextStarted()
    {
        using var cts = new CancellationTokenSource(TestConfig.Wait);
        return await _started.Reader.ReadAsync(cts.Token);
    }
}

/// <summary>One fake trainer process: the request the worker wrote for it, and the test's hands on its output and exit.</summary>
public sealed class FakeTrainer(int id, TrainRequest request, Action<string> output, Action<string> error, Action<int> exited) : ITrainerProcess
{
    private readonly TaskCompletionSource _killed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _exited;

    public TrainRequest Request { get; } = request;

    public int Id { get; } = id;

    public bool HasExited => _exited;

    /// <summary>Completes when the worker kills this process.</summary>
    public Task Killed => _killed.Task;

    public void PrintProgress(int epoch, int totalEpochs, string message = "epoch") =>
        output(TrainerOutput.Progress(new ProgressReport(epoch, totalEpochs, 0.5, 0.25, epoch, message)));

    public void PrintAlive() => output(TrainerOutput.Alive);

    public void PrintError(string line) => error(line);

    /// <summary>Writes a checkpoint into the request's output folder, as TrainerRunner does, and exits 0.</summary>
    public void FinishTraining(IReadOnlyDictionary<string, double> metrics)
    {
        Directory.CreateDirectory(Request.OutDir);
        using var hyper = JsonDocument.Parse(Request.HyperJson);
        var now = DateTimeOffset.UtcNow;
        new Checkpoint(Checkpoint.CurrentFormat, Request.Model, Request.Mode, hyper.RootElement.Clone(), "schema-sha", ["f1"], ["clean", "infected"],
                "model.bin", metrics, new SplitInfo(Request.SplitRecipe, "hosts", Request.TrainHosts, Request.Seed, [], []),
                new Lineage(Request.JobId, Request.LeaseId, "data-sha", "abc", null, now, now))
            .Save(Request.OutDir);
        // Incompressible and larger than one upload chunk, so the bundle streams in several.
        var sidecar = new byte[300_000];
        new Random(Request.Seed.GetHashCode()).NextBytes(sidecar);
        File.WriteAllBytes(Path.Combine(Request.OutDir, "model.bin"), sidecar);
        Exit(0);
    }

    public void Exit(int code)
    {
        _exited = true;
        exited(code);
    }

    public void Kill(TimeSpan grace)
    {
        if (_exited) return;
        _exited = true;
        _killed.TrySetResult();
        exited(137); // what a killed process reports; the stopped actor never reads it
    }

    public void Dispose() { }
}
