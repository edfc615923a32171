namespace Cis490.ElfPatch;

/// <summary><c>dotnet Cis490.ElfPatch.dll [--libstdcxx PATH] [--force] FILE...</c>: applies <see cref="GlibcxxPatch"/> to each file,
/// in place, where the host needs it. Run by the build after it copies libLibTorchSharp.so into an output folder.</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        var libstdcxx = GlibcxxPatch.HostLibstdcxx;
        var force = false;
        var files = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--libstdcxx" when i + 1 < args.Length: libstdcxx = args[++i]; break;
                case "--force": force = true; break;
                default: files.Add(args[i]); break;
            }
        }
        if (files.Count == 0)
        {
            Console.Error.WriteLine("usage: Cis490.ElfPatch [--libstdcxx PATH] [--force] libLibTorchSharp.so...");
            return 2;
        }
        try
        {
            // --force patches whatever the host has: the tests use it to patch a copy on any machine.
            var needed = force || GlibcxxPatch.HostNeedsPatch(libstdcxx);
            foreach (var file in files)
                Console.WriteLine($"cis490-elfpatch: {file}: {Describe(needed ? GlibcxxPatch.Apply(file) : PatchOutcome.NotNeeded, libstdcxx)}");
            return 0;
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"cis490-elfpatch: error: {e.Message}");
            return 1;
        }
    }

    private static string Describe(PatchOutcome outcome, string libstdcxx) => outcome switch
    {
        PatchOutcome.Patched => $"patched ({GlibcxxPatch.Version} weak, {GlibcxxPatch.Symbol} unversioned)",
        PatchOutcome.AlreadyPatched => "already patched",
        PatchOutcome.NoReference => $"does not ask for {GlibcxxPatch.Version}; left as it is",
        _ => $"not needed ({libstdcxx} has {GlibcxxPatch.Version}, or is not there); left as it is",
    };
}
