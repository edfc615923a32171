using Cis490.Shell.Demo;

namespace Cis490.Bench.Chaos;

/// <summary>The fleet under test as real processes: one coordinator (SQLite journal in the run's data folder, HTTP API on
/// loopback) and several workers, one of them inside the <see cref="NetworkPartition"/>'s namespace when there is one. It
/// tells the faults it injects (planned) from exits nobody asked for: an unplanned exit is recorded and the process is
/// started again, as systemd's Restart=always would.</summary>
public sealed class Fleet : IDisposable
{
    /// <summary>One worker's fixed identity: the same id, slots, work folder and namespace on every restart.</summary>
    public sealed record WorkerSpec(string Id, int Slots, string? Netns, string Hostname);

    /// <summary>A process exit the bench did not cause.</summary>
    public sealed record UnplannedExit(string Node, DateTimeOffset At, int? ExitCode);

    private readonly object _gate = new();
    private readonly Dictionary<string, ChaosProcess> _running = [];
    private readonly HashSet<string> _planned = [];
    private readonly List<ChaosProcess> _all = [];
    private readonly List<UnplannedExit> _unplanned = [];
    private readonly string _root;
    private readonly string _features;
    private readonly string _token;
    private readonly string _coordinatorHost;
    private readonly CancellationToken _stopping;
    private int _generation;

    public int AkkaPort { get; } = NodeProcess.FreePort();
    public int HttpPort { get; } = NodeProcess.FreePort();
    public string DataDir => Path.Combine(_root, "data");
    public string Logs => Path.Combine(_root, "logs");
    public IReadOnlyList<WorkerSpec> Workers { get; }
    public LeaseLog Leases { get; } = new();

    public Fleet(ChaosOptions options, string root, string features, string token, NetworkPartition? partition, CancellationToken stopping)
    {
        _root = root;
        _features = features;
        _token = token;
        _stopping = stopping;
        // In a partitioned fleet every root-namespace node binds and advertises the veth's root address: the namespaced
        // worker must reach all members (cluster heartbeats run between workers too), and 127.0.0.1 would be its own loopback.
        _coordinatorHost = partition?.RootAddress ?? "127.0.0.1";
        Workers = Enumerable.Range(0, options.Workers).Select(i => i == 0 && partition is not null
                ? new WorkerSpec("worker-0-netns", options.SlotsOf(i), partition.Namespace, partition.NamespaceAddress)
                : new WorkerSpec($"worker-{i}", options.SlotsOf(i), null, _coordinatorHost))
            .ToList();
    }

    public IReadOnlyList<UnplannedExit> UnplannedExits
    {
        get { lock (_gate) return _unplanned.ToList(); }
    }

    public bool IsRunning(string node)
    {
        lock (_gate) return _running.TryGetValue(node, out var p) && !p.HasExited;
    }

    public async Task StartCoordinator(CancellationToken ct)
    {
        string[] args = ["--port", AkkaPort.ToString(), "--hostname", _coordinatorHost, "--data-dir", DataDir, "--http-port", HttpPort.ToString(), .. Insecure(_coordinatorHost)];
        var p = Launch(Coordinator, "Cis490.Coordinator", args, null, new Dictionary<string, string> { ["CIS490_OPERATOR_TOKEN"] = _token });
        p.Line += Leases.OnLine;
        await p.WaitReady(TimeSpan.FromSeconds(90), ct);
    }

    public async Task StartWorker(WorkerSpec w, CancellationToken ct)
    {
        string[] args =
        [
            "worker", "--seed", $"akka.tcp://cis490@{_coordinatorHost}:{AkkaPort}", "--hostname", w.Hostname, "--data", _features,
            "--worker-id", w.Id, "--slots", w.Slots.ToString(), "--work-dir", Path.Combine(_root, "work", w.Id), .. Insecure(w.Hostname),
        ];
        var p = Launch(w.Id, "Cis490.WorkerNode", args, w.Netns, null);
        await p.WaitReady(TimeSpan.FromSeconds(90), ct);
    }

