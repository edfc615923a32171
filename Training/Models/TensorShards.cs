using Cis490.Training.Data;
using Cis490.Training.Formats;
using Microsoft.Win32.SafeHandles;

namespace Cis490.Training.Models;

/// <summary>The tensor windows of every host shard (<c>tensors/HOST.npz</c>), read where they lie: opening indexes each
/// shard's stored <c>x</c> and <c>mask</c> arrays and reads only its <c>row</c> array (8 bytes a window), so memory does not
/// grow with the shards (at the earlier data set's scale they are several GiB). A window is two positioned reads, safe from
/// any thread; the operating system's page cache, not this process, keeps what is read often.</summary>
public sealed class TensorShards : IDisposable
{
    private readonly List<Shard> _shards = [];
    private readonly int[] _shardOf;
    private readonly int[] _indexIn;

    public int Channels { get; }
    public int Steps { get; }

    /// <summary>Windows present in the shards.</summary>
    public int Windows { get; }

    public TensorShards(string dir, FeatureTable table)
    {
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"no tensors in {dir}: rebuild with './cis490 data build'");
        _shardOf = new int[table.Rows];
        Array.Fill(_shardOf, -1);
        _indexIn = new int[table.Rows];
        int channels = -1, steps = -1;
        foreach (var file in Directory.EnumerateFiles(dir, "*.npz").Order(StringComparer.Ordinal))
        {
            var arrays = NpzIndex.Locate(file);
            NpzArrayLocation Array(string name) =>
                arrays.TryGetValue(name, out var a) ? a : throw new InvalidDataException($"{file} has no '{name}' array (it has: {string.Join(", ", arrays.Keys)})");
            var (x, mask) = (Array("x"), Array("mask"));
            if (x.DType != NpyDType.Float32 || x.Shape.Length != 3) throw new InvalidDataException($"{file}: 'x' is {x.DType} of rank {x.Shape.Length}, not float32 [N, channels, steps]");
            if (mask.DType != NpyDType.UInt8 || !mask.Shape.SequenceEqual(x.Shape)) throw new InvalidDataException($"{file}: 'mask' is not uint8 of x's shape [{string.Join(", ", x.Shape)}]");
            if (channels >= 0 && (x.Shape[1] != channels || x.Shape[2] != steps))
                throw new InvalidDataException($"{file}: windows of {x.Shape[1]} channels × {x.Shape[2]} steps, the other shards have {channels} × {steps}");
            (channels, steps) = (x.Shape[1], x.Shape[2]);
            long[] rows;
            using (var npz = NpzReader.Open(file)) rows = NpyReader.ToInt64s(npz.Read("row"));
            if (rows.Length != x.Rows) throw new InvalidDataException($"{file}: {rows.Length} row numbers for {x.Rows} windows");
            var s = _shards.Count;
            for (var i = 0; i < rows.Length; i++)
            {
                if (rows[i] < 0 || rows[i] >= table.Rows) throw new InvalidDataException($"{file}: row {rows[i]} is outside the feature table");
                (_shardOf[rows[i]], _indexIn[rows[i]]) = (s, i);
            }
            _shards.Add(new Shard(File.OpenHandle(file, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess), x.DataOffset, mask.DataOffset));
            Windows += rows.Length;
        }
        if (channels < 0) throw new InvalidDataException($"no .npz shards in {dir}");
        (Channels, Steps) = (channels, steps);
    }

    /// <summary>Reads table row <paramref name="row"/>'s whole window (every channel) into <paramref name="x"/> and
    /// <paramref name="mask"/>, each at least channels × steps long.</summary>
    public void Read(int row, Span<float> x, Span<byte> mask)
    {
        if ((uint)row >= (uint)_shardOf.Length || _shardOf[row] < 0) throw new InvalidDataException($"table row {row} has no tensor window");
        var shard = _shards[_shardOf[row]];
        var cells = Channels * Steps;
        long at = _indexIn[row];
        var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(x[..cells]);
        ReadExactly(shard.Handle, bytes, shard.X + at * cells * sizeof(float));
        ReadExactly(shard.Handle, mask[..cells], shard.Mask + at * cells);
    }

    /// <summary>Tensor windows of <paramref name="channels"/> for the given rows, all in memory.</summary>
    public TensorBatch Get(IReadOnlyList<int> rows, IReadOnlyList<int> channels, int[] labels)
    {
        var c = channels.Count;
        var x = new float[rows.Count * c * Steps];
        var m = new byte[rows.Count * c * Steps];
        var y = new int[rows.Count];
        var (wx, wm) = (new float[Channels * Steps], new byte[Channels * Steps]);
        for (var r = 0; r < rows.Count; r++)
        {
            Read(rows[r], wx, wm);
            for (var k = 0; k < c; k++)
            {
                Array.Copy(wx, channels[k] * Steps, x, (r * c + k) * Steps, Steps);
                Array.Copy(wm, channels[k] * Steps, m, (r * c + k) * Steps, Steps);
            }
            y[r] = labels[rows[r]];
        }
        return new TensorBatch(x, m, y, c, Steps);
    }

    private static void ReadExactly(SafeFileHandle handle, Span<byte> into, long offset)
    {
        while (!into.IsEmpty)
        {
            var n = RandomAccess.Read(handle, into, offset);
            if (n <= 0) throw new EndOfStreamException($"a tensor shard ends at {offset}, inside a window");
            into = into[n..];
            offset += n;
        }
    }

    public void Dispose()
    {
        foreach (var s in _shards) s.Handle.Dispose();
    }

    private sealed record Shard(SafeFileHandle Handle, long X, long Mask);
}
