using System.Security.Cryptography;
using System.Text.Json;
using Cis490.Training.Features;
using Cis490.Training.Formats;

namespace Cis490.Training.Data;

/// <summary>The window feature table as the trainers read it: per-window identity and provenance, label, and float features
/// (row-major, NaN where missing), loaded from <c>features_window_v1.parquet</c>.</summary>
public sealed class FeatureTable
{
    public const string FileName = "features_window_v1.parquet";

    public required string[] RowIds { get; init; }
    public required string[] EpisodeIds { get; init; }
    public required string[] Hosts { get; init; }
    public required string[] Profiles { get; init; }
    public required string[] Samples { get; init; }
    public required long[] StartNs { get; init; }
    public required int[] Labels { get; init; }
    public required bool[] Degraded { get; init; }
    public required string[] Columns { get; init; }
    /// <summary>Row-major values, <see cref="Rows"/> × <see cref="Columns"/>.Length; NaN where a value is missing.</summary>
    public required float[] Values { get; init; }

    public int Rows => RowIds.Length;
    public int Dims => Columns.Length;

    /// <summary>The sub-table of the given rows and columns (columns by name, in the order given).</summary>
    public (float[] X, int[] Y) Select(IReadOnlyList<int> rows, IReadOnlyList<string> columns)
    {
        var index = columns.Select(c => Array.IndexOf(Columns, c)).ToArray();
        for (var j = 0; j < index.Length; j++)
            if (index[j] < 0) throw new InvalidDataException($"column '{columns[j]}' is not in the feature table");
        var x = new float[rows.Count * index.Length];
        var y = new int[rows.Count];
        for (var i = 0; i < rows.Count; i++)
        {
            var src = rows[i] * Dims;
            for (var j = 0; j < index.Length; j++) x[i * index.Length + j] = Values[src + index[j]];
            y[i] = Labels[rows[i]];
        }
        return (x, y);
    }

    /// <summary>Builds a table from window rows (in memory: for trainers and tests, not for the streaming build).</summary>
    public static FeatureTable FromRows(IReadOnlyList<string> columns, IEnumerable<WindowRow> rows)
    {
        List<string> ids = [], episodes = [], hosts = [], profiles = [], samples = [];
        List<long> starts = [];
        List<int> labels = [];
        List<bool> degraded = [];
        var values = new List<float>();
        foreach (var r in rows)
        {
            ids.Add(r.WindowId); episodes.Add(r.EpisodeId); hosts.Add(r.Host); profiles.Add(r.Profile); samples.Add(r.Sample);
            starts.Add(r.TStartNs); labels.Add(Data.Labels.IndexOf(r.Label)); degraded.Add(r.Degraded);
            if (r.Features.Length != columns.Count) throw new InvalidDataException($"window {r.WindowId} has {r.Features.Length} features, expected {columns.Count}");
            values.AddRange(r.Features);
        }
        return new FeatureTable
        {
            RowIds = [.. ids], EpisodeIds = [.. episodes], Hosts = [.. hosts], Profiles = [.. profiles], Samples = [.. samples],
            StartNs = [.. starts], Labels = [.. labels], Degraded = [.. degraded], Columns = [.. columns], Values = [.. values],
        };
    }

    public static FeatureTable Load(string dir)
    {
        var path = Path.Combine(dir, FileName);
        if (!File.Exists(path))
            throw new FileNotFoundException($"no {FileName} in {dir}: build one with './cis490 data build --episodes EPISODES --out {dir}'", path);
        return FromRows(FeatureParquetReader.FeatureColumns(path), FeatureParquetReader.Read(path));
    }

    /// <summary>sha256 of the feature file: the data-set hash in checkpoint lineage.</summary>
    public static string DatasetSha256(string dir)
    {
        using var s = File.OpenRead(Path.Combine(dir, FileName));
        return Convert.ToHexStringLower(SHA256.HashData(s));
    }
}

/// <summary>JSON options for Training's files (snake_case, NaN allowed, indented for people).</summary>
public static class Json
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };
}
