using System.Diagnostics;

namespace Cis490.Bench.Chaos;

/// <summary>A network namespace for one worker, joined to the root namespace (coordinator and the other workers) by a veth
/// pair in a private /24: root end .1, namespace end .2, loopback up in the namespace. <see cref="Cut"/> takes the root
/// end down (the namespace's traffic stops; root-namespace processes still reach each other on the .1 address, which stays
/// local), <see cref="Heal"/> brings it up. <see cref="Dispose"/> deletes the link and the namespace; it is idempotent, so
/// the finally block, Ctrl-C and process exit may all call it.</summary>
public sealed class NetworkPartition : IDisposable
{
    private int _disposed;

    public string Namespace { get; }
    public string RootDevice { get; }
    public string NamespaceDevice { get; }
    public string RootAddress { get; }
    public string NamespaceAddress { get; }

    private NetworkPartition(string ns, string rootDev, string nsDev, string subnet)
    {
        Namespace = ns;
        RootDevice = rootDev;
        NamespaceDevice = nsDev;
        RootAddress = subnet + ".1";
        NamespaceAddress = subnet + ".2";
    }

    /// <summary>Why a partition cannot be made here (not root, no <c>ip</c>), or null when it can.</summary>
    public static string? Unavailable()
    {
        if (!OperatingSystem.IsLinux()) return "network namespaces need Linux";
        if (EffectiveUid() != 0) return "not root (ip netns needs CAP_SYS_ADMIN): run the bench as root to include partitions";
        try { Ip("netns", "list"); }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception) { return $"'ip netns' does not work here: {e.Message}"; }
        return null;
    }

    /// <summary>Makes namespace, veth pair and addresses; on any failure undoes what it made and throws.</summary>
    public static NetworkPartition Create()
    {
        var tag = (Environment.ProcessId % 100000).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var p = new NetworkPartition($"cis490-chaos-{tag}", $"c490r{tag}", $"c490n{tag}", FreeSubnet());
        try
        {
            Ip("netns", "add", p.Namespace);
            Ip("link", "add", p.RootDevice, "type", "veth", "peer", "name", p.NamespaceDevice);
            Ip("link", "set", p.NamespaceDevice, "netns", p.Namespace);
            Ip("addr", "add", p.RootAddress + "/24", "dev", p.RootDevice);
            Ip("link", "set", p.RootDevice, "up");
            Ip("-n", p.Namespace, "addr", "add", p.NamespaceAddress + "/24", "dev", p.NamespaceDevice);
            Ip("-n", p.Namespace, "link", "set", p.NamespaceDevice, "up");
            Ip("-n", p.Namespace, "link", "set", "lo", "up");
            return p;
        }
        catch
        {
            p.Dispose();
            throw;
        }
    }

    public void Cut() => Ip("link", "set", RootDevice, "down");

    public void Heal() => Ip("link", "set", RootDevice, "up");

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        // Deleting one end of a veth pair deletes both; deleting the namespace kills nothing (the bench kills its processes first).
        TryIp("link", "del", RootDevice);
        TryIp("netns", "del", Namespace);
    }

    /// <summary>The effective user id, from /proc/self/status ("Uid: real effective saved fs").</summary>
    private static int EffectiveUid()
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("Uid:", StringComparison.Ordinal));
        var fields = line?.Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries);
        return fields is { Length: > 2 } && int.TryParse(fields[2], out var uid) ? uid : -1;
    }

    /// <summary>A 10.249.X.0/24 that no interface of the root namespace uses.</summary>
    private static string FreeSubnet()
    {
        var used = Ip("-4", "-o", "addr", "show");
        for (var x = 17; x < 250; x++)
            if (!used.Contains($" 10.249.{x}.", StringComparison.Ordinal)) return $"10.249.{x}";
        throw new InvalidOperationException("no free 10.249.X.0/24 for the partition's veth pair");
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
