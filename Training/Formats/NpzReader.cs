using System.IO.Compression;

namespace Cis490.Training.Formats;

/// <summary>An open .npz archive whose arrays are read by name, one at a time.</summary>
public sealed class NpzReader : IDisposable
{
    private readonly ZipArchive _zip;
    private readonly Dictionary<string, ZipArchiveEntry> _entries;
    private bool _disposed;

    private NpzReader(ZipArchive zip)
    {
        _zip = zip;
        _entries = zip.Entries
            .Where(e => e.FullName.EndsWith(".npy", StringComparison.Ordinal))
            .ToDictionary(e => e.FullName[..^4], StringComparer.Ordinal);
        Names = [.. _entries.Keys];
    }

    public static NpzReader Open(string path) => new(ZipFile.OpenRead(path));

    /// <summary>Array names in archive order, without the ".npy".</summary>
    public IReadOnlyList<string> Names { get; }

    public (NpyDType DType, int[] Shape, byte[] Data) Read(string name)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_entries.TryGetValue(name, out var entry))
            throw new KeyNotFoundException($"no array '{name}' in the archive (it has: {string.Join(", ", Names)})");
        using var stream = entry.Open();
        return NpyReader.Read(stream);
    }

    public void Dispose()
    {
        _disposed = true;
        _zip.Dispose();
    }
}
