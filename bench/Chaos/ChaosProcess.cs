using System.Diagnostics;
using System.Runtime.InteropServices;
using Cis490.Shell.Demo;

namespace Cis490.Bench.Chaos;

/// <summary>One of our node programs as an OS process, optionally inside a network namespace (<c>ip netns exec NS dotnet …</c>,
/// which execs, so the pid is the node's): its output teed to a log file and offered line by line to listeners, and POSIX
/// signals to it alone or to it and its descendants (its trainer processes).</summary>
public sealed partial class ChaosProcess : IDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly TaskCompletionSource<string> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string Name { get; }
    public string LogPath { get; }
    public int Pid { get; }
    public bool HasExited => _exited.Task.IsCompleted;
    public Task Exited => _exited.Task;
    public int? ExitCode => HasExited ? _process.ExitCode : null;

    /// <summary>Each line the node writes (stdout or stderr), on the reader's thread.</summary>
    public event Action<string>? Line;

    private ChaosProcess(string name, Process process, string logPath)
    {
        Name = name;
        _process = process;
        LogPath = logPath;
        _log = new StreamWriter(logPath, append: true) { AutoFlush = true };
        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.Exited += (_, _) =>
        {
            _ready.TrySetException(new InvalidOperationException($"{name} exited with code {process.ExitCode} before it was ready; see {logPath}"));
            _exited.TrySetResult();
        };
        process.Start();
        Pid = process.Id;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>Starts <c>dotnet PROJECT.dll args</c>, inside network namespace <paramref name="netns"/> when one is given.</summary>
    public static ChaosProcess Start(string name, string project, IEnumerable<string> args, string logDir,
        string? netns = null, IReadOnlyDictionary<string, string>? env = null, Action<ChaosProcess>? beforeStart = null)
    {
        Directory.CreateDirectory(logDir);
        var psi = new ProcessStartInfo(netns is null ? "dotnet" : "ip")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (netns is not null) foreach (var a in new[] { "netns", "exec", netns, "dotnet" }) psi.ArgumentList.Add(a);
        psi.ArgumentList.Add(NodeProcess.ProgramPath(project));
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in env ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        return new ChaosProcess(name, new Process { StartInfo = psi, EnableRaisingEvents = true }, Path.Combine(logDir, name + ".log"));
    }

    public async Task<string> WaitReady(TimeSpan timeout, CancellationToken ct)
    {
        var done = await Task.WhenAny(_ready.Task, Task.Delay(timeout, ct));
        if (done != _ready.Task) throw new TimeoutException($"{Name} did not print READY within {timeout.TotalSeconds:F0} s; see {LogPath}");
        return await _ready.Task;
    }

    public async Task<bool> WaitExit(TimeSpan timeout)
    {
        var done = await Task.WhenAny(_exited.Task, Task.Delay(timeout));
        return done == _exited.Task;
    }

    public const int SigKill = 9, SigTerm = 15, SigCont = 18, SigStop = 19;

    /// <summary>Sends <paramref name="signal"/> to the node process alone.</summary>
    public void Signal(int signal)
    {
        if (!HasExited) _ = kill(Pid, signal);
    }

    /// <summary>SIGSTOP to the node and then to each descendant (a suspended machine: nothing of it runs); SIGCONT in the
    /// reverse order, so no trainer finds its parent still stopped.</summary>
    public IReadOnlyList<int> SignalTree(int signal)
    {
        var tree = new List<int> { Pid };
        tree.AddRange(Descendants(Pid));
        if (signal == SigCont) tree.Reverse();
        foreach (var pid in tree) _ = kill(pid, signal);
        return tree;
    }

    /// <summary>The process ids below <paramref name="root"/>, read from /proc (parent id is field 4 of /proc/PID/stat).</summary>
    public static List<int> Descendants(int root)
    {
        var parentOf = new Dictionary<int, int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                parentOf[pid] = int.Parse(fields[1]);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or ArgumentOutOfRangeException) { }
        }
        var found = new List<int>();
        var frontier = new Queue<int>([root]);
        while (frontier.TryDequeue(out var p))
            foreach (var (child, parent) in parentOf)
                if (parent == p && !found.Contains(child)) { found.Add(child); frontier.Enqueue(child); }
        return found;
    }

    /// <summary>SIGKILL to every process whose command line mentions <paramref name="path"/> (trainers a killed worker
    /// left behind run with their job file under the bench's folder), except this one.</summary>
    public static int KillMentioning(string path)
    {
        var killed = 0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid) || pid == Environment.ProcessId) continue;
            try
            {
                if (File.ReadAllText(Path.Combine(dir, "cmdline")).Contains(path, StringComparison.Ordinal) && kill(pid, SigKill) == 0) killed++;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
        return killed;
    }

    public void Dispose()
    {
        try
        {
            if (!HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException) { } // already gone
        _process.Dispose();
        lock (_log) _log.Dispose();
    }

    private void OnLine(string? line)
    {
        if (line is null) return;
        lock (_log)
        {
            try { _log.WriteLine(line); }
            catch (ObjectDisposedException) { return; }
        }
        if (line.StartsWith("READY ", StringComparison.Ordinal)) _ready.TrySetResult(line);
        Line?.Invoke(line);
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int sig);
}
