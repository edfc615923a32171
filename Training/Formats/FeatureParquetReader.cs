using Cis490.Training.Features;
using Parquet;
using Parquet.Schema;
using static Cis490.Training.Formats.FeatureParquetColumns;

namespace Cis490.Training.Formats;

/// <summary>Reads a feature table written by <see cref="FeatureParquetWriter"/>, one row group in memory at a time.</summary>
public static class FeatureParquetReader
{
    /// <summary>The float32 feature columns after <c>degraded</c>, in file order.</summary>
    public static IReadOnlyList<string> FeatureColumns(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var schema = SyncOverAsync.Run(() => ParquetReader.ReadSchemaAsync(path));
        return FeatureNames(schema, path);
    }

    public static long CountRows(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return SyncOverAsync.Run(async () =>
        {
            await using var reader = await ParquetReader.CreateAsync(path);
            FeatureNames(reader.Schema, path);
            return reader.RowGroups.Sum(g => g.RowCount);
        });
    }

    /// <summary>Every row in file order; the file stays open until the enumeration ends or is disposed.</summary>
    public static IEnumerable<WindowRow> Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path); // thrown at the call, not at the first MoveNext
        return ReadRows(path);
    }

    private static IEnumerable<WindowRow> ReadRows(string path)
    {
        var reader = SyncOverAsync.Run(() => ParquetReader.CreateAsync(path));
        try
        {
            var featureCount = FeatureNames(reader.Schema, path).Count;
            var fields = reader.Schema.DataFields;
            for (var g = 0; g < reader.RowGroupCount; g++)
            {
                var group = reader.OpenRowGroupReader(g);
                var columns = SyncOverAsync.Run(() => RowGroupColumns.ReadAsync(group, fields, featureCount));
                for (var i = 0; i < columns.Count; i++) yield return columns.Row(i);
            }
        }
        finally
        {
            SyncOverAsync.Run(() => reader.DisposeAsync().AsTask());
        }
    }

    /// <summary>One row group's columns, read whole and handed out row by row.</summary>
    private sealed class RowGroupColumns
    {
        private readonly string[][] _strings = new string[FixedCount][]; // indexed by fixed column; non-string slots stay unused
        private long[] _tStart = [], _tEnd = [];
        private bool[] _degraded = [];
        private float[][] _features = [];

        public int Count { get; private init; }

        public static async Task<RowGroupColumns> ReadAsync(ParquetRowGroupReader group, DataField[] fields, int featureCount)
        {
            var n = checked((int)group.RowCount);
            var columns = new RowGroupColumns { Count = n };
            foreach (var c in (int[])[WindowId, EpisodeId, Host, Profile, Sample, Label])
            {
                columns._strings[c] = new string[n];
                // The API reads string? for any column; ours are required (FeatureNames checked), so none is null.
                await group.ReadAsync(fields[c], ((string?[])columns._strings[c]).AsMemory());
            }
            columns._tStart = await ReadValues<long>(group, fields[TStart], n);
            columns._tEnd = await ReadValues<long>(group, fields[TEnd], n);
            columns._degraded = await ReadValues<bool>(group, fields[Degraded], n);
            columns._features = new float[featureCount][];
            for (var f = 0; f < featureCount; f++)
                columns._features[f] = await ReadValues<float>(group, fields[FixedCount + f], n);
            return columns;
        }

        public WindowRow Row(int i)
        {
            var features = new float[_features.Length];
            for (var f = 0; f < features.Length; f++) features[f] = _features[f][i];
            return new WindowRow(_strings[WindowId][i], _strings[EpisodeId][i], _strings[Host][i], _strings[Profile][i],
                _strings[Sample][i], _tStart[i], _tEnd[i], _strings[Label][i], _degraded[i], features);
        }

        private static async Task<T[]> ReadValues<T>(ParquetRowGroupReader group, DataField field, int n) where T : struct
        {
            var values = new T[n];
            await group.ReadAsync<T>(field, values.AsMemory());
            return values;
        }
    }
}
