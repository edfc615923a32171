using System.Buffers.Binary;
using System.Text;

namespace Cis490.ElfPatch;

/// <summary>What <see cref="GlibcxxPatch.Apply"/> did to a file.</summary>
public enum PatchOutcome
{
    /// <summary>The file was edited (written to a temporary file beside it, then renamed over it).</summary>
    Patched,
    /// <summary>The file already had both edits: nothing was written.</summary>
    AlreadyPatched,
    /// <summary>The file does not ask for <see cref="GlibcxxPatch.Version"/>: nothing to do.</summary>
    NoReference,
    /// <summary>The host's libstdc++ has the version: the file was not looked at.</summary>
    NotNeeded,
}

/// <summary>The state of the <see cref="GlibcxxPatch.Version"/> requirement in an ELF file, as the dynamic loader will read it.</summary>
/// <param name="RequiresVersion">the file's <c>.gnu.version_r</c> names the version.</param>
/// <param name="Weak">that entry carries <c>VER_FLG_WEAK</c>: a missing version is then no error.</param>
/// <param name="SymbolVersion">the <c>.gnu.version</c> index of <see cref="GlibcxxPatch.Symbol"/> (1 = global, unversioned); null if absent.</param>
public sealed record PatchState(bool RequiresVersion, bool Weak, int? SymbolVersion, int VersionIndex)
{
    public bool IsPatched => RequiresVersion && Weak && SymbolVersion is null or 1;
}

/// <summary>Makes TorchSharp 0.107.0's <c>libLibTorchSharp.so</c> (built with GCC 13) load on a libstdc++ without
/// <c>GLIBCXX_3.4.32</c> (Debian 12 has GCC 12's, up to 3.4.30). The only symbol behind that version is
/// <c>_ZSt21ios_base_library_initv</c>, a link-time marker that GCC 13's &lt;iostream&gt; references and nothing calls. Two edits:
/// <list type="number">
/// <item>the <c>GLIBCXX_3.4.32</c> entry of <c>.gnu.version_r</c> gets <c>VER_FLG_WEAK</c> (0x2), so the loader does not refuse
/// the library when libstdc++ lacks that version;</item>
/// <item>the symbol's <c>.gnu.version</c> entry becomes 1 (global), so its lookup does not ask for that version
/// (what <c>patchelf --clear-symbol-version</c> does).</item>
/// </list>
/// Both are idempotent; the file keeps its size, mode and modification time (so an incremental build's copy skips it).</summary>
public static class GlibcxxPatch
{
    public const string Version = "GLIBCXX_3.4.32";
    public const string Symbol = "_ZSt21ios_base_library_initv";
    public const string HostLibstdcxx = "/usr/lib/x86_64-linux-gnu/libstdc++.so.6";

    private const uint ShtDynsym = 11;
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const uint ShtGnuVersym = 0x6fffffff;
    private const ushort VerFlgWeak = 0x2;
    private const ushort VerNdxGlobal = 1;

    /// <summary>True when <paramref name="libstdcxx"/> exists and does not define <see cref="Version"/>. A host without that
    /// file (another distribution's layout, not Linux) is left alone: nothing here says it needs the edit.</summary>
    public static bool HostNeedsPatch(string libstdcxx = HostLibstdcxx)
    {
        if (!File.Exists(libstdcxx)) return false;
        // The version string with its terminating NUL, as it sits in the library's .dynstr.
        var needle = Encoding.ASCII.GetBytes(Version + "\0");
        return File.ReadAllBytes(libstdcxx).AsSpan().IndexOf(needle) < 0;
    }

    /// <summary>Reads the requirement's state without changing anything.</summary>
    public static PatchState Inspect(string path) => Locate(File.ReadAllBytes(path), path).State;

