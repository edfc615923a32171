using System.Diagnostics;
using System.Globalization;
using Cis490.Shell.Demo;

namespace Cis490.Cluster.Tests;

/// <summary>Separate machines made of Linux network namespaces: a bridge in the root namespace (<c>SUBNET.1</c>, where the test
/// itself runs) and, per machine, a namespace joined to it by a veth pair, with its own address (<c>SUBNET.2</c>, <c>.3</c>, …) and
/// its loopback up. Names and the subnet are unique per run (the test's pid, a 10.249.X.0/24 no interface uses); everything is
/// removed by <see cref="Dispose"/>, whatever happened, and a namespace's processes are killed first.</summary>
public sealed class NamespaceFleet : IDisposable
{
    private readonly List<(string Namespace, string RootDevice)> _machines = [];
    private readonly string _tag = (Environment.ProcessId % 100000).ToString(CultureInfo.InvariantCulture);
    private int _disposed;

    public string Bridge { get; }
    public string Subnet { get; }
    public string RootAddress => Subnet + ".1";

    /// <summary>Why namespaces cannot be made here, or null when they can: a test that needs them fails with this, it never skips.</summary>
    public static string? Unavailable()
    {
        if (!OperatingSystem.IsLinux()) return "network namespaces need Linux";
        if (EffectiveUid() != 0)
            return "this test builds a fleet of network namespaces (ip netns, veth links, a bridge) and needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN); " +
                   "run the test suite as root (./cis490 test does on the project's test machine)";
        try { Ip("netns", "list"); }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception) { return $"'ip netns' does not work here: {e.Message}"; }
        return null;
    }

    public NamespaceFleet()
    {
        Bridge = $"c490b{_tag}";
        Subnet = FreeSubnet();
        try
        {
            Ip("link", "add", Bridge, "type", "bridge");
            Ip("addr", "add", RootAddress + "/24", "dev", Bridge);
            Ip("link", "set", Bridge, "up");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Adds a machine: a namespace named <c>c490-PID-NAME</c> with address <c>SUBNET.(n+2)</c>; returns (namespace, address).</summary>
    public (string Namespace, string Address) AddMachine(string name)
    {
        var i = _machines.Count;
        var ns = $"c490-{_tag}-{name}";
        var (root, inner) = ($"c490{_tag}r{i}", $"c490{_tag}n{i}");
        var address = $"{Subnet}.{i + 2}";
        Ip("netns", "add", ns);
        _machines.Add((ns, root));
        Ip("link", "add", root, "type", "veth", "peer", "name", inner);
        Ip("link", "set", inner, "netns", ns);
        Ip("link", "set", root, "master", Bridge);
        Ip("link", "set", root, "up");
        Ip("-n", ns, "addr", "add", address + "/24", "dev", inner);
        Ip("-n", ns, "link", "set", inner, "up");
        Ip("-n", ns, "link", "set", "lo", "up");
        return (ns, address);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        foreach (var (ns, root) in _machines)
        {
            // A namespace outlives its processes' exit only if something still runs in it: kill what the test left there.
            try
            {
                foreach (var pid in Ip("netns", "pids", ns).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    if (int.TryParse(pid, out var p)) try { Process.GetProcessById(p).Kill(entireProcessTree: true); } catch (ArgumentException) { } catch (InvalidOperationException) { }
            }
            catch (InvalidOperationException) { }
            TryIp("link", "del", root); // deleting one end of a veth pair deletes both
            TryIp("netns", "del", ns);
        }
        TryIp("link", "del", Bridge);
    }

    /// <summary>The effective user id, from /proc/self/status ("Uid: real effective saved fs").</summary>
    private static int EffectiveUid()
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("Uid:", StringComparison.Ordinal));
        var fields = line?.Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries);
        return fields is { Length: > 2 } && int.TryParse(fields[2], out var uid) ? uid : -1;
    }

    /// <summary>A 10.249.X.0/24 that no interface of the root namespace uses (the chaos bench takes 17 and up; this starts at 120).</summary>
    private static string FreeSubnet()
    {
        var used = Ip("-4", "-o", "addr", "show");
        for (var x = 120 + (Environment.ProcessId % 100); x < 250; x++)
            if (!used.Contains($" 10.249.{x}.", StringComparison.Ordinal)) return $"10.249.{x}";
        throw new InvalidOperationException("no free 10.249.X.0/24 for the namespace fleet's bridge");
    }

    private static void TryIp(params string[] args)
    {
        try { Ip(args); }
        catch (InvalidOperationException) { } // already gone
    }

    private static string Ip(params string[] args)
    {
        var psi = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(10_000)) { p.Kill(); throw new InvalidOperationException($"ip {string.Join(' ', args)}: no answer in 10 s"); }
        if (p.ExitCode != 0) throw new InvalidOperationException($"ip {string.Join(' ', args)}: {stderr.Result.Trim()}");
        return stdout;
    }
}
