using Cis490.Shared.Artifacts;
using Cis490.Shared.DataSets;

namespace Cis490.Coordinator.DataSets;

/// <summary>Published data sets on the coordinator's disk: <c>data-sets/&lt;content hash&gt;/bundle.tar.zst</c>, one bundle per
/// content hash however often it is published (content-addressed, so de-duplicated), and <c>data-sets/.incoming/</c> for uploads
/// under way. What is published (names, order) is in the journal, not here.</summary>
public sealed class DataSetRepository
{
    public string Root { get; }
    private string IncomingDir => Path.Combine(Root, ".incoming");

    public DataSetRepository(string root)
    {
        Root = Path.GetFullPath(root);
        Directory.CreateDirectory(IncomingDir);
        foreach (var stale in Directory.EnumerateFileSystemEntries(IncomingDir)) // uploads of a previous run that never finished
            if (Directory.Exists(stale)) Directory.Delete(stale, true);
            else File.Delete(stale);
    }

    /// <summary>Where a data set's bundle lives; only a well-formed content hash names a folder.</summary>
    public string BundlePath(string sha256) =>
        DataSetContent.IsHash(sha256)
            ? Path.Combine(Root, sha256, ArtifactBundle.FileName)
            : throw new ArgumentException($"data-set store: '{sha256}' is not a content hash; no path is made from it");

    public string NewIncomingPath(string sha256) => Path.Combine(IncomingDir, $"{(DataSetContent.IsHash(sha256) ? sha256 : "bad")}-{Guid.NewGuid():N}.part");

    /// <summary>Checks that the files of an uploaded bundle hash to <paramref name="sha256"/>, hashing each entry as it is decompressed
    /// (nothing is unpacked to disk): null when they do, else what is wrong.</summary>
    public static string? CheckContent(string bundlePath, string sha256)
    {
        var actual = DataSetBundle.Describe(bundlePath).Sha256;
        return actual == sha256 ? null : $"content hash mismatch: announced {sha256}, the bundle's files hash to {actual}";
    }

    /// <summary>Moves a verified upload into place; returns false (and deletes the upload) when the same bytes are already stored.</summary>
    public bool Commit(string incomingPath, string sha256)
    {
        var final = BundlePath(sha256);
        if (File.Exists(final))
        {
            File.Delete(incomingPath);
            return false;
        }
        Directory.CreateDirectory(Path.GetDirectoryName(final)!);
        File.Move(incomingPath, final); // same file system: atomic rename
        return true;
    }

    public static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { }
    }
}
