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
    string Os,
    IReadOnlyList<string>? Families = null,
    IReadOnlyDictionary<string, string>? Unavailable = null,
    string? XgboostVersion = null,
    string? CudaNote = null);

/// <summary>Detects what this machine can do: hostname, cores, RAM, the GPU (nvidia-smi) and, from the trainer's self-test, the
/// families it can train, its engines' versions and whether its libtorch can use that GPU.</summary>
public static class MachineProbe
{
    /// <summary>The capability with the self-test's findings: CUDA only when the engine itself can use it.</summary>
    public static MachineCapability Detect(SelfTestReport selfTest, string? hostnameOverride = null) =>
        Combine(selfTest, DetectGpu(), hostnameOverride);

    /// <summary>Puts the self-test and the GPU nvidia-smi lists (null: none) together. CUDA is advertised only when the engine
    /// can use it; a GPU it cannot use is named in the note with the engine's reason.</summary>
    public static MachineCapability Combine(SelfTestReport selfTest, Gpu? gpu, string? hostnameOverride = null)
    {
        var (cuda, vram, device, note) = (selfTest.TorchCuda, gpu) switch
        {
            (true, { } g) => (true, g.VramGib, g.Name, (string?)null),
            (true, null) => (true, 0.0, "cuda:0", "GPU memory unknown: libtorch sees CUDA but nvidia-smi lists no GPU"),
            (false, { } g) => (false, 0.0, (string?)null,
                $"GPU present ({g.Name}, {g.VramGib.ToString("0.#", CultureInfo.InvariantCulture)} GiB), not usable by this build: " +
                (selfTest.TorchCudaProblem ?? "torch.cuda.is_available() is false")),
            (false, null) => (false, 0.0, (string?)null, "no GPU (nvidia-smi lists none)"),
        };
        return new MachineCapability(
            hostnameOverride ?? Environment.MachineName,
            Environment.ProcessorCount,
            Math.Round(TotalRamGib(), 2),
            cuda,
            vram,
            device,
            selfTest.TorchVersion ?? "none",
            GitCommit(),
            RuntimeInformation.OSDescription,
            selfTest.Runnable,
            selfTest.Problems,
            selfTest.XgboostVersion,
            note);
    }

    /// <summary>A GPU as nvidia-smi lists it.</summary>
    public sealed record Gpu(string Name, double VramGib);

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

    /// <summary>The first GPU nvidia-smi lists (name and memory), or null when it is absent or lists none. This says a GPU is
    /// present, not that anything here can use it: that is the engine's answer (the self-test's <c>torch_cuda</c>).</summary>
    public static Gpu? DetectGpu()
    {
        var output = Run("nvidia-smi", "--query-gpu=name,memory.total --format=csv,noheader,nounits", TimeSpan.FromSeconds(10));
        if (string.IsNullOrWhiteSpace(output)) return null;
        var first = output.Split('\n', StringSplitOptions.RemoveEmptyEntries)[0].Split(',');
        if (first.Length < 2 || !double.TryParse(first[1].Trim(), CultureInfo.InvariantCulture, out var mib)) return null;
        return new Gpu(first[0].Trim(), Math.Round(mib / 1024.0, 2));
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
