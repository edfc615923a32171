using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Cis490.Training.Formats;

/// <summary>Streams rows of one array to a .npy file of shape (rows, innerShape...), writing the row count on dispose.</summary>
public sealed class NpyArrayWriter : IDisposable
{
    private readonly FileStream _stream;
    private readonly int[] _innerShape;
    private readonly int _rowLength;
    private readonly int _headerLength;
    private bool _disposed;

    public NpyArrayWriter(string path, NpyDType dtype, params int[] innerShape)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(innerShape);
        // Rows are written as the machine's bytes; NPY's '<' descriptors promise little-endian.
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("NpyArrayWriter writes little-endian data only");
        foreach (var d in innerShape) ArgumentOutOfRangeException.ThrowIfNegative(d, nameof(innerShape));
        DType = dtype;
        _innerShape = [.. innerShape];
        _rowLength = innerShape.Aggregate(1, (a, d) => checked(a * d));
        _headerLength = NpyFormat.ReservedLength(dtype, _innerShape);
        _stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1 << 16);
        // A 0-row header now, the real count on dispose: a file cut short by a crash still opens, as an empty array.
        _stream.Write(NpyFormat.Header(dtype, 0, _innerShape, _headerLength));
    }

    public NpyDType DType { get; }

    public IReadOnlyList<int> InnerShape => _innerShape;

    public long Rows { get; private set; }

    public void Append(ReadOnlySpan<float> row)
    {
        Check(NpyDType.Float32, row.Length, nameof(row));
        _stream.Write(MemoryMarshal.AsBytes(row));
        Rows++;
    }

    public void Append(ReadOnlySpan<byte> row)
    {
        Check(NpyDType.UInt8, row.Length, nameof(row));
        _stream.Write(row);
        Rows++;
    }

    /// <summary>One int64 row: the inner shape must hold exactly one element (usually it is empty: shape (rows,)).</summary>
    public void Append(long value)
    {
        Check(NpyDType.Int64, 1, nameof(value));
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
        _stream.Write(bytes);
        Rows++;
    }

    /// <summary>Rewrites the header with the final row count and closes the file.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        try
        {
            _stream.Flush();
            _stream.Seek(0, SeekOrigin.Begin);
            _stream.Write(NpyFormat.Header(DType, Rows, _innerShape, _headerLength));
        }
        finally
        {
            _stream.Dispose();
        }
    }

    private void Check(NpyDType dtype, int length, string paramName)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (dtype != DType) throw new InvalidOperationException($"this array holds {DType}, not {dtype}");
        if (length != _rowLength)
            throw new ArgumentException(
                $"a row of shape ({string.Join(", ", _innerShape)}) has {_rowLength} elements, got {length}", paramName);
    }
}
