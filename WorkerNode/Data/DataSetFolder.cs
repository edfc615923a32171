using Cis490.Shared.Artifacts;
using Cis490.Shared.DataSets;

namespace Cis490.WorkerNode.Data;

/// <summary>The files of a worker's data-set cache: <c>ROOT/&lt;hash&gt;/</c> (an unpacked, verified data set with its marker),
/// <c>ROOT/.incoming/&lt;hash&gt;.part</c> (a transfer so far: a resumed transfer appends to it). Nothing here knows actors.</summary>
public sealed class DataSetFolder(string root)
{
    public string Root { get; } = Path.GetFullPath(root);
    private string Incoming => Path.Combine(Root, ".incoming");

    /// <summary>Where a data set is unpacked; only a well-formed content hash names a folder.</summary>
    public string Dir(string sha256) => DataSetContent.IsHash(sha256)
        ? Path.Combine(Root, sha256)
        : throw new ArgumentException($"'{sha256}' is not a data-set content hash; no folder is made from it");

    public string PartPath(string sha256) => Path.Combine(Incoming, $"{Path.GetFileName(Dir(sha256))}.part");

    /// <summary>Whether the data set is in the cache: its folder has the marker written last, after the hash was checked.</summary>
    public bool Has(string sha256) => DataSetContent.ReadMarker(Dir(sha256))?.Sha256 == sha256;

    /// <summary>Bytes already received of a transfer (where a resumed one starts).</summary>
    public long Received(string sha256) => File.Exists(PartPath(sha256)) ? new FileInfo(PartPath(sha256)).Length : 0;

    public void PrepareIncoming() => Directory.CreateDirectory(Incoming);

    public void DropPart(string sha256)
    {
        if (File.Exists(PartPath(sha256))) File.Delete(PartPath(sha256));
    }

    /// <summary>Marks a data set as used now (what least-recently-used eviction goes by).</summary>
    public void Touch(string sha256)
    {
        var marker = Path.Combine(Dir(sha256), DataSetContent.MarkerFile);
        if (File.Exists(marker)) File.SetLastWriteTimeUtc(marker, DateTime.UtcNow);
    }

    /// <summary>Checks a finished transfer and moves it into the cache: the bundle must hash to <paramref name="bundleSha256"/>, and its
    /// files to <paramref name="sha256"/> (<paramref name="receivedSha256"/>: the bundle's hash as the transfer computed it while writing,
    /// null to read the file and hash it here). Returns null when it is in place, else why it was refused (the transfer is deleted then, so
    /// the next one starts from byte 0).</summary>
    public string? Install(string sha256, string bundleSha256, long bundleBytes, string? receivedSha256 = null)
    {
        var part = PartPath(sha256);
        var scratch = Path.Combine(Incoming, $"{Path.GetFileName(Dir(sha256))}.unpack");
        try
        {
            var length = new FileInfo(part).Length;
            if (length != bundleBytes) return $"size mismatch: the bundle has {bundleBytes} bytes, {length} arrived";
            var actual = receivedSha256 ?? ArtifactBundle.HashFile(part);
            if (actual != bundleSha256) return $"hash mismatch: the bundle's sha256 is {bundleSha256}, the bytes received hash to {actual}";
            if (Directory.Exists(scratch)) Directory.Delete(scratch, true);
            var summary = DataSetBundle.Describe(part, scratch); // unpacked and hashed in one pass
            if (summary.Sha256 != sha256) return $"content hash mismatch: asked for data set {sha256}, the bundle's files hash to {summary.Sha256}";
            DataSetContent.WriteMarker(scratch, new DataSetMarker(DataSetContent.Scheme, sha256, null, summary.Files, summary.Bytes));
            var final = Dir(sha256);
            if (Directory.Exists(final)) Directory.Delete(final, true); // a folder without its marker: an interrupted install
            Directory.Move(scratch, final);
            File.Delete(part);
            return null;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException or FormatException)
        {
            return $"the bundle cannot be unpacked: {e.Message}";
        }
        finally
        {
            if (Directory.Exists(scratch)) Directory.Delete(scratch, true);
            // Refused or failed: the bytes are useless, the next transfer starts again from the beginning.
            if (Directory.Exists(Incoming) && !Has(sha256) && File.Exists(part)) File.Delete(part);
        }
    }

    /// <summary>The data sets in the cache, with their unpacked size and last use.</summary>
    public IReadOnlyList<(string Sha256, long Bytes, DateTime LastUsedUtc)> Entries()
    {
        if (!Directory.Exists(Root)) return [];
        return Directory.EnumerateDirectories(Root)
            .Select(d => Path.GetFileName(d))
            .Where(h => DataSetContent.IsHash(h) && Has(h))
            .Select(h => (h, Directory.EnumerateFiles(Dir(h), "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length),
                File.GetLastWriteTimeUtc(Path.Combine(Dir(h), DataSetContent.MarkerFile))))
            .ToList();
    }

    public void Delete(string sha256)
    {
        if (Directory.Exists(Dir(sha256))) Directory.Delete(Dir(sha256), true);
    }
}
