using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Cis490.Shell.Demo;

/// <summary>A Cis490 node running as a separate OS process (coordinator or worker), its output teed to a log file.</summary>
public sealed partial class NodeProcess : IDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly TaskCompletionSource<string> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string Name { get; }
    public string LogPath { get; }
    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;

    private NodeProcess(string name, Process process, string logPath)
    {
        Name = name;
        _process = process;
        LogPath = logPath;
        _log = new StreamWriter(logPath, append: false) { AutoFlush = true };
    }

    /// <summary>Starts <c>dotnet PROJECT.dll args</c> for one of our node programs (found beside this program's build output).</summary>
    /// <param name="environment">Variables set for this process only (e.g. a test's fault injection), on top of ours.</param>
    /// <param name="netns">A network namespace to run it in (<c>ip netns exec NS dotnet …</c>, which execs: the process is dotnet's
    /// own), for a test that makes separate machines of namespaces; null: this machine's.</param>
    /// <param name="program">The program's dll when not the build output's (bench scale: the ReadyToRun coordinator ./cis490 publishes).</param>
    public static NodeProcess Start(string name, string project, IEnumerable<string> args, string logDir,
        IReadOnlyDictionary<string, string>? environment = null, string? netns = null, string? program = null)
    {
        Directory.CreateDirectory(logDir);
        var psi = new ProcessStartInfo(netns is null ? "dotnet" : "ip")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (netns is not null) foreach (var a in new[] { "netns", "exec", netns, "dotnet" }) psi.ArgumentList.Add(a);
        psi.ArgumentList.Add(program ?? ProgramPath(project));
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) psi.Environment[key] = value;
        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        var node = new NodeProcess(name, process, Path.Combine(logDir, name + ".log"));
        process.OutputDataReceived += (_, e) => node.OnLine(e.Data, false);
        process.ErrorDataReceived += (_, e) => node.OnLine(e.Data, true);
        process.Exited += (_, _) => node._ready.TrySetException(new InvalidOperationException(
            $"{name} exited with code {process.ExitCode} before it was ready; see {node.LogPath}"));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return node;
    }

    /// <summary>The dll of one of our programs: $CIS490_BIN/NAME/CONFIG/NAME.dll, or the sibling of this program's output folder.</summary>
    public static string ProgramPath(string project)
    {
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var binRoot = Environment.GetEnvironmentVariable("CIS490_BIN") is { Length: > 0 } bin ? bin : here.Parent!.Parent!.FullName;
        var path = Path.Combine(binRoot, project, here.Name, project + ".dll");
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path} is missing: build the solution first (./cis490 does).", path);
        return path;
    }

    /// <summary>Waits for the node's READY line and returns it.</summary>
    public async Task<string> WaitReady(TimeSpan timeout)
    {
        var done = await Task.WhenAny(_ready.Task, Task.Delay(timeout));
        if (done != _ready.Task) throw new TimeoutException($"{Name} did not become ready within {timeout.TotalSeconds:F0} s; see {LogPath}");
        return await _ready.Task;
    }

    /// <summary>SIGTERM: the node leaves the cluster and exits by itself.</summary>
    public void Terminate()
    {
        if (!_process.HasExited) _ = kill(_process.Id, 15);
    }

    /// <summary>SIGKILL to the node's process alone, as in a crash or an out-of-memory kill (its trainer children notice and exit).</summary>
    public void Kill()
    {
        if (!_process.HasExited) _ = kill(_process.Id, 9);
    }

    public async Task<bool> WaitExit(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try { await _process.WaitForExitAsync(cts.Token); return true; }
        catch (OperationCanceledException) { return false; }
    }

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.Dispose();
        lock (_log) _log.Dispose();
    }

    /// <summary>A free TCP port on loopback, for a node that must listen on a known port.</summary>
    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    private void OnLine(string? line, bool stderr)
    {
        if (line is null) return;
        lock (_log)
        {
            try { _log.WriteLine(stderr ? "[stderr] " + line : line); }
            catch (ObjectDisposedException) { return; }
        }
        if (line.StartsWith("READY ", StringComparison.Ordinal)) _ready.TrySetResult(line);
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int sig);
}
