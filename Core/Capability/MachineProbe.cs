using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;

namespace Cis490.Shared.Capability;

/// <summary>What this machine can do, as plain data: the worker advertises it as a <c>WorkerCapability</c> (Shared's CapabilityDetector).</summary>
public sealed record MachineCapability(
    string Hostname,
    int Cores,
    double RamGib,
    bool Cuda,
    double VramGib,
    string? CudaDevice,
    string TorchVersion,
    string GitCommit,
    string Os);

/// <summary>Detects what this machine can do: hostname, cores, RAM, CUDA and VRAM (nvidia-smi), torch version, git commit.</summary>
public static class MachineProbe
{
    /// <summary>Detects the capability; <paramref name="torchVersion"/> comes from the caller that links the ML engine.</summary>
    public static MachineCapability Detect(string torchVersion = "none", string? hostnameOverride = null)
    {
        var (cuda, vram, device) = DetectCuda();
        return new MachineCapability(
            hostnameOverride ?? Environment.MachineName,
            Environment.ProcessorCount,
            Math.Round(TotalRamGib(), 2),
            cuda,
            vram,
            device,
            torchVersion,
            GitCommit(),
            RuntimeInformation.OSDescription);
    }

    /// <summary>Total physical memory from /proc/meminfo, else what the GC sees as available.</summary>
    public static double TotalRamGib()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/meminfo"))
                if (line.StartsWith("MemTotal:", StringComparison.Ordinal))
                {
                    var kb = long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
                    return kb / 1024.0 / 1024.0;
                }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 1024.0 / 1024.0 / 1024.0;
    }

    /// <summary>CUDA presence and VRAM of the first GPU via nvidia-smi; (false, 0, null) when there is none.</summary>
    public static (bool Cuda, double VramGib, string? Device) DetectCuda()
    {
        var output = Run("nvidia-smi", "--query-gpu=name,memory.total --format=csv,noheader,nounits", TimeSpan.FromSeconds(10));
        if (string.IsNullOrWhiteSpace(output)) return (false, 0, null);
        var first = output.Split('\n', StringSplitOptions.RemoveEmptyEntries)[0].Split(',');
        if (first.Length < 2 || !double.TryParse(first[1].Trim(), CultureInfo.InvariantCulture, out var mib)) return (false, 0, null);
        return (true, Math.Round(mib / 1024.0, 2), first[0].Trim());
    }

    /// <summary>The git commit the binaries were built from (stamped at build), else the checkout's HEAD, else "unknown".</summary>
    public static string GitCommit()
    {
        var stamped = Assembly.GetEntryAssembly()?.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "GitCommit")?.Value;
        if (!string.IsNullOrWhiteSpace(stamped) && stamped != "unknown") return stamped;
        var head = Run("git", $"-C {AppContext.BaseDirectory} rev-parse HEAD", TimeSpan.FromSeconds(5))?.Trim();
        return string.IsNullOrEmpty(head) ? "unknown" : head;
    }

    private static string? Run(string file, string args, TimeSpan timeout)
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo(file, args)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            });
            if (p is null) return null;
            var stdout = p.StandardOutput.ReadToEndAsync();
            if (!p.WaitForExit(timeout)) { p.Kill(true); return null; }
            return p.ExitCode == 0 ? stdout.Result : null;
        }
        catch (System.ComponentModel.Win32Exception) { return null; } // not installed
    }
}
