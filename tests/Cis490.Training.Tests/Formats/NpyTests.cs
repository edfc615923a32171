using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Cis490.Training.Formats;

namespace Cis490.Training.Tests.Formats;

public class NpyTests
{
    internal static float[] Floats(int n) => Enumerable.Range(0, n).Select(i => i % 5 == 0 ? float.NaN : i * 0.25f - 3f).ToArray();

    internal static void WriteSamples(TempDir tmp, int rows)
    {
        using var x = new NpyArrayWriter(tmp.Combine("x.npy"), NpyDType.Float32, 2, 3);
        using var mask = new NpyArrayWriter(tmp.Combine("mask.npy"), NpyDType.UInt8, 2, 3);
        using var y = new NpyArrayWriter(tmp.Combine("y.npy"), NpyDType.Int64);
        for (var r = 0; r < rows; r++)
        {
            x.Append(Floats(6).Select(v => v + r).ToArray());
            mask.Append(Enumerable.Range(0, 6).Select(i => (byte)((i + r) % 2 == 0 ? 1 : 255)).ToArray());
            y.Append(r % 2 == 0 ? long.MinValue + r : (long)r << 40);
        }
    }

    private static string HeaderText(string path, out int totalLength)
    {
        var bytes = File.ReadAllBytes(path);
        Assert.Equal([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0], bytes[..8]); // version 1.0
        totalLength = 10 + BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8));
        Assert.Equal((byte)'\n', bytes[totalLength - 1]);
        return Encoding.ASCII.GetString(bytes, 10, totalLength - 10);
    }

    [Fact]
    public void Float32_uint8_and_int64_arrays_round_trip_with_their_shapes()
    {
        using var tmp = new TempDir();
        WriteSamples(tmp, rows: 4);

        var x = NpyReader.Read(tmp.Combine("x.npy"));
        Assert.Equal(NpyDType.Float32, x.DType);
        Assert.Equal([4, 2, 3], x.Shape);
        var expectedX = Enumerable.Range(0, 4).SelectMany(r => Floats(6).Select(v => v + r)).ToArray();
        Assert.Equal(expectedX.Select(BitConverter.SingleToInt32Bits), NpyReader.ToSingles(x).Select(BitConverter.SingleToInt32Bits));

        var mask = NpyReader.Read(tmp.Combine("mask.npy"));
        Assert.Equal(NpyDType.UInt8, mask.DType);
        Assert.Equal([4, 2, 3], mask.Shape);
        Assert.Equal(Enumerable.Range(0, 4).SelectMany(r => Enumerable.Range(0, 6).Select(i => (byte)((i + r) % 2 == 0 ? 1 : 255))),
            NpyReader.ToBytes(mask));

        var y = NpyReader.Read(tmp.Combine("y.npy"));
        Assert.Equal(NpyDType.Int64, y.DType);
        Assert.Equal([4], y.Shape);
        Assert.Equal([long.MinValue, 1L << 40, long.MinValue + 2, 3L << 40], NpyReader.ToInt64s(y));
        Assert.Throws<InvalidDataException>(() => NpyReader.ToSingles(y)); // the dtype is checked, not reinterpreted
    }

    [Theory]
    [InlineData(0, "'shape': (0, 2, 3)")]
    [InlineData(1, "'shape': (1, 2, 3)")]
    [InlineData(1234, "'shape': (1234, 2, 3)")]
    public void The_header_states_the_final_shape_and_ends_on_a_64_byte_boundary(int rows, string shape)
    {
        using var tmp = new TempDir();
        var path = tmp.Combine("x.npy");
        using (var writer = new NpyArrayWriter(path, NpyDType.Float32, 2, 3))
        {
            for (var r = 0; r < rows; r++) writer.Append(Floats(6));
            Assert.Equal(rows, writer.Rows);
        }

        var header = HeaderText(path, out var length);
        Assert.Equal(0, length % 64);
        Assert.StartsWith($"{{'descr': '<f4', 'fortran_order': False, {shape}, }}", header);
        Assert.Equal(length + rows * 6 * 4, new FileInfo(path).Length);
        Assert.Equal([rows, 2, 3], NpyReader.Read(path).Shape);
    }

    [Fact]
    public void A_one_dimensional_int64_array_of_no_rows_has_shape_zero_comma()
    {
        using var tmp = new TempDir();
        var path = tmp.Combine("y.npy");
        new NpyArrayWriter(path, NpyDType.Int64).Dispose();

        var header = HeaderText(path, out var length);
        Assert.Equal(0, length % 64);
        Assert.Contains("'descr': '<i8'", header);
        Assert.Contains("'shape': (0,)", header);
        Assert.Equal([0], NpyReader.Read(path).Shape);
        Assert.Empty(NpyReader.Read(path).Data);
    }

    [Fact]
    public void A_row_of_the_wrong_length_or_dtype_is_refused_and_leaves_the_array_intact()
    {
        using var tmp = new TempDir();
        var path = tmp.Combine("mask.npy");
        using (var writer = new NpyArrayWriter(path, NpyDType.UInt8, 2, 3))
        {
            writer.Append(new byte[6]);
            var e = Assert.Throws<ArgumentException>(() => writer.Append(new byte[5]));
            Assert.Contains("6 elements, got 5", e.Message);
            Assert.Throws<InvalidOperationException>(() => writer.Append(new float[6]));
            Assert.Throws<InvalidOperationException>(() => writer.Append(7L));
            Assert.Equal(1, writer.Rows);
        }
        var ints = new NpyArrayWriter(tmp.Combine("pairs.npy"), NpyDType.Int64, 2);
        Assert.Throws<ArgumentException>(() => ints.Append(7L)); // a row of two int64s is not one value
        ints.Dispose();

        var array = NpyReader.Read(path);
        Assert.Equal([1, 2, 3], array.Shape);
        Assert.Equal(6, array.Data.Length);
    }

    [Fact]
    public void Packing_the_same_arrays_twice_gives_identical_bytes_that_read_back_by_name()
    {
        using var tmp = new TempDir();
        WriteSamples(tmp, rows: 5);
        (string, string)[] arrays = [("x", tmp.Combine("x.npy")), ("mask", tmp.Combine("mask.npy")), ("y", tmp.Combine("y.npy"))];

        Npz.Pack(tmp.Combine("a.npz"), arrays);
        foreach (var (_, file) in arrays) File.SetLastWriteTimeUtc(file, new DateTime(2031, 5, 6, 7, 8, 9, DateTimeKind.Utc));
        Npz.Pack(tmp.Combine("b.npz"), arrays);

        Assert.Equal(File.ReadAllBytes(tmp.Combine("a.npz")), File.ReadAllBytes(tmp.Combine("b.npz")));
        Assert.False(File.Exists(tmp.Combine("a.npz.tmp")));
        using (var zip = ZipFile.OpenRead(tmp.Combine("a.npz")))
        {
            Assert.Equal(["x.npy", "mask.npy", "y.npy"], zip.Entries.Select(e => e.FullName));
            Assert.All(zip.Entries, e => Assert.Equal(new DateTime(1980, 1, 1), e.LastWriteTime.DateTime));
            Assert.All(zip.Entries, e => Assert.Equal(e.Length, e.CompressedLength)); // stored, as numpy.savez does
        }
        using var npz = NpzReader.Open(tmp.Combine("a.npz"));
        Assert.Equal(["x", "mask", "y"], npz.Names);
        foreach (var (name, file) in arrays)
        {
            var (dtype, shape, data) = npz.Read(name);
            var direct = NpyReader.Read(file);
            Assert.Equal(direct.DType, dtype);
            Assert.Equal(direct.Shape, shape);
            Assert.Equal(direct.Data, data);
        }
        var missing = Assert.Throws<KeyNotFoundException>(() => npz.Read("z"));
        Assert.Contains("'z'", missing.Message);
    }

    [Fact]
    public void Pack_refuses_duplicate_names_and_leaves_no_partial_archive()
    {
        using var tmp = new TempDir();
        WriteSamples(tmp, rows: 1);

        Assert.Throws<ArgumentException>(() => Npz.Pack(tmp.Combine("d.npz"), [("x", tmp.Combine("x.npy")), ("x", tmp.Combine("y.npy"))]));

        Assert.False(File.Exists(tmp.Combine("d.npz")));
        Assert.False(File.Exists(tmp.Combine("d.npz.tmp")));
    }

    [Fact]
    public void A_truncated_file_is_refused_with_what_is_missing()
    {
        using var tmp = new TempDir();
        WriteSamples(tmp, rows: 3);
        var bytes = File.ReadAllBytes(tmp.Combine("x.npy"));
        using var cut = new MemoryStream(bytes[..^4]);

        var e = Assert.Throws<InvalidDataException>(() => NpyReader.Read(cut));
        Assert.Contains("data", e.Message);
    }
}
