using System.Runtime.InteropServices;
using Cis490.ElfPatch;
using TorchSharp;

namespace Cis490.Training.Neural;

/// <summary>TorchSharp's native libraries could not be loaded; the message says why and what to do.</summary>
public sealed class TorchUnavailableException(string message) : Exception(message);

/// <summary>The one door to libtorch: loads it once (turning a failure into one <see cref="TorchUnavailableException"/> with
/// what to do, instead of a stack of type-initializer exceptions), picks the device, and seeds runs.</summary>
public static class TorchRuntime
{
    public const string LibTorchSharpFile = "libLibTorchSharp.so";
    public const string LibTorchCpuFile = "libtorch_cpu.so";

    private static readonly Lazy<string?> LoadProblem = new(TryLoad, LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly Lock Gate = new();

    /// <summary>Throws <see cref="TorchUnavailableException"/> when libtorch cannot be used in this process (every call after
    /// a failure throws the same message: a native library that failed once stays failed).</summary>
    public static void EnsureAvailable()
    {
        if (LoadProblem.Value is { } problem) throw new TorchUnavailableException(problem);
    }

    /// <summary>What libtorch says about itself for the self-test: its version, and whether it can use CUDA, checked for real
    /// (torch.cuda.is_available(), then a tensor made and summed on cuda:0); when it cannot, why.</summary>
    public static Runner.TorchFacts Facts()
    {
        if (LoadProblem.Value is { } problem) return new Runner.TorchFacts(null, false, $"libtorch does not load: {problem}");
        var version = torch.__version__;
        try
        {
            if (!torch.cuda.is_available()) return new Runner.TorchFacts(version, false, CpuOnlyReason(version));
            using var ones = torch.ones(4, device: torch.CUDA);
            var sum = ones.sum().item<float>();
            return sum == 4f
                ? new Runner.TorchFacts(version, true, null)
                : new Runner.TorchFacts(version, false, $"torch.cuda.is_available() is true but a sum on cuda:0 gave {sum}, not 4");
        }
        catch (Exception e)
        {
            return new Runner.TorchFacts(version, false, $"torch.cuda.is_available() is true but a tensor on cuda:0 failed: {OneLine(e.Message)}");
        }
    }

    /// <summary>Why the loaded libtorch sees no CUDA: the build ships the CPU-only libtorch (no libtorch_cuda beside it), or a CUDA
    /// build that finds no usable driver.</summary>
    private static string CpuOnlyReason(string version)
    {
        var cpu = FindNative(AppContext.BaseDirectory, LibTorchCpuFile);
        var dir = cpu is null ? AppContext.BaseDirectory : Path.GetDirectoryName(cpu)!;
        return File.Exists(Path.Combine(dir, "libtorch_cuda.so"))
            ? $"torch.cuda.is_available() is false although libtorch_cuda.so is in {dir}: check the NVIDIA driver and that it matches this libtorch's CUDA version"
            : $"torch.cuda.is_available() is false: this build ships the CPU-only libtorch {version} (libtorch-cpu-linux-x64; no libtorch_cuda.so in {dir})";
    }

    /// <summary>The device for a <c>device</c> hyper-parameter: <c>auto</c> is CUDA when present, else the CPU.</summary>
    public static torch.Device PickDevice(string setting)
    {
        EnsureAvailable();
        return setting switch
        {
            "cpu" => torch.CPU,
            "cuda" => torch.cuda.is_available() ? torch.CUDA
                : throw new InvalidOperationException("device 'cuda' was asked for but torch.cuda.is_available() is false on this machine (this build ships the CPU libtorch); use device 'auto' or 'cpu'"),
            "auto" => torch.cuda.is_available() ? torch.CUDA : torch.CPU,
            _ => throw new ArgumentException($"unknown device '{setting}' (known: auto, cpu, cuda)"),
        };
    }

    /// <summary>The environment variable that sets libtorch's intra-op threads for every family, over each family's own choice.</summary>
    public const string ThreadsVariable = "CIS490_TORCH_THREADS";

    /// <summary>The intra-op threads a training uses: <see cref="ThreadsVariable"/> when the operator set it, else
    /// <paramref name="preferred"/> (the family's choice). A value that is not a whole number from 1 to 1024 is an error naming it.</summary>
    public static int IntraOpThreads(int preferred, Func<string, string?>? environment = null)
    {
        var text = (environment ?? Environment.GetEnvironmentVariable)(ThreadsVariable);
        if (string.IsNullOrWhiteSpace(text)) return Math.Max(1, preferred);
        return int.TryParse(text.Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= 1024
            ? n
            : throw new ArgumentException($"{ThreadsVariable}='{text}': expected a whole number of threads from 1 to 1024 (unset: each family's own choice)");
    }

    /// <summary>Seeds libtorch's generator and sets its intra-op threads (the same count every run of a family, so CPU results
    /// repeat). Returns the lock that keeps two trainings of this process from interleaving their draws from the one global
    /// generator (module initialisation and dropout both draw from it).</summary>
    internal static Lock.Scope Seed(long seed, torch.Device device, int threads)
    {
        EnsureAvailable();
        var scope = Gate.EnterScope();
        torch.set_num_threads(threads);
        // TorchSharp 0.107.0 declares torch.use_deterministic_algorithms but marks it "not implemented" (a compile error here).
        // The CPU kernels these models use are deterministic for a fixed thread count anyway (the tests check it); on CUDA,
        // deterministic mode would also need CUBLAS_WORKSPACE_CONFIG, and GPU jobs are run for speed.
        torch.manual_seed(seed);
        if (device.type == DeviceType.CUDA) torch.cuda.manual_seed_all(seed);
        return scope;
    }

    /// <summary>What to tell a person when libtorch does not load from <paramref name="baseDir"/>, looking at what is there.</summary>
    /// <param name="hostNeedsPatch">whether this host's libstdc++ lacks <see cref="GlibcxxPatch.Version"/>.</param>
    public static string Explain(string baseDir, string error, bool hostNeedsPatch)
    {
        var native = FindNative(baseDir, LibTorchSharpFile);
        if (native is null)
            return $"neural models are unavailable: TorchSharp's {LibTorchSharpFile} is not in {baseDir} (nor its runtimes/linux-x64/native/). " +
                   "The program must reference Training/Neural/Cis490.Training.Neural.csproj, which brings TorchSharp and libtorch-cpu-linux-x64; rebuild with './cis490 setup'.";
        if (FindNative(baseDir, LibTorchCpuFile) is null)
            return $"neural models are unavailable: libtorch ({LibTorchCpuFile}) is not beside {native}. " +
                   "Restore the package libtorch-cpu-linux-x64 2.10.0 and rebuild with './cis490 setup' (a half-finished restore or copy leaves it out).";
        if (hostNeedsPatch && !IsPatched(native))
            return $"neural models are unavailable: {native} asks for {GlibcxxPatch.Version}, which this host's libstdc++ ({GlibcxxPatch.HostLibstdcxx}) lacks, and it is not patched. " +
                   $"Rebuild (the build's Cis490PatchLibTorchSharp step patches it), or run: dotnet {Path.Combine(baseDir, "Cis490.ElfPatch.dll")} {native}";
        return $"neural models are unavailable: TorchSharp could not load its native libraries from {Path.GetDirectoryName(native)}: {error.TrimEnd('.')}. " +
               "Check that this is linux-x64 and that TorchSharp 0.107.0 and libtorch-cpu-linux-x64 2.10.0 restored completely, then rebuild with './cis490 setup'.";
    }

    private static string? TryLoad()
    {
        var baseDir = AppContext.BaseDirectory;
        PassiveOpenMpWaiting();
        if (OperatingSystem.IsLinux())
        {
            // Load the natives ourselves first. When that fails inside TorchSharp, its fallback prints a long trace and copies
            // ~500 MB of libtorch from the NuGet cache into the output folder before giving up.
            var libtorch = FindNative(baseDir, LibTorchCpuFile);
            var native = FindNative(baseDir, LibTorchSharpFile);
            if (libtorch is null || native is null) return Explain(baseDir, "not found", GlibcxxPatch.HostNeedsPatch());
            try
            {
                NativeLibrary.Load(libtorch);
                NativeLibrary.Load(native);
            }
            catch (DllNotFoundException e)
            {
                return Explain(baseDir, OneLine(e.Message), GlibcxxPatch.HostNeedsPatch());
            }
        }
        try
        {
            // The first touch of `torch` runs its static constructor, which binds TorchSharp to the libraries loaded above.
            torch.InitializeDeviceType(DeviceType.CPU);
            return null;
        }
        catch (Exception e)
        {
            var inner = e;
            while (inner.InnerException is not null) inner = inner.InnerException;
            return Explain(baseDir, OneLine(inner.Message), GlibcxxPatch.HostNeedsPatch());
        }
    }

    /// <summary>libtorch's OpenMP (libgomp) lets idle worker threads spin for the next parallel region. On a machine that also
    /// runs other trainers or builds, the spinning threads steal the cores the working ones need: a small GRU step measured
    /// 300 ms with 2 threads against 5 ms with 1 (2 cores, load 15); with passive waiting, 15 ms. libgomp reads the variable
    /// once, when libtorch loads, so it is set in the native environment (not .NET's copy) before that; a value the operator
    /// set is kept.</summary>
    private static void PassiveOpenMpWaiting()
    {
        if (OperatingSystem.IsLinux()) _ = SetEnv("OMP_WAIT_POLICY", "PASSIVE", overwrite: 0);
    }

    [DllImport("libc", EntryPoint = "setenv")]
    private static extern int SetEnv(string name, string value, int overwrite);

    private static string? FindNative(string baseDir, string file) =>
        new[] { Path.Combine(baseDir, file), Path.Combine(baseDir, "runtimes", "linux-x64", "native", file) }.FirstOrDefault(File.Exists);

    private static bool IsPatched(string path)
    {
        try
        {
            var state = GlibcxxPatch.Inspect(path);
            return !state.RequiresVersion || state.IsPatched;
        }
        catch (InvalidDataException)
        {
            return false;
        }
    }

    /// <summary>The first line of a native loader's message (TorchSharp's own runs to a page), whitespace collapsed.</summary>
    private static string OneLine(string text)
    {
        var end = text.IndexOf("\n\n", StringComparison.Ordinal);
        return string.Join(' ', (end < 0 ? text : text[..end]).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
    }
}
