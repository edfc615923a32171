using System.Text;
using System.Text.Json;
using Cis490.Shared.Artifacts;

namespace Cis490.Coordinator.Artifacts;

/// <summary>One row of models/index.jsonl: an artifact stored for the first time. <paramref name="DataSet"/>: the content hash of the
/// data set the model was trained on (absent from rows written before data sets existed).</summary>
public sealed record ArtifactIndexRow(string Sha256, string Model, string Mode, string JobId, long LeaseId, long Bytes, string Path, DateTimeOffset StoredAt,
    string? DataSet = null);

/// <summary>The content-addressed store on disk: <c>models/&lt;model&gt;_&lt;mode&gt;/&lt;sha256&gt;/bundle.tar.zst</c> and <c>models/index.jsonl</c>,
/// with exactly one index row per stored bundle.</summary>
/// <remarks>Not thread-safe: the store actor is its only user. Index rows are written with one append of a whole line and
/// flushed to disk; a tail torn by a crash is cut off when the repository is opened, so a reader never sees half a row.
/// A crash between a bundle's rename and its row's append leaves a bundle without a row: <see cref="RepairIndex"/> (run when
/// the store starts) and <see cref="Commit"/> (when the bundle is offered again) write the missing row. A line that is not a
/// row (hand-edited, damaged) is skipped and reported once; it never hides the other rows.</remarks>
public sealed class ArtifactRepository
{
    public const string IndexFile = "index.jsonl";

    /// <summary>Largest <c>ckpt.json</c> read out of a bundle to repair its row; real ones are a few KB.</summary>
    private const int MaxCheckpointBytes = 1 << 20;

