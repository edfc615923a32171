using Cis490.Training.Features;
using Parquet;
using Parquet.Schema;
using static Cis490.Training.Formats.FeatureParquetColumns;

namespace Cis490.Training.Formats;

/// <summary>Streams <see cref="WindowRow"/>s into a plain Parquet feature table, one row group per <c>rowGroupSize</c> rows.</summary>
public sealed class FeatureParquetWriter : IDisposable
{
    // The six string columns in buffer order; TStart, TEnd and Degraded have their own typed buffers.
    private static readonly int[] StringColumns = [WindowId, EpisodeId, Host, Profile, Sample, Label];

    private readonly int _rowGroupSize;
    private readonly DataField[] _fields;
    private readonly FileStream _stream;
    private readonly ParquetWriter _writer;

    // Column-major buffers for one row group: memory is rowGroupSize × columns, however many rows the file gets.
    private readonly string[][] _strings;
    private readonly long[] _tStart, _tEnd;
    private readonly bool[] _degraded;
    private readonly float[][] _features;
    private int _buffered;
    private bool _disposed;

    public FeatureParquetWriter(string path, IReadOnlyList<string> featureColumns, int rowGroupSize = 10_000)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(featureColumns);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rowGroupSize);
        var schema = Schema(featureColumns);
        _fields = schema.DataFields;
        _rowGroupSize = rowGroupSize;
        _strings = StringColumns.Select(_ => new string[rowGroupSize]).ToArray();
        _tStart = new long[rowGroupSize];
        _tEnd = new long[rowGroupSize];
        _degraded = new bool[rowGroupSize];
        _features = featureColumns.Select(_ => new float[rowGroupSize]).ToArray();

        _stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1 << 16);
        try
        {
            // Snappy is Parquet.Net's default too; named here because every Parquet reader decodes it.
            var options = new ParquetOptions { CompressionMethod = CompressionMethod.Snappy };
            _writer = SyncOverAsync.Run(() => ParquetWriter.CreateAsync(schema, _stream, options));
        }
        catch
        {
            _stream.Dispose();
            throw;
        }
    }

    /// <summary>Rows added so far (written or still buffered).</summary>
    public long Rows { get; private set; }

    public void Add(WindowRow row)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(row);
        if (row.Features is null || row.Features.Length != _features.Length)
            throw new ArgumentException(
                $"window {row.WindowId}: {row.Features?.Length ?? 0} features, the table has {_features.Length} feature columns", nameof(row));
        string[] strings = [row.WindowId, row.EpisodeId, row.Host, row.Profile, row.Sample, row.Label];
        for (var s = 0; s < strings.Length; s++)
            if (strings[s] is null)
                throw new ArgumentException($"window {row.WindowId}: {_fields[StringColumns[s]].Name} is null", nameof(row));

        var i = _buffered;
        for (var s = 0; s < strings.Length; s++) _strings[s][i] = strings[s];
        _tStart[i] = row.TStartNs;
        _tEnd[i] = row.TEndNs;
        _degraded[i] = row.Degraded;
        // Copied, not referenced: the caller may reuse its feature array for the next window.
        for (var f = 0; f < _features.Length; f++) _features[f][i] = row.Features[f];
        _buffered++;
        Rows++;
        if (_buffered == _rowGroupSize) WriteRowGroup();
    }

    /// <summary>Writes the last, partial row group and the footer, and closes the file.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        try
        {
            WriteRowGroup();
        }
        finally
        {
            try
            {
                SyncOverAsync.Run(() => _writer.DisposeAsync().AsTask());
            }
            finally
            {
                _stream.Dispose();
            }
        }
    }

    private void WriteRowGroup()
    {
        if (_buffered == 0) return; // a file with no rows has a schema and no row groups
        var n = _buffered;
        SyncOverAsync.Run(async () =>
        {
            using var group = _writer.CreateRowGroup();
            // Columns must be written in schema order: five strings, the two times, label, degraded, the features.
            for (var s = 0; s < 5; s++)
                await group.WriteAsync(_fields[StringColumns[s]], new ArraySegment<string>(_strings[s], 0, n));
            await group.WriteAsync<long>(_fields[TStart], _tStart.AsMemory(0, n));
            await group.WriteAsync<long>(_fields[TEnd], _tEnd.AsMemory(0, n));
            await group.WriteAsync(_fields[Label], new ArraySegment<string>(_strings[5], 0, n));
            await group.WriteAsync<bool>(_fields[Degraded], _degraded.AsMemory(0, n));
            for (var f = 0; f < _features.Length; f++)
                await group.WriteAsync<float>(_fields[FixedCount + f], _features[f].AsMemory(0, n));
            group.CompleteValidate();
        });
        _buffered = 0;
    }
}
