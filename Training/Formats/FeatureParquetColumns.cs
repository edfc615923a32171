using Parquet.Schema;
using PhysicalType = Parquet.Meta.Type;

namespace Cis490.Training.Formats;

/// <summary>The feature table's Parquet schema: nine fixed identity columns, then one float32 column per feature.</summary>
internal static class FeatureParquetColumns
{
    public const int FixedCount = 9;

    // Index into the fixed columns; the writer and the reader both lay buffers out in this order.
    public const int WindowId = 0, EpisodeId = 1, Host = 2, Profile = 3, Sample = 4, TStart = 5, TEnd = 6, Label = 7, Degraded = 8;

    private static readonly (string Name, PhysicalType Type)[] Fixed =
    [
        ("window_id", PhysicalType.BYTE_ARRAY), ("episode_id", PhysicalType.BYTE_ARRAY), ("host", PhysicalType.BYTE_ARRAY),
        ("profile", PhysicalType.BYTE_ARRAY), ("sample", PhysicalType.BYTE_ARRAY), ("t_start_ns", PhysicalType.INT64),
        ("t_end_ns", PhysicalType.INT64), ("label", PhysicalType.BYTE_ARRAY), ("degraded", PhysicalType.BOOLEAN),
    ];

    /// <summary>Every column required (no nulls: NaN, not null, marks a missing feature); names stay single path parts,
    /// so "proc.cpu.mean" is one flat column even though Parquet.Net's own path separator is '.'.</summary>
    public static ParquetSchema Schema(IReadOnlyList<string> featureColumns)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var fields = new List<Field>(FixedCount + featureColumns.Count);
        foreach (var (name, type) in Fixed)
        {
            seen.Add(name);
            fields.Add(type switch
            {
                PhysicalType.BYTE_ARRAY => new DataField<string>(name, nullable: false),
                PhysicalType.INT64 => new DataField<long>(name, nullable: false),
                _ => new DataField<bool>(name, nullable: false),
            });
        }
        foreach (var name in featureColumns)
        {
            if (string.IsNullOrEmpty(name)) throw new ArgumentException("a feature column name is empty", nameof(featureColumns));
            if (!seen.Add(name)) throw new ArgumentException($"feature column '{name}' appears twice or clashes with a fixed column", nameof(featureColumns));
            fields.Add(new DataField<float>(name, nullable: false));
        }
        return new ParquetSchema(fields);
    }

    /// <summary>Checks that <paramref name="schema"/> is a feature table's and returns its feature column names.</summary>
    public static IReadOnlyList<string> FeatureNames(ParquetSchema schema, string path)
    {
        if (schema.Fields.Any(f => f is not DataField))
            throw new InvalidDataException($"{path}: nested columns; a feature table is flat");
        var fields = schema.DataFields;
        if (fields.Length < FixedCount)
            throw new InvalidDataException($"{path}: {fields.Length} columns, a feature table has at least {FixedCount}");
        for (var i = 0; i < FixedCount; i++)
        {
            var (name, type) = Fixed[i];
            var field = fields[i];
            var isString = type != PhysicalType.BYTE_ARRAY
                || field.SchemaElement?.ConvertedType == Parquet.Meta.ConvertedType.UTF8
                || field.SchemaElement?.LogicalType?.STRING != null;
            if (field.Name != name || field.SchemaElement?.Type != type || !isString || field.IsNullable || field.IsArray)
                throw new InvalidDataException($"{path}: column {i} is '{field.Name}' ({Describe(field)}), expected required '{name}' ({type})");
        }
        var names = new string[fields.Length - FixedCount];
        for (var i = FixedCount; i < fields.Length; i++)
        {
            var field = fields[i];
            if (field.SchemaElement?.Type != PhysicalType.FLOAT || field.IsNullable || field.IsArray)
                throw new InvalidDataException($"{path}: feature column '{field.Name}' is {Describe(field)}, expected required FLOAT");
            names[i - FixedCount] = field.Name;
        }
        return names;
    }

    private static string Describe(DataField field) =>
        $"{field.SchemaElement?.Type}{(field.IsNullable ? ", nullable" : "")}{(field.IsArray ? ", repeated" : "")}";
}
