using System.Diagnostics;
using System.Text;
using Cis490.Protocols.Operator;
using Cis490.Shell.Client;
using Cis490.Shell.Demo;

namespace Cis490.Cluster.Tests;

/// <summary>A real fleet on loopback for one test: a coordinator process, worker processes, and the shell as a process.</summary>
public sealed partial class ClusterHarness : IAsyncDisposable
{
    private readonly List<NodeProcess> _nodes = [];
    private CoordinatorClient? _client;

    public string DataDir { get; }
    public string Features { get; }
    public int Port { get; } = NodeProcess.FreePort();
    public string Seed => $"akka.tcp://cis490@127.0.0.1:{Port}";
    public string Address => $"127.0.0.1:{Port}";
    public string Logs => Path.Combine(DataDir, "logs");
    public NodeProcess? Coordinator { get; private set; }

    public ClusterHarness(string features)
    {
        DataDir = Directory.CreateTempSubdirectory("cis490-cluster-").FullName;
        Features = features;
    }

    /// <param name="extra">More options for the coordinator (e.g. <c>--http-port N</c>).</param>
    public async Task<NodeProcess> StartCoordinator(params string[] extra)
    {
        Coordinator = NodeProcess.Start($"coordinator-{_nodes.Count}", "Cis490.Coordinator", ["--port", Port.ToString(), "--data-dir", DataDir, .. extra], Logs);
        _nodes.Add(Coordinator);
        await Coordinator.WaitReady(TimeSpan.FromSeconds(60));
        return Coordinator;
    }

    /// <summary>Starts a coordinator process without waiting for it to be ready (for a test that expects it to refuse to start
    /// or to die), with <paramref name="environment"/> set for it alone.</summary>
    public NodeProcess LaunchCoordinator(IReadOnlyDictionary<string, string>? environment, params string[] extra)
    {
        Coordinator = NodeProcess.Start($"coordinator-{_nodes.Count}", "Cis490.Coordinator", ["--port", Port.ToString(), "--data-dir", DataDir, .. extra], Logs,
            environment);
        _nodes.Add(Coordinator);
        return Coordinator;
    }

    public Task<NodeProcess> StartWorker(string id, params string[] extra) => StartWorker(id, null, extra);

    /// <summary>As <see cref="StartWorker(string, string[])"/>, with <paramref name="environment"/> set for the worker (and so its trainers).</summary>
    public async Task<NodeProcess> StartWorker(string id, IReadOnlyDictionary<string, string>? environment, params string[] extra)
    {
        var worker = NodeProcess.Start(id, "Cis490.WorkerNode",
            ["worker", "--seed", Seed, "--data", Features, "--worker-id", id, "--work-dir", Path.Combine(DataDir, "work", id), .. extra], Logs, environment);
        _nodes.Add(worker);
        await worker.WaitReady(TimeSpan.FromSeconds(60));
        return worker;
    }

    /// <summary>Starts a worker process without waiting for it to be ready (for a test that expects it never to join).</summary>
    public NodeProcess LaunchWorker(string id, params string[] extra)
    {
        var worker = NodeProcess.Start(id, "Cis490.WorkerNode",
            ["worker", "--seed", Seed, "--data", Features, "--worker-id", id, "--work-dir", Path.Combine(DataDir, "work", id), .. extra], Logs);
        _nodes.Add(worker);
        return worker;
    }

    /// <summary>The operator token the coordinator took: the environment's, or the one it made in its data directory.</summary>
    public string Token => Environment.GetEnvironmentVariable("CIS490_OPERATOR_TOKEN") is { Length: > 0 } t
        ? t
        : File.ReadAllText(Path.Combine(DataDir, "operator.token")).Trim();

    /// <summary>The /v1 worker token the coordinator made in its data directory (it serves HTTP).</summary>
    public string WorkerToken => File.ReadAllText(Path.Combine(DataDir, "worker.token")).Trim();

    /// <summary>Runs a mutating operator command (manifest submit, cancel, requeue) with the operator token, as an operator would.</summary>
    public Task<(int Exit, string Stdout, string Stderr)> RunShellAsOperator(params string[] args) => RunShell([.. args, "--token", Token]);

    public CoordinatorClient Client => _client ??= CoordinatorClient.Connect(Address);

    public async Task<IReadOnlyList<OperatorProtocol.JobView>> Jobs() => (await Client.ListJobs()).Jobs;

