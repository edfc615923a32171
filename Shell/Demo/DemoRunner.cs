using System.Diagnostics;
using Cis490.Protocols.Jobs;
using Cis490.Protocols.Operator;
using Cis490.Shell.Client;
using Cis490.Shell.Commands;

namespace Cis490.Shell.Demo;

/// <summary><c>./cis490 demo</c>: a coordinator (with its dashboard) and two workers as separate processes on loopback, the demo
/// manifest, live progress, the final table, the evaluation; then the nodes are stopped, or with <c>--keep-running</c> left up
/// until Ctrl-C so a person can look at the dashboard.</summary>
public static class DemoRunner
{
    /// <param name="httpPort">The dashboard's port (0: a free one).</param>
    /// <param name="keepRunning">Leave the fleet and the dashboard up after the evaluation, until Ctrl-C or SIGTERM.</param>
    public static async Task<int> Run(string dataDir, string manifestPath, int episodes, TimeSpan timeout, int httpPort = 0, bool keepRunning = false)
    {
        dataDir = Path.GetFullPath(dataDir);
        var logs = Path.Combine(dataDir, "logs");
        var features = Path.Combine(dataDir, "features");
        var episodeDir = Path.Combine(dataDir, "episodes");
        Directory.CreateDirectory(dataDir);
        Program.Out.WriteLine($"cis490 demo: data directory {dataDir}");

        Program.Out.WriteLine($"[1/6] {episodes} synthetic episodes → {episodeDir}; features and tensors → {features}");
        await RunStep("data-generate", ["data", "generate", "--out", episodeDir, "--episodes", episodes.ToString(), "--seed", "490"], logs);
        await RunStep("data-build", ["data", "build", "--episodes", episodeDir, "--out", features], logs);

        var port = NodeProcess.FreePort();
        var nodes = new List<NodeProcess>();
        try
        {
            if (httpPort == 0) httpPort = NodeProcess.FreePort();
            var dashboard = $"http://127.0.0.1:{httpPort}/";
            Program.Out.WriteLine($"[2/6] coordinator on 127.0.0.1:{port}");
            var coordinator = NodeProcess.Start("coordinator", "Cis490.Coordinator",
                ["--port", port.ToString(), "--data-dir", dataDir, "--http-port", httpPort.ToString()], logs);
            nodes.Add(coordinator);
            Program.Out.WriteLine("      " + await coordinator.WaitReady(TimeSpan.FromSeconds(60)));
            Program.Out.WriteLine($"      dashboard: {dashboard}  (cancel/requeue there need the operator token: {Path.Combine(dataDir, "operator.token")})");

            var seed = $"akka.tcp://cis490@127.0.0.1:{port}";
            Program.Out.WriteLine($"[3/6] two workers joining {seed}");
            for (var i = 1; i <= 2; i++)
                nodes.Add(NodeProcess.Start($"worker{i}", "Cis490.WorkerNode",
                    ["worker", "--seed", seed, "--data", features, "--worker-id", $"demo-worker-{i}", "--work-dir", Path.Combine(dataDir, "work", $"worker{i}")], logs));
            foreach (var w in nodes.Skip(1)) Program.Out.WriteLine("      " + await w.WaitReady(TimeSpan.FromSeconds(60)));

            await using var client = CoordinatorClient.Connect($"127.0.0.1:{port}");
            Program.Out.WriteLine($"[4/6] submitting {manifestPath}");
            // The coordinator took CIS490_OPERATOR_TOKEN, or made a token in its data directory on start-up.
            var token = Environment.GetEnvironmentVariable("CIS490_OPERATOR_TOKEN") is { Length: > 0 } fromEnv
                ? fromEnv
                : (await File.ReadAllTextAsync(Path.Combine(dataDir, "operator.token"))).Trim();
            var reply = await client.Ask(new OperatorProtocol.SubmitManifest(Path.GetFileName(manifestPath), await File.ReadAllTextAsync(manifestPath), token));
            if (reply is OperatorProtocol.ManifestRejected rejected)
            {
                foreach (var e in rejected.Errors) Console.Error.WriteLine(e);
                return 1;
            }
            if (reply is OperatorProtocol.OperatorError refused)
            {
                Console.Error.WriteLine(refused.Message);
                return 1;
            }
            var accepted = (OperatorProtocol.ManifestAccepted)reply;
            Program.Out.WriteLine($"      {accepted.AddedCount} new job(s), {accepted.KnownCount} already known");

            Program.Out.WriteLine("[5/6] training");
            var clock = Stopwatch.StartNew();
            OperatorProtocol.JobList list;
            var last = "";
            while (true)
            {
                list = await client.ListJobs();
                var summary = JobsTable.Summary(list.Jobs);
                if (summary != last) Program.Out.WriteLine($"      {clock.Elapsed.TotalSeconds,6:F1}s  {summary}");
                last = summary;
                if (list.Jobs.All(j => j.Status is JobStatus.Completed or JobStatus.Failed or JobStatus.Cancelled)) break;
                if (clock.Elapsed > timeout) throw new TimeoutException($"jobs not finished after {timeout.TotalMinutes:F0} minutes; see {logs}");
                foreach (var n in nodes.Where(n => n.HasExited))
                    throw new InvalidOperationException($"{n.Name} exited during the demo; see {n.LogPath}");
                await Task.Delay(1000);
            }
            Program.Out.WriteLine();
            Program.Out.WriteLine(JobsTable.Text(list.Jobs));
            Program.Out.WriteLine($"artifacts: {Path.Combine(dataDir, "models")} (index: models/index.jsonl)");
            Program.Out.WriteLine();
            var reports = Path.Combine(dataDir, "reports", "eval");
            Program.Out.WriteLine($"[6/6] evaluating the artifacts on the test split → {reports}");
            await RunStep("eval", ["eval", "--artifacts", Path.Combine(dataDir, "models"), "--data", features, "--out", reports], logs, echoLines: 14);
            Program.Out.WriteLine($"report: {Path.Combine(reports, "comparison.md")}");
            Program.Out.WriteLine($"dashboard: {dashboard}");
            if (keepRunning)
            {
                Program.Out.WriteLine($"--keep-running: the fleet and the dashboard stay up at {dashboard}; Ctrl-C stops them");
                await UntilStopped(nodes);
            }
            return list.Jobs.All(j => j.Status == JobStatus.Completed) ? 0 : 1;
        }
        finally
        {
            Program.Out.WriteLine("stopping the nodes");
            foreach (var n in Enumerable.Reverse(nodes)) n.Terminate();
            foreach (var n in nodes)
            {
                if (!await n.WaitExit(TimeSpan.FromSeconds(30))) n.Kill();
                n.Dispose();
            }
        }
    }

