using System.Formats.Tar;
using System.Security.Cryptography;
using System.Text;
using ZstdSharp;

namespace Cis490.Shared.DataSets;

/// <summary>A data set's bundle (tar + zstd, as <c>ArtifactBundle.Create</c> packs it) described in one pass: each entry's bytes are
/// hashed as they are decompressed, and written under a folder only when the caller wants the files. The coordinator checks a
/// publication without unpacking it to disk; a worker unpacks and hashes at once instead of reading everything back.</summary>
public static class DataSetBundle
{
    /// <summary>The content hash (<see cref="DataSetContent"/>'s, the same a folder of these files gives), file count and bytes of the
    /// data set in <paramref name="bundlePath"/>; its files are written under <paramref name="extractTo"/> when given. An entry whose
    /// name is not a plain relative path (absolute, with '..', '.', an empty part or a backslash) is refused: it could name a file
    /// other than the one hashed.</summary>
    public static DataSetSummary Describe(string bundlePath, string? extractTo = null)
    {
        if (extractTo is not null) Directory.CreateDirectory(extractTo);
        var files = new SortedDictionary<string, (long Size, string Sha256)>(StringComparer.Ordinal);
        var buffer = new byte[1 << 20];
        using var input = new FileStream(bundlePath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        using var zstd = new DecompressionStream(input);
        using var tar = new TarReader(zstd);
        while (tar.GetNextEntry() is { } entry)
        {
            if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile)) continue;
            var name = entry.Name;
            if (name.Length == 0 || name[0] == '/' || name.Contains('\\') || name.Split('/').Any(part => part is "" or "." or ".."))
                throw new InvalidDataException($"{bundlePath}: entry '{name}' is not a plain relative path; a data-set bundle holds only those");
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            using var output = extractTo is null ? null : Create(Path.Combine(extractTo, name));
            long size = 0;
            if (entry.DataStream is { } data)
                for (int n; (n = data.Read(buffer)) > 0; size += n)
                {
                    hash.AppendData(buffer, 0, n);
                    output?.Write(buffer, 0, n);
                }
            // A name seen twice: the later entry is what lands on disk, so it is what counts.
            if (DataSetContent.Included(name)) files[name] = (size, Convert.ToHexStringLower(hash.GetHashAndReset()));
        }
        if (files.Count == 0) throw new InvalidDataException($"{bundlePath} holds no data-set files");
        var listing = new StringBuilder(DataSetContent.Scheme).Append('\n');
        foreach (var (rel, (size, sha)) in files) listing.Append(rel).Append('\t').Append(size).Append('\t').Append(sha).Append('\n');
        return new DataSetSummary(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(listing.ToString()))), files.Count,
            files.Values.Sum(f => f.Size));
    }

    private static FileStream Create(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        return new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
    }
}