    /// <summary>Applies both edits to <paramref name="path"/> in place (idempotent; safe while another process has the file mapped:
    /// the edited bytes go to a new file that replaces the old one by rename).</summary>
    public static PatchOutcome Apply(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var found = Locate(bytes, path);
        if (!found.State.RequiresVersion) return PatchOutcome.NoReference;
        if (found.State.IsPatched) return PatchOutcome.AlreadyPatched;

        var flags = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(found.AuxFlagsOffset));
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(found.AuxFlagsOffset), (ushort)(flags | VerFlgWeak));
        foreach (var offset in found.SymbolVersymOffsets)
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(offset), VerNdxGlobal);

        var info = new FileInfo(path);
        var modified = info.LastWriteTimeUtc;
        var temp = Path.Combine(info.DirectoryName ?? ".", $".{info.Name}.patching-{Environment.ProcessId}");
        try
        {
            File.WriteAllBytes(temp, bytes);
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(temp, File.GetUnixFileMode(path));
            File.SetLastWriteTimeUtc(temp, modified);
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
        return PatchOutcome.Patched;
    }

    private sealed record Located(PatchState State, int AuxFlagsOffset, IReadOnlyList<int> SymbolVersymOffsets);

    private readonly record struct Section(uint Type, long Offset, long Size, uint Link, uint Info, long EntrySize);

    /// <summary>Finds the version's <c>Elf64_Vernaux</c> and the symbol's <c>.gnu.version</c> entries (ELF64 little-endian only).</summary>
    private static Located Locate(byte[] b, string path)
    {
        if (b.Length < 64 || b[0] != 0x7f || b[1] != (byte)'E' || b[2] != (byte)'L' || b[3] != (byte)'F')
            throw new InvalidDataException($"{path} is not an ELF file");
        if (b[4] != 2 || b[5] != 1)
            throw new InvalidDataException($"{path} is not a 64-bit little-endian ELF file (class {b[4]}, data {b[5]})");
        var shoff = checked((long)U64(b, 0x28, path));
        var shentsize = U16(b, 0x3a, path);
        var shnum = U16(b, 0x3c, path);
        var sections = new Section[shnum];
        for (var i = 0; i < shnum; i++)
        {
            var h = checked((int)(shoff + (long)i * shentsize));
            sections[i] = new Section(U32(b, h + 4, path), checked((long)U64(b, h + 24, path)), checked((long)U64(b, h + 32, path)),
                U32(b, h + 40, path), U32(b, h + 44, path), checked((long)U64(b, h + 56, path)));
        }

        var verneed = sections.FirstOrDefault(s => s.Type == ShtGnuVerneed);
        if (verneed.Type == 0) return new Located(new PatchState(false, false, null, 0), -1, []);
        var verStrings = sections[verneed.Link];
        int auxFlags = -1, versionIndex = 0;
        var need = (int)verneed.Offset;
        for (var n = 0; n < verneed.Info; n++)
        {
            var count = U16(b, need + 2, path);
            var aux = need + (int)U32(b, need + 8, path);
            for (var a = 0; a < count; a++)
            {
                if (Str(b, verStrings, U32(b, aux + 8, path), path) == Version)
                {
                    auxFlags = aux + 4;
                    versionIndex = U16(b, aux + 6, path) & 0x7fff;
                }
                aux += (int)U32(b, aux + 12, path);
            }
            need += (int)U32(b, need + 12, path);
        }
        if (auxFlags < 0) return new Located(new PatchState(false, false, null, 0), -1, []);

        var dynsym = sections.FirstOrDefault(s => s.Type == ShtDynsym);
        var versym = sections.FirstOrDefault(s => s.Type == ShtGnuVersym);
        if (dynsym.Type == 0 || versym.Type == 0) throw new InvalidDataException($"{path} has {Version} in .gnu.version_r but no .dynsym or .gnu.version");
        var symStrings = sections[dynsym.Link];
        var entry = dynsym.EntrySize > 0 ? dynsym.EntrySize : 24;
        var offsets = new List<int>();
        int? symbolVersion = null;
        for (var i = 0; i < dynsym.Size / entry; i++)
        {
            if (Str(b, symStrings, U32(b, checked((int)(dynsym.Offset + i * entry)), path), path) != Symbol) continue;
            var at = checked((int)(versym.Offset + i * 2));
            var ver = U16(b, at, path) & 0x7fff;
            if (ver != VerNdxGlobal) offsets.Add(at);
            symbolVersion = ver != VerNdxGlobal ? ver : symbolVersion ?? ver;
        }
        var weak = (U16(b, auxFlags, path) & VerFlgWeak) != 0;
        return new Located(new PatchState(true, weak, symbolVersion, versionIndex), auxFlags, offsets);
    }

    private static ushort U16(byte[] b, long at, string path) => BinaryPrimitives.ReadUInt16LittleEndian(Slice(b, at, 2, path));

    private static uint U32(byte[] b, long at, string path) => BinaryPrimitives.ReadUInt32LittleEndian(Slice(b, at, 4, path));

    private static ulong U64(byte[] b, long at, string path) => BinaryPrimitives.ReadUInt64LittleEndian(Slice(b, at, 8, path));

    private static ReadOnlySpan<byte> Slice(byte[] b, long at, int length, string path) =>
        at >= 0 && at + length <= b.Length ? b.AsSpan((int)at, length) : throw new InvalidDataException($"{path}: ELF structure points outside the file (offset {at})");

    private static string Str(byte[] b, Section table, uint offset, string path)
    {
        var start = table.Offset + offset;
        var span = Slice(b, start, (int)Math.Min(256, Math.Max(0, b.Length - start)), path);
        var end = span.IndexOf((byte)0);
        return Encoding.ASCII.GetString(end < 0 ? span : span[..end]);
    }
}
