using System.Formats.Tar;
using System.Security.Cryptography;
using ZstdSharp;

namespace Cis490.Shared.Artifacts;

/// <summary>The artifact bundle format: a deterministic tar (sorted entries, zero times and owners) inside zstd, named by its sha256.</summary>
/// <remarks>Deterministic so that a byte-identical checkpoint gives a byte-identical bundle, which the store deduplicates.</remarks>
public static class ArtifactBundle
{
    public const string FileName = "bundle.tar.zst";

    /// <summary>zstd level: 3 is zstd's default, fast enough that packing never dominates a job.</summary>
    public const int CompressionLevel = 3;

    /// <summary>Packs every file under <paramref name="sourceDir"/> (those <paramref name="include"/> accepts, by relative path with
    /// '/' separators, when given) into <paramref name="bundlePath"/>; returns its sha256 and size.</summary>
    public static (string Sha256, long Bytes) Create(string sourceDir, string bundlePath, Func<string, bool>? include = null)
    {
        var files = Directory.EnumerateFiles(sourceDir, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(sourceDir, f).Replace('\\', '/'))
            .Where(f => include is null || include(f))
            .Order(StringComparer.Ordinal)
            .ToList();
        if (files.Count == 0) throw new InvalidOperationException($"nothing to bundle in {sourceDir}");
        using (var output = File.Create(bundlePath))
        using (var zstd = new CompressionStream(output, CompressionLevel))
        using (var tar = new TarWriter(zstd, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var rel in files)
            {
                var entry = new PaxTarEntry(TarEntryType.RegularFile, rel, new Dictionary<string, string>())
                {
                    ModificationTime = DateTimeOffset.UnixEpoch,
                    Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
                    Uid = 0,
                    Gid = 0,
                };
                using var data = File.OpenRead(Path.Combine(sourceDir, rel));
                entry.DataStream = data;
                tar.WriteEntry(entry);
            }
        }
        return (HashFile(bundlePath), new FileInfo(bundlePath).Length);
    }

    /// <summary>Unpacks a bundle into <paramref name="targetDir"/>, refusing entries that would escape it.</summary>
    public static void Extract(string bundlePath, string targetDir)
    {
        Directory.CreateDirectory(targetDir);
        var root = Path.GetFullPath(targetDir) + Path.DirectorySeparatorChar;
        using var input = File.OpenRead(bundlePath);
        using var zstd = new DecompressionStream(input);
        using var tar = new TarReader(zstd);
        while (tar.GetNextEntry() is { } entry)
        {
            if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile)) continue;
            var dest = Path.GetFullPath(Path.Combine(targetDir, entry.Name));
            if (!dest.StartsWith(root, StringComparison.Ordinal))
                throw new InvalidDataException($"{bundlePath}: entry '{entry.Name}' would be written outside {targetDir}");
            Directory.CreateDirectory(Path.GetDirectoryName(dest)!);
            entry.ExtractToFile(dest, overwrite: true);
        }
    }

    /// <summary>The bytes of one file in a bundle (e.g. <c>ckpt.json</c>), or null when the bundle has no such entry or it is
    /// larger than <paramref name="maxBytes"/>. Reads only up to that entry.</summary>
    public static byte[]? ReadEntry(string bundlePath, string entryName, int maxBytes)
    {
        using var input = File.OpenRead(bundlePath);
        using var zstd = new DecompressionStream(input);
        using var tar = new TarReader(zstd);
        while (tar.GetNextEntry() is { } entry)
        {
            if (entry.Name != entryName || entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile)) continue;
            if (entry.Length > maxBytes || entry.DataStream is null) return null;
            using var copy = new MemoryStream((int)entry.Length);
            entry.DataStream.CopyTo(copy);
            return copy.ToArray();
        }
        return null;
    }

    /// <summary>Lowercase hex sha256 of a file, streamed.</summary>
    public static string HashFile(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
