using System.Diagnostics;
using System.Text;
using Cis490.Protocols.Workers;
using Cis490.Shared.Capability;
using Cis490.WorkerNode.Trainer;

namespace Cis490.WorkerNode.Node;

/// <summary>At every start the worker asks its own trainer (<c>trainer self-test</c>, the same child-process entry that trains
/// leases) what this machine can run, and advertises only that. Nothing is cached: a library installed or removed since the
/// last start is seen at the next one.</summary>
public static class WorkerSelfTest
{
    /// <summary>Exit code of the worker when the self-test fails to run, or finds no family it can train.</summary>
    public const int ExitCode = 5;

    /// <summary>Runs the self-test under <paramref name="workRoot"/> within <paramref name="timeout"/>; throws <see cref="WorkerStopped"/>
    /// when it does not report (time-out, crash, unreadable report) or when no family can run.</summary>
    public static async Task<SelfTestReport> Run(string workRoot, TimeSpan timeout, Action<string> log)
    {
        try
        {
            Directory.CreateDirectory(workRoot);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new WorkerStopped($"self-test: cannot make the work folder {workRoot} ({e.Message}); a worker that cannot write there cannot train. Fix --work-dir or TMPDIR", ExitCode);
        }
        var clock = Stopwatch.StartNew();
        using var process = new Process { StartInfo = TrainerProcess.SelfTestStartInfo(workRoot) };
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var limit = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            throw new WorkerStopped($"self-test: the trainer did not finish within {timeout.TotalSeconds:0.###} s (cis490.worker.self-test-timeout) and was " +
                                    $"killed; not registering. Its output so far:\n{Tail(stderr)}", ExitCode);
        }
        process.WaitForExit(); // the redirected output is drained
        SelfTestReport report;
        try
        {
            report = SelfTestReport.Parse(Text(stdout));
        }
        catch (InvalidDataException e)
        {
            throw new WorkerStopped($"self-test: the trainer exited with code {process.ExitCode} after {clock.Elapsed.TotalSeconds:F1} s without a readable " +
                                    $"report ({e.Message}); not registering. Its output:\n{Tail(stderr)}", ExitCode);
        }
        log($"self-test: {Describe(report)} ({clock.Elapsed.TotalSeconds:F1} s with the trainer's start-up)");
        if (report.Runnable.Count == 0)
            throw new WorkerStopped("self-test: this machine can run NO model family, so it does not register: " +
                                    report.ProblemSummary(), ExitCode);
        return report;
    }

    /// <summary>One line: what runs, what does not and why, the engines.</summary>
    public static string Describe(SelfTestReport r)
    {
        var cannot = r.Problems.Count == 0 ? "" : $"; cannot train {r.ProblemSummary()}";
        return $"can train {string.Join(", ", r.Runnable)}{cannot}; torch {r.TorchVersion ?? "none"}, xgboost {r.XgboostVersion ?? "none"}, " +
               $"torch cuda {(r.TorchCuda ? "yes" : "no")}; the trainer's own run {r.Seconds:F1} s";
    }

    /// <summary>The capability line a person reads in the log: families, engines and CUDA with its reason.</summary>
    public static string Describe(WorkerCapability c) =>
        $"families {string.Join(",", c.Families ?? ["(all)"])}, torch {c.TorchVersion}, xgboost {c.XgboostVersion ?? "none"}, " +
        $"cuda: {(c.Cuda ? $"true ({c.CudaDevice}, {c.VramGib:0.#} GiB)" : $"false ({c.CudaNote})")}";

    private static string Text(StringBuilder b)
    {
        lock (b) return b.ToString();
    }

    private static string Tail(StringBuilder b)
    {
        var lines = Text(b).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return lines.Length == 0 ? "(nothing)" : string.Join('\n', lines.TakeLast(20));
    }
}
