using System.IO.Compression;

namespace Cis490.Training.Formats;

/// <summary>Packs .npy files into an .npz (a zip of "name.npy" entries), byte-identical for the same input.</summary>
public static class Npz
{
    // Fixed timestamp (the zip epoch) so that packing the same arrays twice gives the same bytes.
    private static readonly DateTimeOffset EntryTime = new(1980, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static void Pack(string npzPath, IEnumerable<(string Name, string NpyPath)> arrays)
    {
        ArgumentNullException.ThrowIfNull(npzPath);
        ArgumentNullException.ThrowIfNull(arrays);
        // Written beside the target and renamed, so a reader never sees a half-written archive.
        var tmp = npzPath + ".tmp";
        try
        {
            using (var file = new FileStream(tmp, FileMode.Create, FileAccess.ReadWrite, FileShare.None, bufferSize: 1 << 16))
            using (var zip = new ZipArchive(file, ZipArchiveMode.Create))
            {
                var names = new HashSet<string>(StringComparer.Ordinal);
                foreach (var (name, npyPath) in arrays)
                {
                    if (string.IsNullOrEmpty(name) || name.Contains('/') || name.Contains('\\'))
                        throw new ArgumentException($"array name '{name}' is empty or contains a path separator", nameof(arrays));
                    if (!names.Add(name)) throw new ArgumentException($"array name '{name}' appears twice", nameof(arrays));
                    // Stored, like numpy.savez: loaders can read entries at disk speed, and the tensors hardly compress.
                    var entry = zip.CreateEntry(name + ".npy", CompressionLevel.NoCompression);
                    entry.LastWriteTime = EntryTime;
                    using var source = new FileStream(npyPath, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
                    using var target = entry.Open();
                    source.CopyTo(target); // streamed in chunks: a shard of several GiB is never held in memory
                }
            }
            File.Move(tmp, npzPath, overwrite: true);
        }
        catch
        {
            File.Delete(tmp);
            throw;
        }
    }
}
