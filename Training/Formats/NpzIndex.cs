using System.Buffers.Binary;
using System.Text;

namespace Cis490.Training.Formats;

/// <summary>Where an array of an .npz lies in the file: its dtype, shape, and the absolute offset of its first data byte. The
/// array's rows can then be read in place (<see cref="RandomAccess.Read(Microsoft.Win32.SafeHandles.SafeFileHandle, Span{byte}, long)"/>)
/// without holding the array in memory.</summary>
public sealed record NpzArrayLocation(string File, string Name, NpyDType DType, int[] Shape, long DataOffset)
{
    /// <summary>Bytes of one row (the product of every dimension after the first, times the item size).</summary>
    public long RowBytes => Shape.Skip(1).Aggregate(1L, (a, d) => a * d) * NpyFormat.ItemSize(DType);

    public int Rows => Shape.Length == 0 ? 1 : Shape[0];
}

/// <summary>Finds the stored (uncompressed) arrays of an .npz by reading the zip's central directory (zip64 included: a
/// host shard at the earlier data set's scale is larger than 4 GiB) and each entry's local header and .npy header. A
/// compressed entry (numpy's <c>savez_compressed</c>) cannot be read in place and is refused by name.</summary>
public static class NpzIndex
{
    private const uint EndOfCentralDirectory = 0x06054b50;
    private const uint Zip64EndLocator = 0x07064b50;
    private const uint Zip64End = 0x06064b50;
    private const uint CentralHeader = 0x02014b50;
    private const uint LocalHeader = 0x04034b50;

    public static IReadOnlyDictionary<string, NpzArrayLocation> Locate(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 12);
        var (entries, cdOffset) = FindCentralDirectory(file, path);
        var found = new Dictionary<string, NpzArrayLocation>(StringComparer.Ordinal);
        var at = cdOffset;
        var fixedPart = new byte[46];
        for (long e = 0; e < entries; e++)
        {
            ReadAt(file, at, fixedPart, path);
            if (BinaryPrimitives.ReadUInt32LittleEndian(fixedPart) != CentralHeader) throw Bad(path, $"central directory entry {e} at {at} has a bad signature");
            var method = BinaryPrimitives.ReadUInt16LittleEndian(fixedPart.AsSpan(10));
            long compressed = BinaryPrimitives.ReadUInt32LittleEndian(fixedPart.AsSpan(20));
            long uncompressed = BinaryPrimitives.ReadUInt32LittleEndian(fixedPart.AsSpan(24));
            var nameLength = BinaryPrimitives.ReadUInt16LittleEndian(fixedPart.AsSpan(28));
            var extraLength = BinaryPrimitives.ReadUInt16LittleEndian(fixedPart.AsSpan(30));
            var commentLength = BinaryPrimitives.ReadUInt16LittleEndian(fixedPart.AsSpan(32));
            long localOffset = BinaryPrimitives.ReadUInt32LittleEndian(fixedPart.AsSpan(42));
            var variable = new byte[nameLength + extraLength];
            ReadAt(file, at + 46, variable, path);
            var name = Encoding.UTF8.GetString(variable, 0, nameLength);
            // Zip64: the sizes and offset that did not fit in 32 bits are in extra field 0x0001, in this order.
            var extra = variable.AsSpan(nameLength);
            while (extra.Length >= 4)
            {
                var id = BinaryPrimitives.ReadUInt16LittleEndian(extra);
                var size = BinaryPrimitives.ReadUInt16LittleEndian(extra[2..]);
                var body = extra.Slice(4, Math.Min(size, extra.Length - 4));
                if (id == 1)
                {
                    var k = 0;
                    if (uncompressed == uint.MaxValue) { uncompressed = BinaryPrimitives.ReadInt64LittleEndian(body[k..]); k += 8; }
                    if (compressed == uint.MaxValue) { compressed = BinaryPrimitives.ReadInt64LittleEndian(body[k..]); k += 8; }
                    if (localOffset == uint.MaxValue) localOffset = BinaryPrimitives.ReadInt64LittleEndian(body[k..]);
                }
                extra = extra[Math.Min(extra.Length, 4 + size)..];
            }
            at += 46 + nameLength + extraLength + commentLength;
            if (!name.EndsWith(".npy", StringComparison.Ordinal)) continue;
            if (method != 0) throw Bad(path, $"'{name}' is compressed (method {method}); arrays read in place must be stored, as './cis490 data build' writes them");

            var local = new byte[30];
            ReadAt(file, localOffset, local, path);
            if (BinaryPrimitives.ReadUInt32LittleEndian(local) != LocalHeader) throw Bad(path, $"'{name}' has no local header at {localOffset}");
            var start = localOffset + 30 + BinaryPrimitives.ReadUInt16LittleEndian(local.AsSpan(26)) + BinaryPrimitives.ReadUInt16LittleEndian(local.AsSpan(28));
            file.Position = start;
            var (dtype, shape, headerLength) = NpyReader.ReadHeader(file);
            var location = new NpzArrayLocation(path, name[..^4], dtype, shape, start + headerLength);
            var expected = headerLength + location.Rows * location.RowBytes;
            if (expected != uncompressed) throw Bad(path, $"'{name}' holds {uncompressed} bytes, its header promises {expected}");
            found[location.Name] = location;
        }
        return found;
    }

    private static (long Entries, long Offset) FindCentralDirectory(FileStream file, string path)
    {
        // The end record is the last 22 bytes plus a comment of up to 64 KiB.
        var tailLength = (int)Math.Min(file.Length, 22 + 65535);
        var tail = new byte[tailLength];
        ReadAt(file, file.Length - tailLength, tail, path);
        for (var i = tailLength - 22; i >= 0; i--)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(i)) != EndOfCentralDirectory) continue;
            long entries = BinaryPrimitives.ReadUInt16LittleEndian(tail.AsSpan(i + 10));
            long offset = BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(i + 16));
            var endAt = file.Length - tailLength + i;
            if ((entries == ushort.MaxValue || offset == uint.MaxValue) && endAt >= 20)
            {
                var locator = new byte[20];
                ReadAt(file, endAt - 20, locator, path);
                if (BinaryPrimitives.ReadUInt32LittleEndian(locator) == Zip64EndLocator)
                {
                    var zip64 = new byte[56];
                    ReadAt(file, BinaryPrimitives.ReadInt64LittleEndian(locator.AsSpan(8)), zip64, path);
                    if (BinaryPrimitives.ReadUInt32LittleEndian(zip64) != Zip64End) throw Bad(path, "the zip64 end record has a bad signature");
                    entries = BinaryPrimitives.ReadInt64LittleEndian(zip64.AsSpan(32));
                    offset = BinaryPrimitives.ReadInt64LittleEndian(zip64.AsSpan(48));
                }
            }
            return (entries, offset);
        }
        throw Bad(path, "no zip end-of-central-directory record (not an .npz, or cut short)");
    }

    private static void ReadAt(FileStream file, long offset, Span<byte> into, string path)
    {
        if (offset < 0 || offset + into.Length > file.Length) throw Bad(path, $"a record at {offset} runs past the end of the file ({file.Length} bytes)");
        file.Position = offset;
        file.ReadExactly(into);
    }

    private static InvalidDataException Bad(string path, string what) => new($"{path}: {what}");
}
