using System.Reflection;
using System.Runtime.InteropServices;

namespace Cis490.Training.Models.Xgb;

/// <summary>XGBoost's C library could not be loaded or lacks an entry point this build calls.</summary>
public sealed class XgbUnavailableException(string message) : Exception(message);

/// <summary>A call into XGBoost's C API failed; the message is XGBoost's own (XGBGetLastError), without its native stack trace.</summary>
public sealed class XgbException(string message) : Exception(message);

/// <summary>Loads XGBoost's C library once and says plainly when it is not there.</summary>
/// <remarks>Without this, the first P/Invoke would throw DllNotFoundException from deep inside training, and a failure in a
/// static initialiser would surface as a TypeInitializationException; here every caller gets the same one-line fix.</remarks>
public static class XgbLibrary
{
    public const string InstallHint = "XGBoost's C library (libxgboost.so.0) is not installed: run 'sudo apt-get install libxgboost0'";

    /// <summary>The environment variable that names the XGBoost library file to load instead of the platform's default (a library
    /// the operator provides, e.g. xgboost.dll on Windows; a test points it at a missing file to run a worker without XGBoost).</summary>
    public const string LibraryVariable = "CIS490_XGBOOST_LIBRARY";

    private static readonly Lazy<(Version? Version, XgbUnavailableException? Error)> Loaded =
        new(() =>
        {
            PreferPassiveOpenMpThreads();
            // The P/Invoke declarations name XgbNative.Library; this sends them to the library that is configured here.
            NativeLibrary.SetDllImportResolver(typeof(XgbLibrary).Assembly, Resolve);
            return Probe(Configured);
        }, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The library this process binds: <see cref="LibraryVariable"/> when set, else the platform's name for XGBoost's library
    /// (Debian's soname on Linux, <c>xgboost.dll</c> on Windows, <c>libxgboost.dylib</c> on macOS).</summary>
    public static string Configured =>
        Environment.GetEnvironmentVariable(LibraryVariable) is { Length: > 0 } chosen ? chosen
        : OperatingSystem.IsWindows() ? "xgboost.dll"
        : OperatingSystem.IsMacOS() ? "libxgboost.dylib"
        : XgbNative.Library;

    /// <summary>Whether the library loads and has every entry point this build calls.</summary>
    public static bool IsAvailable => Loaded.Value.Error is null;

    /// <summary>The library's version (XGBoostVersion), or null when it is not available.</summary>
    public static Version? Version => Loaded.Value.Version;

    /// <summary>Throws <see cref="XgbUnavailableException"/> unless the library is usable.</summary>
    public static void EnsureLoaded()
    {
        if (Loaded.Value.Error is { } error) throw new XgbUnavailableException(error.Message);
    }

    /// <summary>Tries to load <paramref name="library"/> (a name the loader searches for, or a path) the way the P/Invoke declarations
    /// would, and checks their entry points. Never throws: the problem is returned. (A parameter so that a missing library can be tested.)</summary>
    public static (Version? Version, XgbUnavailableException? Error) Probe(string library)
    {
        if (!TryLoad(library, out var handle, out var why))
            return (null, new XgbUnavailableException(library == XgbNative.Library || !Path.IsPathRooted(library) && library.StartsWith("libxgboost", StringComparison.Ordinal)
                ? InstallHint
                : $"XGBoost's C library could not be loaded from {library}{(library == Environment.GetEnvironmentVariable(LibraryVariable) ? $" ({LibraryVariable})" : "")}: {why}"));
        var missing = XgbNative.Exports.Where(name => !NativeLibrary.TryGetExport(handle, name, out _)).ToList();
        if (missing.Count > 0)
            return (null, new XgbUnavailableException($"{InstallHint} (the {library} found lacks {string.Join(", ", missing)}; version 1.7 or later is needed)"));
        if (library != Configured) return (null, null); // the declarations are bound to the configured library: do not call into another one
        try
        {
            XgbNative.XGBoostVersion(out var major, out var minor, out var patch);
            return (new Version(major, minor, patch), null);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return (null, new XgbUnavailableException($"{InstallHint} ({e.Message})"));
        }
    }

    private static bool TryLoad(string library, out IntPtr handle, out string why)
    {
        why = "";
        try
        {
            handle = Path.IsPathRooted(library) ? NativeLibrary.Load(library) : NativeLibrary.Load(library, typeof(XgbLibrary).Assembly, null);
            return true;
        }
        catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
        {
            handle = IntPtr.Zero;
            // .NET's message is a paragraph of advice around the loader's own one-line error, which comes last.
            const string advice = "environment variable:";
            var text = e.Message.Contains(advice, StringComparison.Ordinal) ? e.Message[(e.Message.LastIndexOf(advice, StringComparison.Ordinal) + advice.Length)..] : e.Message;
            why = string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
            return false;
        }
    }

    /// <summary>The DllImport resolver of this assembly: XGBoost's declarations go to <see cref="Configured"/>; others load as usual.</summary>
    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? path) =>
        name == XgbNative.Library && Configured != XgbNative.Library && TryLoad(Configured, out var handle, out _) ? handle : IntPtr.Zero;

    /// <summary>Sets OMP_WAIT_POLICY=passive for the libgomp that libxgboost loads, unless the environment already says otherwise.</summary>
    /// <remarks>libgomp's threads otherwise spin at every barrier; on a busy machine (several trainers on one worker, or any other
    /// load) a spinning thread holds a core that its descheduled partner needs, and boosting ran 20–30 times slower with
    /// nthread=2 than with 1 (100 rounds: 16–24 s against 0.8 s at load 20 on 2 cores; passive: 0.8 s). libgomp reads the
    /// variable once, when it is loaded, so it is set natively (Environment.SetEnvironmentVariable does not reach getenv) just
    /// before the first load of libxgboost; if libgomp is already in the process this changes nothing.</remarks>
    private static void PreferPassiveOpenMpThreads()
    {
        try
        {
            LibC.setenv("OMP_WAIT_POLICY", "passive", overwrite: 0);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // Not glibc-like: a speed hint only.
        }
    }

    /// <summary>Throws <see cref="XgbException"/> with XGBoost's last error when <paramref name="rc"/> is not 0.</summary>
    internal static void Check(int rc, string call)
    {
        if (rc != 0) throw new XgbException($"{call} failed: {LastError()}");
    }

    /// <summary>This thread's last XGBoost error, cut before the native stack trace XGBoost appends to it.</summary>
    internal static string LastError()
    {
        var text = Marshal.PtrToStringUTF8(XgbNative.XGBGetLastError()) ?? "";
        var cut = text.IndexOf("\nStack trace:", StringComparison.Ordinal);
        text = (cut >= 0 ? text[..cut] : text).Trim();
        return text.Length == 0 ? "(XGBoost gave no error text)" : text;
    }
}

/// <summary>setenv(3), for the one variable libgomp must see before it loads.</summary>
internal static partial class LibC
{
    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int setenv(string name, string value, int overwrite);
}
