using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Cis490.Training.Formats;

/// <summary>Element types of our .npy arrays: float32 ('&lt;f4'), uint8 ('|u1'), int64 ('&lt;i8').</summary>
public enum NpyDType
{
    Float32,
    UInt8,
    Int64,
}

/// <summary>The NPY 1.0 header: magic, version, little-endian u16 length, then a Python dict literal padded to 64 bytes.</summary>
internal static class NpyFormat
{
    public static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    public const int PreambleLength = 10; // magic, two version bytes, u16 header length

    public static string Descr(NpyDType dtype) => dtype switch
    {
        NpyDType.Float32 => "<f4",
        NpyDType.UInt8 => "|u1",
        NpyDType.Int64 => "<i8",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, null),
    };

    public static int ItemSize(NpyDType dtype) => dtype switch
    {
        NpyDType.Float32 => 4,
        NpyDType.UInt8 => 1,
        NpyDType.Int64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, null),
    };

    public static NpyDType? FromDescr(string descr) => descr switch
    {
        "<f4" => NpyDType.Float32,
        "|u1" or "<u1" or ">u1" or "u1" => NpyDType.UInt8, // one byte has no byte order; NumPy writes '|'
        "<i8" => NpyDType.Int64,
        _ => null,
    };

    /// <summary>The header length to reserve so that any row count fits when the real one is written at the end.</summary>
    public static int ReservedLength(NpyDType dtype, IReadOnlyList<int> innerShape)
    {
        var widest = Dict(dtype, ulong.MaxValue.ToString(CultureInfo.InvariantCulture), innerShape);
        var length = (PreambleLength + widest.Length + 1 + 63) / 64 * 64; // +1 for the closing '\n'
        if (length - PreambleLength > ushort.MaxValue) throw new ArgumentException("shape too long for an NPY 1.0 header", nameof(innerShape));
        return length;
    }

    /// <summary>The whole header (preamble included), space-padded to exactly <paramref name="totalLength"/> bytes.</summary>
    public static byte[] Header(NpyDType dtype, long rows, IReadOnlyList<int> innerShape, int totalLength)
    {
        var dict = Dict(dtype, rows.ToString(CultureInfo.InvariantCulture), innerShape);
        var header = new byte[totalLength];
        Magic.CopyTo(header);
        header[6] = 1; // version 1.0
        header[7] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(8), checked((ushort)(totalLength - PreambleLength)));
        var end = PreambleLength + Encoding.ASCII.GetBytes(dict, header.AsSpan(PreambleLength));
        header.AsSpan(end, totalLength - 1 - end).Fill((byte)' ');
        header[^1] = (byte)'\n';
        return header;
    }

    private static string Dict(NpyDType dtype, string rows, IReadOnlyList<int> innerShape)
    {
        // A one-element Python tuple needs its trailing comma: (5,)
        var shape = innerShape.Count == 0
            ? $"({rows},)"
            : $"({rows}, {string.Join(", ", innerShape.Select(d => d.ToString(CultureInfo.InvariantCulture)))})";
        return $"{{'descr': '{Descr(dtype)}', 'fortran_order': False, 'shape': {shape}, }}";
    }
}
