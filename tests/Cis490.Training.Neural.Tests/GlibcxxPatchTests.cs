using System.ComponentModel;
using System.Diagnostics;
using Cis490.ElfPatch;

namespace Cis490.Training.Neural.Tests;

/// <summary>The edit that lets TorchSharp's libLibTorchSharp.so load on Debian 12's libstdc++, checked with binutils' readelf.</summary>
public sealed class GlibcxxPatchTests
{
    private const string VersionLine = "Name: GLIBCXX_3.4.32  Flags: ";

    /// <summary>The library as NuGet restored it (never edited: the build patches its output copies).</summary>
    internal static string PackageLibrary()
    {
        var root = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                   ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var path = Path.Combine(root, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", TorchRuntime.LibTorchSharpFile);
        Assert.True(File.Exists(path), $"{path} is missing: restore the solution first");
        return path;
    }

    private static string CopyOfPackageLibrary(TempDir tmp)
    {
        var copy = tmp.Combine(TorchRuntime.LibTorchSharpFile);
        File.Copy(PackageLibrary(), copy);
        return copy;
    }

    private static string Readelf(params string[] args)
    {
        var psi = new ProcessStartInfo("readelf") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        try
        {
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, $"readelf {string.Join(' ', args)} exited {p.ExitCode}: {p.StandardError.ReadToEnd()}");
            return stdout;
        }
        catch (Win32Exception)
        {
            Assert.Fail("readelf is not installed: apt-get install binutils");
            throw;
        }
    }

    private static string VersionFlags(string path) =>
        Readelf("-V", "-W", path).Split('\n').Single(l => l.Contains(VersionLine, StringComparison.Ordinal)).Trim();

    private static string[] DynamicSymbolLines(string path) =>
        Readelf("--dyn-syms", "-W", path).Split('\n').Where(l => l.Contains(GlibcxxPatch.Symbol, StringComparison.Ordinal)).ToArray();

    [Fact]
    public void Patching_a_copy_of_the_package_library_makes_the_version_weak_and_clears_the_symbols_version()
    {
        using var tmp = new TempDir();
        var copy = CopyOfPackageLibrary(tmp);
        Assert.Contains("Flags: none", VersionFlags(copy));
        Assert.Contains($"{GlibcxxPatch.Symbol}@GLIBCXX_3.4.32", Assert.Single(DynamicSymbolLines(copy)));

        Assert.Equal(PatchOutcome.Patched, GlibcxxPatch.Apply(copy));

        Assert.Contains("Flags: WEAK", VersionFlags(copy));
        var symbol = Assert.Single(DynamicSymbolLines(copy));
        Assert.EndsWith(GlibcxxPatch.Symbol, symbol.TrimEnd()); // no @VERSION left: the lookup is unversioned
        Assert.Contains("1 (*global*)", Readelf("-V", "-W", copy));
        Assert.True(GlibcxxPatch.Inspect(copy).IsPatched);
    }

    [Fact]
    public void The_patch_changes_exactly_two_bytes_and_keeps_size_mode_and_modification_time()
    {
        using var tmp = new TempDir();
        var copy = CopyOfPackageLibrary(tmp);
        var before = File.ReadAllBytes(copy);
        var (mtime, mode) = (File.GetLastWriteTimeUtc(copy), File.GetUnixFileMode(copy));

        GlibcxxPatch.Apply(copy);

        var after = File.ReadAllBytes(copy);
        Assert.Equal(before.Length, after.Length);
        Assert.Equal(2, before.Zip(after).Count(p => p.First != p.Second));
        Assert.Equal(mtime, File.GetLastWriteTimeUtc(copy));
        Assert.Equal(mode, File.GetUnixFileMode(copy));
        Assert.Empty(Directory.GetFiles(tmp.Path, "*.patching-*", SearchOption.AllDirectories));
    }

    [Fact]
    public void Patching_twice_changes_nothing_the_second_time()
    {
        using var tmp = new TempDir();
        var copy = CopyOfPackageLibrary(tmp);
        Assert.Equal(PatchOutcome.Patched, GlibcxxPatch.Apply(copy));
        var once = File.ReadAllBytes(copy);

        Assert.Equal(PatchOutcome.AlreadyPatched, GlibcxxPatch.Apply(copy));
        Assert.Equal(once, File.ReadAllBytes(copy));
    }

    [Fact]
    public void The_patch_tool_the_build_runs_patches_a_copy_and_says_so()
    {
        using var tmp = new TempDir();
        var copy = CopyOfPackageLibrary(tmp);
        var tool = Path.Combine(AppContext.BaseDirectory, "Cis490.ElfPatch.dll");
        Assert.True(File.Exists(tool), $"{tool} is missing: the Neural project's reference should copy it beside the tests");

        string Run()
        {
            var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { tool, "--force", copy }) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, $"the tool exited {p.ExitCode}: {p.StandardError.ReadToEnd()}");
            return stdout;
        }

        Assert.Contains("patched (GLIBCXX_3.4.32 weak", Run());
        Assert.Contains("already patched", Run());
        Assert.Contains("Flags: WEAK", VersionFlags(copy));
    }

    [Fact]
    public void The_build_patched_this_test_output_copy_only_where_the_host_libstdcxx_lacks_the_version()
    {
        var output = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", TorchRuntime.LibTorchSharpFile);
        Assert.True(File.Exists(output), $"{output} is missing");
        if (GlibcxxPatch.HostNeedsPatch())
            Assert.Contains("Flags: WEAK", VersionFlags(output));
        else
            Assert.Equal(File.ReadAllBytes(PackageLibrary()), File.ReadAllBytes(output));
        Assert.Contains("Flags: none", VersionFlags(PackageLibrary())); // the NuGet cache's file is never edited
    }

    [Fact]
    public void The_host_needs_the_patch_only_when_its_libstdcxx_lacks_the_version_string()
    {
        using var tmp = new TempDir();
        var old = tmp.Combine("old.so");
        var recent = tmp.Combine("recent.so");
        File.WriteAllBytes(old, [0x7f, .. "ELF\0GLIBCXX_3.4.30\0GLIBCXX_3.4.31\0"u8.ToArray()]);
        File.WriteAllBytes(recent, [0x7f, .. "ELF\0GLIBCXX_3.4.31\0GLIBCXX_3.4.32\0"u8.ToArray()]);

        Assert.True(GlibcxxPatch.HostNeedsPatch(old));
        Assert.False(GlibcxxPatch.HostNeedsPatch(recent));
        Assert.False(GlibcxxPatch.HostNeedsPatch(tmp.Combine("absent.so")));
    }

    [Fact]
    public void A_file_that_is_not_elf_is_refused_with_its_path()
    {
        using var tmp = new TempDir();
        var path = tmp.Combine("not-a-library.so");
        File.WriteAllText(path, "just text, long enough to hold an ELF header if it were one, but it is not one at all");

        var error = Assert.Throws<InvalidDataException>(() => GlibcxxPatch.Apply(path));
        Assert.Contains(path, error.Message);
        Assert.Contains("not an ELF file", error.Message);
    }
}
