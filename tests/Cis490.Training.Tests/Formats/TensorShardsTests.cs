using System.IO.Compression;
using Cis490.Training.Data;
using Cis490.Training.Features;
using Cis490.Training.Formats;
using Cis490.Training.Models;

namespace Cis490.Training.Tests.Formats;

/// <summary>Tensor windows read in place from the build's npz shards (what sequence trainers stream batches from) are the
/// bytes a whole-array read of the same shards gives, for every window; a shard that cannot be read in place is refused by name.</summary>
[Collection(SyntheticBuildCollection.Name)]
public class TensorShardsTests(SyntheticBuild build)
{
    [Fact]
    public void Every_window_read_in_place_equals_the_whole_array_read_and_maps_back_to_its_table_row()
    {
        using var shards = new TensorShards(Path.Combine(build.DataDir, DataBuilder.TensorsDir), build.Table);
        var (x, mask) = (new float[shards.Channels * shards.Steps], new byte[shards.Channels * shards.Steps]);
        var seen = 0;
        foreach (var file in Directory.GetFiles(Path.Combine(build.DataDir, DataBuilder.TensorsDir), "*.npz"))
        {
            using var npz = NpzReader.Open(file);
            var whole = npz.Read("x");
            var (xs, ms, rows) = (NpyReader.ToSingles(whole), NpyReader.ToBytes(npz.Read("mask")), NpyReader.ToInt64s(npz.Read("row")));
            Assert.Equal([rows.Length, shards.Channels, shards.Steps], whole.Shape);
            var cells = shards.Channels * shards.Steps;
            for (var i = 0; i < rows.Length; i++)
            {
                shards.Read((int)rows[i], x, mask);
                Assert.True(xs.AsSpan(i * cells, cells).SequenceEqual(x), $"{file} window {i} (row {rows[i]}): x differs");
                Assert.True(ms.AsSpan(i * cells, cells).SequenceEqual(mask), $"{file} window {i} (row {rows[i]}): mask differs");
                seen++;
            }
        }
        Assert.Equal(build.Table.Rows, seen);
        Assert.Equal(build.Table.Rows, shards.Windows);
    }

    [Fact]
    public void A_compressed_array_is_refused_by_name_and_a_cut_file_says_it_is_not_an_npz()
    {
        using var tmp = new TempDir();
        NpyTests.WriteSamples(tmp, rows: 3);
        var stored = tmp.Combine("stored.npz");
        Npz.Pack(stored, [("x", tmp.Combine("x.npy")), ("mask", tmp.Combine("mask.npy"))]);
        var located = NpzIndex.Locate(stored);
        Assert.Equal((NpyDType.Float32, 2 * 3 * 4L), (located["x"].DType, located["x"].RowBytes));
        var bytes = File.ReadAllBytes(stored);
        Assert.Equal(NpyTests.Floats(6)[1] + 1, BitConverter.ToSingle(bytes, (int)(located["x"].DataOffset + located["x"].RowBytes + 4))); // row 1, second value

        var deflated = tmp.Combine("deflated.npz");
        using (var zip = ZipFile.Open(deflated, ZipArchiveMode.Create))
            zip.CreateEntryFromFile(tmp.Combine("x.npy"), "x.npy", CompressionLevel.Optimal);
        var refused = Assert.Throws<InvalidDataException>(() => NpzIndex.Locate(deflated));
        Assert.Contains("'x.npy' is compressed", refused.Message);
        Assert.Contains(deflated, refused.Message);

        var cut = tmp.Combine("cut.npz");
        File.WriteAllBytes(cut, bytes[..(bytes.Length / 2)]);
        Assert.Contains("no zip end-of-central-directory record", Assert.Throws<InvalidDataException>(() => NpzIndex.Locate(cut)).Message);
    }
}