    private static readonly JsonSerializerOptions RowJson = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        // A row missing a field, or with null for one, is not a row ({} once threw a NullReferenceException in every reader).
        RespectRequiredConstructorParameters = true,
        RespectNullableAnnotations = true,
    };

    private readonly Action<string> _warn;

    /// <summary>The sha256 of every artifact that has a row (kept in step with the file: only this instance appends).</summary>
    private readonly HashSet<string> _indexed = new(StringComparer.Ordinal);

    /// <summary>Bad lines already reported (by line number and text), so a reader asking every second does not flood the log.</summary>
    private readonly HashSet<(int, string)> _reported = [];

    public string Root { get; }
    public string IncomingDir => System.IO.Path.Combine(Root, ".incoming");
    public string IndexPath => System.IO.Path.Combine(Root, IndexFile);

    /// <param name="warn">Where a bad index line or an unreadable bundle is reported (the store's log); ignored when null.</param>
    public ArtifactRepository(string modelsDir, Action<string>? warn = null)
    {
        _warn = warn ?? (_ => { });
        Root = System.IO.Path.GetFullPath(modelsDir);
        Directory.CreateDirectory(Root);
        Directory.CreateDirectory(IncomingDir);
        foreach (var stale in Directory.EnumerateFiles(IncomingDir)) File.Delete(stale); // partial uploads of a previous run
        RepairIndexTail();
        foreach (var row in ReadIndex()) _indexed.Add(row.Sha256);
    }

    /// <summary>A fresh temporary path for an incoming upload.</summary>
    public string NewIncomingPath(string jobId, long leaseId) =>
        System.IO.Path.Combine(IncomingDir, $"{Checked(jobId)}-{leaseId}-{Guid.NewGuid():N}.part");

    /// <summary>Where a bundle lives: <c>MODEL_MODE/SHA256/bundle.tar.zst</c> under the store. Every part is checked first (a model
    /// of the catalogue, a known mode, 64 hex digits), so no value can lead outside the store, whatever wrote it.</summary>
    public string BundlePath(string model, string mode, string sha256)
    {
        if (!Cis490.Shared.Models.ModelCatalog.TryGet(model, out _))
            throw new ArgumentException($"artifact store: '{Printable(model)}' is not a model of the catalogue; no path is made from it");
        if (!Cis490.Shared.Models.ModelCatalog.Modes.Contains(mode))
            throw new ArgumentException($"artifact store: '{Printable(mode)}' is not a mode ({string.Join(", ", Cis490.Shared.Models.ModelCatalog.Modes)}); no path is made from it");
        if (sha256.Length != 64 || !sha256.All(Uri.IsHexDigit))
            throw new ArgumentException($"artifact store: '{Printable(sha256)}' is not a sha256; no path is made from it");
        return System.IO.Path.Combine(Root, $"{model}_{mode}", sha256, ArtifactBundle.FileName);
    }

    private static string Checked(string jobId) => Shared.Jobs.JobIds.IsWellFormed(jobId)
        ? jobId
        : throw new ArgumentException($"artifact store: '{Printable(jobId)}' is not a job id; no path is made from it");

    private static string Printable(string s) =>
        new(s.Take(80).Select(c => char.IsControl(c) ? '?' : c).ToArray());

    /// <summary>Moves a verified upload into place and makes sure the artifact has its row. Returns false (and deletes the
    /// upload) when the same bytes were already stored; the row is written then too if it is missing (a crash after the
    /// rename, before the append), so every stored bundle ends with exactly one row.</summary>
    /// <param name="afterRename">Runs between the rename and the append (the fault-injection point of the crash test).</param>
    public bool Commit(string incomingPath, string sha256, string model, string mode, string jobId, long leaseId, long bytes, DateTimeOffset now,
        Action? afterRename = null, string? dataSet = null)
    {
        var final = BundlePath(model, mode, sha256);
        var isNew = true;
        if (File.Exists(final) && ArtifactBundle.HashFile(final) == sha256)
        {
            File.Delete(incomingPath);
            isNew = false;
        }
        else
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(final)!);
            File.Move(incomingPath, final, overwrite: true); // same file system: atomic rename
            afterRename?.Invoke();
        }
        if (!_indexed.Contains(sha256))
            AppendRow(new ArtifactIndexRow(sha256, model, mode, jobId, leaseId, bytes, System.IO.Path.GetRelativePath(Root, final), now, dataSet));
        return isNew;
    }

    /// <summary>The index's rows, one per artifact (the first row of a sha256 wins). A line that is not a whole, valid row is
    /// skipped and reported once with its line number.</summary>
    public IReadOnlyList<ArtifactIndexRow> ReadIndex()
    {
        if (!File.Exists(IndexPath)) return [];
        var rows = new List<ArtifactIndexRow>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var number = 0;
        foreach (var line in File.ReadLines(IndexPath))
        {
            number++;
            if (line.Length == 0) continue;
            var row = Parse(line, out var problem);
            if (row is null)
            {
                if (_reported.Add((number, line)))
                    _warn($"{IndexPath}:{number}: skipped a line that is not an index row ({problem}): " +
                          $"{(line.Length > 120 ? line[..120] + "…" : line)}. The other rows are read; fix or delete the line " +
                          "(a missing row is written again from its bundle when the coordinator starts).");
                continue;
            }
            if (seen.Add(row.Sha256)) rows.Add(row);
        }
        return rows;
    }

    /// <summary>Writes a row for every stored bundle that has none (a crash between its rename and its row), reading the job
    /// and lease from the <c>ckpt.json</c> inside it. Returns the rows it wrote. A bundle whose bytes do not match its folder's
    /// sha256 is reported and left without a row.</summary>
    public IReadOnlyList<ArtifactIndexRow> RepairIndex()
    {
        var written = new List<ArtifactIndexRow>();
        foreach (var modelDir in Directory.EnumerateDirectories(Root))
        {
            var folder = System.IO.Path.GetFileName(modelDir);
            var cut = folder.LastIndexOf('_'); // models may have '_' in their name (knn_semi); modes do not
            if (folder.StartsWith('.') || cut <= 0 || cut == folder.Length - 1) continue;
            foreach (var shaDir in Directory.EnumerateDirectories(modelDir))
            {
                var sha = System.IO.Path.GetFileName(shaDir);
                var bundle = System.IO.Path.Combine(shaDir, ArtifactBundle.FileName);
                if (!IsSha256(sha) || _indexed.Contains(sha) || !File.Exists(bundle)) continue;
                var row = RowFromBundle(bundle, sha, folder[..cut], folder[(cut + 1)..]);
                if (row is null) continue;
                AppendRow(row);
                written.Add(row);
            }
        }
        return written;
    }

    private ArtifactIndexRow? RowFromBundle(string bundle, string sha, string model, string mode)
    {
        try
        {
            var actual = ArtifactBundle.HashFile(bundle);
            if (actual != sha)
            {
                _warn($"{bundle}: its bytes hash to {actual}, not to its folder's name; left out of the index (move it away or delete it)");
                return null;
            }
            string jobId = "";
            long leaseId = 0;
            string? dataSet = null;
            if (ArtifactBundle.ReadEntry(bundle, "ckpt.json", MaxCheckpointBytes) is { } ckpt)
            {
                using var doc = JsonDocument.Parse(ckpt);
                if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("lineage", out var lineage)
                                                                      && lineage.ValueKind == JsonValueKind.Object)
                {
                    if (lineage.TryGetProperty("job_id", out var j) && j.ValueKind == JsonValueKind.String) jobId = j.GetString()!;
                    if (lineage.TryGetProperty("lease_id", out var l) && l.ValueKind == JsonValueKind.Number) leaseId = l.GetInt64();
                    if (lineage.TryGetProperty("data_set", out var d) && d.ValueKind == JsonValueKind.String) dataSet = d.GetString();
                }
            }
            if (jobId.Length == 0) _warn($"{bundle}: no job id in its ckpt.json; indexed without one");
            var info = new FileInfo(bundle);
            return new ArtifactIndexRow(sha, model, mode, jobId, leaseId, info.Length, System.IO.Path.GetRelativePath(Root, bundle),
                new DateTimeOffset(info.LastWriteTimeUtc, TimeSpan.Zero), dataSet);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or JsonException or UnauthorizedAccessException or FormatException)
        {
            _warn($"{bundle}: cannot be read to index it ({e.Message}); left out of the index");
            return null;
        }
    }

    private static ArtifactIndexRow? Parse(string line, out string problem)
    {
        ArtifactIndexRow? row;
        try
        {
            row = JsonSerializer.Deserialize<ArtifactIndexRow>(line, RowJson);
        }
        catch (JsonException e)
        {
            problem = e.Message;
            return null;
        }
        problem = row switch
        {
            null => "null",
            { Sha256: var s } when !IsSha256(s) => $"sha256 '{s}' is not 64 lowercase hex digits",
            { Model.Length: 0 } or { Mode.Length: 0 } => "model or mode is empty",
            { Path.Length: 0 } => "path is empty",
            { Bytes: < 0 } => "bytes is negative",
            _ => "",
        };
        return problem.Length == 0 ? row : null;
    }

    private static bool IsSha256(string s) => s.Length == 64 && s.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f');

    private void AppendRow(ArtifactIndexRow row)
    {
        var line = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(row, RowJson) + "\n");
        using (var f = new FileStream(IndexPath, FileMode.Append, FileAccess.Write, FileShare.Read, 1, FileOptions.None))
        {
            EndWithNewline(f);
            f.Write(line); // one write of the whole row (O_APPEND): rows never interleave
            f.Flush(flushToDisk: true);
        }
        _indexed.Add(row.Sha256);
    }

    /// <summary>A hand-edited index may lack its last newline: a row appended to it would be glued to that line.</summary>
    private void EndWithNewline(FileStream append)
    {
        if (append.Length == 0) return;
        using var read = new FileStream(IndexPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        read.Seek(-1, SeekOrigin.End);
        if (read.ReadByte() != '\n') append.Write("\n"u8);
    }

    private void RepairIndexTail()
    {
        if (!File.Exists(IndexPath)) return;
        using var f = new FileStream(IndexPath, FileMode.Open, FileAccess.ReadWrite);
        if (f.Length == 0) return;
        f.Seek(-1, SeekOrigin.End);
        if (f.ReadByte() == '\n') return;
        // Find the last complete line and cut what follows it (the row is written again from its bundle by RepairIndex).
        var pos = f.Length - 1;
        var buf = new byte[1];
        while (pos > 0)
        {
            f.Seek(pos - 1, SeekOrigin.Begin);
            f.ReadExactly(buf);
            if (buf[0] == '\n') break;
            pos--;
        }
        _warn($"{IndexPath}: cut a last line torn by a crash ({f.Length - pos} bytes)");
        f.SetLength(pos);
    }
}
