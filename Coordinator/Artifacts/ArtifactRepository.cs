using System.Text;
using System.Text.Json;
using Cis490.Shared.Artifacts;

namespace Cis490.Coordinator.Artifacts;

/// <summary>One row of models/index.jsonl: an artifact stored for the first time.</summary>
public sealed record ArtifactIndexRow(string Sha256, string Model, string Mode, string JobId, long LeaseId, long Bytes, string Path, DateTimeOffset StoredAt);

/// <summary>The content-addressed store on disk: <c>models/&lt;model&gt;_&lt;mode&gt;/&lt;sha256&gt;/bundle.tar.zst</c> and <c>models/index.jsonl</c>.</summary>
/// <remarks>Not thread-safe: the store actor is its only user. Index rows are written with one append of a whole line and
/// flushed to disk; a tail torn by a crash is cut off when the repository is opened, so a reader never sees half a row.</remarks>
public sealed class ArtifactRepository
{
    public const string IndexFile = "index.jsonl";
    private static readonly JsonSerializerOptions RowJson = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public string Root { get; }
    public string IncomingDir => System.IO.Path.Combine(Root, ".incoming");
    public string IndexPath => System.IO.Path.Combine(Root, IndexFile);

    public ArtifactRepository(string modelsDir)
    {
        Root = System.IO.Path.GetFullPath(modelsDir);
        Directory.CreateDirectory(Root);
        Directory.CreateDirectory(IncomingDir);
        foreach (var stale in Directory.EnumerateFiles(IncomingDir)) File.Delete(stale); // partial uploads of a previous run
        RepairIndexTail();
    }

    /// <summary>A fresh temporary path for an incoming upload.</summary>
    public string NewIncomingPath(string jobId, long leaseId) =>
        System.IO.Path.Combine(IncomingDir, $"{jobId}-{leaseId}-{Guid.NewGuid():N}.part");

    public string BundlePath(string model, string mode, string sha256) =>
        System.IO.Path.Combine(Root, $"{model}_{mode}", sha256, ArtifactBundle.FileName);

    /// <summary>Moves a verified upload into place. Returns false (and deletes the upload) when the same bytes are already stored.</summary>
    public bool Commit(string incomingPath, string sha256, string model, string mode, string jobId, long leaseId, long bytes, DateTimeOffset now)
    {
        var final = BundlePath(model, mode, sha256);
        if (File.Exists(final) && ArtifactBundle.HashFile(final) == sha256)
        {
            File.Delete(incomingPath);
            return false;
        }
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(final)!);
        File.Move(incomingPath, final, overwrite: true); // same file system: atomic rename
        AppendRow(new ArtifactIndexRow(sha256, model, mode, jobId, leaseId, bytes, System.IO.Path.GetRelativePath(Root, final), now));
        return true;
    }

    public IReadOnlyList<ArtifactIndexRow> ReadIndex() =>
        File.Exists(IndexPath)
            ? File.ReadLines(IndexPath).Where(l => l.Length > 0).Select(l => JsonSerializer.Deserialize<ArtifactIndexRow>(l, RowJson)!).ToList()
            : [];

    private void AppendRow(ArtifactIndexRow row)
    {
        var line = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(row, RowJson) + "\n");
        using var f = new FileStream(IndexPath, FileMode.Append, FileAccess.Write, FileShare.Read, 1, FileOptions.None);
        f.Write(line); // one write of the whole row (O_APPEND): rows never interleave
        f.Flush(flushToDisk: true);
    }

    private void RepairIndexTail()
    {
        if (!File.Exists(IndexPath)) return;
        using var f = new FileStream(IndexPath, FileMode.Open, FileAccess.ReadWrite);
        if (f.Length == 0) return;
        f.Seek(-1, SeekOrigin.End);
        if (f.ReadByte() == '\n') return;
        // Find the last complete line and cut what follows it.
        var pos = f.Length - 1;
        var buf = new byte[1];
        while (pos > 0)
        {
            f.Seek(pos - 1, SeekOrigin.Begin);
            f.ReadExactly(buf);
            if (buf[0] == '\n') break;
            pos--;
        }
        f.SetLength(pos);
    }
}
