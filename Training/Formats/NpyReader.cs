using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

namespace Cis490.Training.Formats;

/// <summary>Reads a whole .npy array (versions 1.0–3.0, C order, our three dtypes) and converts its bytes to typed arrays.</summary>
public static partial class NpyReader
{
    public static (NpyDType DType, int[] Shape, byte[] Data) Read(string path)
    {
        using var stream = File.OpenRead(path);
        return Read(stream);
    }

    /// <summary>Reads one array from the current position; the stream need not be seekable (a zip entry is not).</summary>
    public static (NpyDType DType, int[] Shape, byte[] Data) Read(Stream stream)
    {
        var (dtype, dims, _) = ReadHeader(stream);
        var elements = dims.Aggregate(1L, (a, d) => checked(a * d)); // shape () is a scalar: one element
        var byteCount = checked(elements * NpyFormat.ItemSize(dtype));
        if (byteCount > Array.MaxLength) throw new InvalidDataException($".npy array of {byteCount} bytes is too large to read whole");
        var data = new byte[byteCount];
        ReadExactly(stream, data, "data");
        return (dtype, dims, data);
    }

    /// <summary>Reads an array's preamble and header and stops where its data begins: <paramref name="stream"/> is then
    /// <c>HeaderLength</c> bytes further on (a reader that reads rows in place, as <see cref="NpzIndex"/>'s callers do, needs
    /// no more).</summary>
    public static (NpyDType DType, int[] Shape, int HeaderLength) ReadHeader(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Span<byte> preamble = stackalloc byte[8];
        ReadExactly(stream, preamble, "preamble");
        if (!preamble[..6].SequenceEqual(NpyFormat.Magic)) throw new InvalidDataException("not an .npy stream (bad magic)");
        var major = preamble[6];
        if (major is < 1 or > 3) throw new InvalidDataException($"unsupported .npy version {major}.{preamble[7]}");

        // Version 1.0 has a u16 header length, 2.0 and 3.0 a u32; 3.0 allows UTF-8 in the header.
        Span<byte> lengthBytes = stackalloc byte[major == 1 ? 2 : 4];
        ReadExactly(stream, lengthBytes, "header length");
        var headerLength = major == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(lengthBytes) : BinaryPrimitives.ReadUInt32LittleEndian(lengthBytes);
        if (headerLength > 1 << 20) throw new InvalidDataException($".npy header of {headerLength} bytes is implausible");
        var headerBytes = new byte[headerLength];
        ReadExactly(stream, headerBytes, "header");
        var header = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(headerBytes);

        var descr = DescrPattern().Match(header);
        var fortran = FortranPattern().Match(header);
        var shape = ShapePattern().Match(header);
        if (!descr.Success || !fortran.Success || !shape.Success) throw new InvalidDataException($"unreadable .npy header: {header.Trim()}");
        var dtype = NpyFormat.FromDescr(descr.Groups[1].Value)
            ?? throw new InvalidDataException($"unsupported .npy dtype '{descr.Groups[1].Value}' (we read <f4, |u1, <i8)");
        if (fortran.Groups[1].Value == "True") throw new InvalidDataException("Fortran-order .npy arrays are not supported");
        var dims = shape.Groups[1].Value
            .Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(d => int.Parse(d.TrimEnd('L'), NumberStyles.None, CultureInfo.InvariantCulture))
            .ToArray();
        return (dtype, dims, preamble.Length + lengthBytes.Length + (int)headerLength);
    }

    public static float[] ToSingles((NpyDType DType, int[] Shape, byte[] Data) array) =>
        Cast<float>(array, NpyDType.Float32);

    public static long[] ToInt64s((NpyDType DType, int[] Shape, byte[] Data) array) =>
        Cast<long>(array, NpyDType.Int64);

    public static byte[] ToBytes((NpyDType DType, int[] Shape, byte[] Data) array) =>
        array.DType == NpyDType.UInt8 ? array.Data : throw new InvalidDataException($"array is {array.DType}, not UInt8");

    private static T[] Cast<T>((NpyDType DType, int[] Shape, byte[] Data) array, NpyDType expected) where T : struct
    {
        if (array.DType != expected) throw new InvalidDataException($"array is {array.DType}, not {expected}");
        // The data is little-endian; so is every machine we run on (the writer refuses others).
        return MemoryMarshal.Cast<byte, T>(array.Data).ToArray();
    }

    private static void ReadExactly(Stream stream, Span<byte> buffer, string what)
    {
        try
        {
            stream.ReadExactly(buffer);
        }
        catch (EndOfStreamException)
        {
            throw new InvalidDataException($".npy stream ends inside its {what}");
        }
    }

    [GeneratedRegex(@"'descr'\s*:\s*'([^']*)'")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")]
    private static partial Regex FortranPattern();

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}