    /// <summary>Waits for Ctrl-C or SIGTERM (the nodes are then stopped by the caller), or for a node to exit by itself.</summary>
    private static async Task UntilStopped(IReadOnlyList<NodeProcess> nodes)
    {
        var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true; // stop the nodes in order rather than die here
            stop.TrySetResult();
        };
        Console.CancelKeyPress += onCancel;
        using var term = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c =>
        {
            c.Cancel = true;
            stop.TrySetResult();
        });
        try
        {
            while (!stop.Task.IsCompleted)
            {
                if (nodes.FirstOrDefault(n => n.HasExited) is { } gone)
                {
                    Program.Out.WriteLine($"{gone.Name} exited; see {gone.LogPath}");
                    return;
                }
                await Task.WhenAny(stop.Task, Task.Delay(1000));
            }
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    /// <summary>Runs one pipeline command to completion, echoing its summary lines; a failure stops the demo with the log's path.</summary>
    private static async Task RunStep(string name, string[] args, string logs, int echoLines = int.MaxValue)
    {
        using var step = NodeProcess.Start(name, "Cis490.WorkerNode", args, logs);
        if (!await step.WaitExit(TimeSpan.FromMinutes(10))) throw new TimeoutException($"{name} took more than 10 minutes; see {step.LogPath}");
        foreach (var line in File.ReadLines(step.LogPath).Where(l => !l.StartsWith("[stderr]", StringComparison.Ordinal)).Take(echoLines))
            Program.Out.WriteLine("      " + line);
        if (step.ExitCode != 0) throw new InvalidOperationException($"{name} failed (exit code {step.ExitCode}); see {step.LogPath}");
    }
}
