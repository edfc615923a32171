using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Cis490.Training.Data;

/// <summary>The feature schema of a data set: the columns each threat-model mode may use, and the hash checkpoints carry.</summary>
public sealed record FeatureSchema(string Version, IReadOnlyDictionary<string, IReadOnlyList<string>> ModeColumns)
{
    public const string FileName = "feature_schema.json";

    public IReadOnlyList<string> ColumnsFor(string mode) =>
        ModeColumns.TryGetValue(mode, out var cols) ? cols : throw new ArgumentException($"the feature schema has no mode '{mode}' (has: {string.Join(", ", ModeColumns.Keys)})");

    /// <summary>sha256 of the version and the ordered columns of one mode: a model trained on other columns cannot be fed these.</summary>
    public string Sha256For(string mode)
    {
        var text = Version + "\n" + mode + "\n" + string.Join("\n", ColumnsFor(mode));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }

    public void Save(string dir) =>
        File.WriteAllText(Path.Combine(dir, FileName), JsonSerializer.Serialize(this, Json.Options));

    public static FeatureSchema Load(string dir)
    {
        var path = Path.Combine(dir, FileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"no {FileName} in {dir}: is this the output of a data build?", path);
        return JsonSerializer.Deserialize<FeatureSchema>(File.ReadAllText(path), Json.Options)
               ?? throw new InvalidDataException($"{path} is empty");
    }
}

/// <summary>A table of feature rows: identifiers, host, label and float features (row-major), as the trainers read it.</summary>
/// <remarks>The skeleton's seam: issue 3's episode pipeline writes Parquet behind the same shape.</remarks>
public sealed class FeatureTable
{
    public const string FileName = "features.csv";

    public required string[] RowIds { get; init; }
    public required string[] Hosts { get; init; }
    public required int[] Labels { get; init; }
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

    public void Save(string dir)
    {
        Directory.CreateDirectory(dir);
        using var w = new StreamWriter(Path.Combine(dir, FileName), false, new UTF8Encoding(false));
        w.NewLine = "\n";
        w.WriteLine("row_id,host,label," + string.Join(',', Columns));
        var sb = new StringBuilder();
        for (var i = 0; i < Rows; i++)
        {
            sb.Clear().Append(RowIds[i]).Append(',').Append(Hosts[i]).Append(',').Append(Data.Labels.Classes[Labels[i]]);
            for (var j = 0; j < Dims; j++) sb.Append(',').Append(Values[i * Dims + j].ToString("R", CultureInfo.InvariantCulture));
            w.WriteLine(sb);
        }
    }

    public static FeatureTable Load(string dir)
    {
        var path = Path.Combine(dir, FileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"no {FileName} in {dir}: generate one with './cis490 data synth --out {dir}'", path);
        using var r = new StreamReader(path);
        var header = r.ReadLine()?.Split(',') ?? throw new InvalidDataException($"{path} is empty");
        if (header.Length < 4 || header[0] != "row_id" || header[1] != "host" || header[2] != "label")
            throw new InvalidDataException($"{path}:1: header must start with row_id,host,label");
        var columns = header[3..];
        List<string> ids = [], hosts = [];
        List<int> labels = [];
        var values = new List<float>();
        var lineNo = 1;
        while (r.ReadLine() is { } line)
        {
            lineNo++;
            if (line.Length == 0) continue;
            var parts = line.Split(',');
            if (parts.Length != header.Length)
                throw new InvalidDataException($"{path}:{lineNo}: {parts.Length} fields, header has {header.Length}");
            ids.Add(parts[0]);
            hosts.Add(parts[1]);
            try { labels.Add(Data.Labels.IndexOf(parts[2])); }
            catch (InvalidDataException e) { throw new InvalidDataException($"{path}:{lineNo}: {e.Message}"); }
            for (var j = 3; j < parts.Length; j++)
            {
                if (!float.TryParse(parts[j], NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
                    throw new InvalidDataException($"{path}:{lineNo}: column {header[j]} is not a number: '{parts[j]}'");
                values.Add(v);
            }
        }
        return new FeatureTable { RowIds = [.. ids], Hosts = [.. hosts], Labels = [.. labels], Columns = columns, Values = [.. values] };
    }

    /// <summary>sha256 of the table file: the data-set hash in checkpoint lineage.</summary>
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