    /// <summary>The partition runs bind private veth addresses inside this one machine: plain TCP there is the bench's explicit
    /// choice (its figures measure failure handling, comparable with the runs before TLS), so it says --insecure.</summary>
    private static string[] Insecure(string host) => Cis490.Shared.Tls.TransportSecurity.IsLoopback(host) ? [] : ["--insecure"];

    public const string Coordinator = "coordinator";

    public WorkerSpec Worker(string id) => Workers.Single(w => w.Id == id);

    /// <summary>Sends a signal the bench means (a fault, a restart): the exit it causes is not counted as unplanned.</summary>
    public void Signal(string node, int signal)
    {
        ChaosProcess? p;
        lock (_gate)
        {
            if (!_running.TryGetValue(node, out p)) return;
            if (signal is ChaosProcess.SigKill or ChaosProcess.SigTerm) _planned.Add(node);
        }
        p.Signal(signal);
    }

    /// <summary>SIGSTOP or SIGCONT to a node and all its descendants; the pids it signalled.</summary>
    public IReadOnlyList<int> SignalTree(string node, int signal)
    {
        ChaosProcess? p;
        lock (_gate) _running.TryGetValue(node, out p);
        return p?.SignalTree(signal) ?? [];
    }

    public async Task<bool> WaitExit(string node, TimeSpan timeout)
    {
        ChaosProcess? p;
        lock (_gate) _running.TryGetValue(node, out p);
        return p is null || await p.WaitExit(timeout);
    }

    private ChaosProcess Launch(string node, string project, string[] args, string? netns, IReadOnlyDictionary<string, string>? env)
    {
        var name = $"{node}.{Interlocked.Increment(ref _generation):D3}";
        var p = ChaosProcess.Start(name, project, args, Logs, netns, env);
        lock (_gate)
        {
            _running[node] = p;
            _planned.Remove(node);
            _all.Add(p);
        }
        _ = p.Exited.ContinueWith(_ => OnExit(node, p, project == "Cis490.Coordinator"), TaskScheduler.Default);
        return p;
    }

    /// <summary>An exit the bench did not cause is recorded, and the node started again a second later.</summary>
    private void OnExit(string node, ChaosProcess p, bool coordinator)
    {
        lock (_gate)
        {
            if (!_running.TryGetValue(node, out var current) || current != p) return;
            if (_planned.Remove(node) || _stopping.IsCancellationRequested) return;
            _unplanned.Add(new UnplannedExit(node, DateTimeOffset.UtcNow, p.ExitCode));
        }
        Console.WriteLine($"  ! {node} exited by itself (code {p.ExitCode}); starting it again");
        _ = Task.Run(async () =>
        {
            try
            {
                await Task.Delay(1000, _stopping);
                if (coordinator) await StartCoordinator(_stopping);
                else await StartWorker(Worker(node), _stopping);
            }
            catch (Exception e) when (e is OperationCanceledException or TimeoutException or InvalidOperationException)
            {
                if (!_stopping.IsCancellationRequested) Console.WriteLine($"  ! {node} could not be started again: {e.Message}");
            }
        });
    }

    /// <summary>The last lines of every node's newest log, for a failure message.</summary>
    public string LogTails(int lines = 8)
    {
        List<ChaosProcess> newest;
        lock (_gate) newest = _running.Values.ToList();
        return string.Join("\n", newest.Select(p => $"--- {p.Name} ({p.LogPath})\n" +
            string.Join("\n", SafeTail(p.LogPath, lines))));
    }

    private static IEnumerable<string> SafeTail(string path, int n)
    {
        try { return File.ReadLines(path).TakeLast(n).Select(l => l.Length > 240 ? l[..240] : l).ToList(); }
        catch (IOException) { return []; }
    }

    /// <summary>Kills every process the fleet started (and their trainers), whatever state they are in.</summary>
    public void Dispose()
    {
        List<ChaosProcess> all;
        lock (_gate)
        {
            all = _all.ToList();
            foreach (var node in _running.Keys) _planned.Add(node);
        }
        foreach (var p in all) p.Dispose();
        ChaosProcess.KillMentioning(_root); // trainers orphaned by a SIGKILLed worker
    }
}