    /// <summary>Polls the job table until <paramref name="done"/> holds; on time-out the message carries the table and the logs' tails.</summary>
    public async Task<IReadOnlyList<OperatorProtocol.JobView>> WaitFor(Func<IReadOnlyList<OperatorProtocol.JobView>, bool> done, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        IReadOnlyList<OperatorProtocol.JobView> jobs = [];
        while (clock.Elapsed < timeout)
        {
            try
            {
                jobs = await Jobs();
                if (done(jobs)) return jobs;
            }
            catch (Shared.Cli.CliException) { } // the coordinator is restarting: ask again
            await Task.Delay(250);
        }
        throw new TimeoutException($"{what}: not reached within {timeout.TotalSeconds:F0} s. Jobs: " +
            string.Join("; ", jobs.Select(j => $"{j.JobId[..8]} {j.Status} w={j.WorkerId} err={j.LastError}")) + "\n" + LogTails());
    }

    /// <summary>Runs the operator program (<c>Cis490.Shell.dll</c>) as its own process, as a person would.</summary>
    public static Task<(int Exit, string Stdout, string Stderr)> RunShell(params string[] args) => RunProgram("Cis490.Shell", args);

    /// <summary>Runs one of our programs to completion as its own process and returns its exit code and output.</summary>
    public static Task<(int Exit, string Stdout, string Stderr)> RunProgram(string project, params string[] args) => RunProgram(project, null, args);

    /// <summary>As <see cref="RunProgram(string, string[])"/>, with <paramref name="environment"/> set for the process (null values unset).</summary>
    public static async Task<(int Exit, string Stdout, string Stderr)> RunProgram(string project, IReadOnlyDictionary<string, string?>? environment, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
            if (value is null) psi.Environment.Remove(name);
            else psi.Environment[name] = value;
        psi.ArgumentList.Add(NodeProcess.ProgramPath(project));
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await p.WaitForExitAsync(cts.Token);
        return (p.ExitCode, await stdout, await stderr);
    }

    /// <summary>Makes a feature set the way a person does: <c>data generate</c>, then <c>data build</c>, each as a process.</summary>
    public static async Task MakeFeatures(string dir, int episodes, int stride)
    {
        var logs = Path.Combine(dir, "logs");
        var episodeDir = Path.Combine(dir, "episodes");
        string[][] steps =
        [
            ["data", "generate", "--out", episodeDir, "--episodes", episodes.ToString(), "--seed", "7"],
            ["data", "build", "--episodes", episodeDir, "--out", Path.Combine(dir, "features"), "--stride", stride.ToString()],
        ];
        foreach (var step in steps)
        {
            using var p = NodeProcess.Start(step[1], "Cis490.WorkerNode", step, logs);
            if (!await p.WaitExit(TimeSpan.FromMinutes(5)) || p.ExitCode != 0)
                throw new InvalidOperationException($"data {step[1]} failed; see {p.LogPath}: {File.ReadAllText(p.LogPath)}");
        }
    }

    /// <summary>Writes a HOCON file into the data directory (for a node's --config) and returns its path.</summary>
    public string WriteConfig(string name, string hocon)
    {
        var path = Path.Combine(DataDir, name);
        File.WriteAllText(path, hocon);
        return path;
    }

    /// <summary>Processes whose command line names a file in <paramref name="jobDir"/> (a trainer runs with its job.json there).</summary>
    public static List<int> TrainerProcesses(string jobDir) =>
        Directory.EnumerateDirectories("/proc")
            .Select(d => (Pid: int.TryParse(Path.GetFileName(d), out var pid) ? pid : -1, Dir: d))
            .Where(p => p.Pid > 0)
            .Where(p =>
            {
                try { return File.ReadAllText(Path.Combine(p.Dir, "cmdline")).Contains(jobDir, StringComparison.Ordinal); }
                catch (IOException) { return false; }
                catch (UnauthorizedAccessException) { return false; }
            })
            .Select(p => p.Pid)
            .ToList();

    /// <summary>The folder a worker's trainer runs a lease in (TrainerActor: work/&lt;worker&gt;/&lt;job id[..12]&gt;-lease&lt;N&gt;).</summary>
    public string JobDir(string workerId, OperatorProtocol.JobView job) =>
        Path.Combine(DataDir, "work", workerId, $"{job.JobId[..12]}-lease{job.LeaseId}");

    public string LogTails()
    {
        var sb = new StringBuilder();
        foreach (var n in _nodes)
        {
            sb.AppendLine($"--- {n.Name} ({n.LogPath}), last lines:");
            try
            {
                foreach (var line in File.ReadLines(n.LogPath).TakeLast(15)) sb.AppendLine(line.Length > 300 ? line[..300] : line);
            }
            catch (IOException) { }
        }
        return sb.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        if (_client is not null) await _client.DisposeAsync();
        foreach (var n in _nodes) n.Terminate();
        foreach (var n in _nodes)
        {
            if (!await n.WaitExit(TimeSpan.FromSeconds(20))) n.Kill();
            n.Dispose();
        }
        try { Directory.Delete(DataDir, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
