using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Cis490.Training.Neural.Tests;

/// <summary>The batch a training step reads: gathered in place into tensors made once per run.</summary>
[Collection(NeuralCollection.Name)]
public sealed class BatchTensorsTests
{
    public BatchTensorsTests() => TorchRuntime.EnsureAvailable();

    /// <summary>Rows whose every value names them: row r holds r × 10 + column.</summary>
    private sealed class NumberedRows(int count, int width) : IEncodedRows
    {
        public int Count => count;
        public int[] Y { get; } = [.. Enumerable.Range(0, count).Select(r => r % 4)];
        public long[] RowShape => [width];
        public int RowLength => width;

        public void Gather(ReadOnlySpan<int> rows, Span<float> into)
        {
            for (var i = 0; i < rows.Length; i++)
                for (var c = 0; c < width; c++) into[i * width + c] = rows[i] * 10 + c;
        }
    }

    private static float[] Values(Tensor t) => [.. MemoryMarshal.Cast<byte, float>(t.contiguous().bytes)];

    [Fact]
    public void A_fill_holds_the_chosen_rows_in_order_with_their_labels_and_a_short_batch_is_the_first_rows()
    {
        var data = new NumberedRows(7, 3);
        using var batch = new BatchTensors(data, batchSize: 4);
        using (NewDisposeScope())
        {
            var (x, y) = batch.Fill(data, [6, 0, 5, 1], CPU);
            Assert.Equal([4L, 3L], x.shape);
            Assert.Equal([60f, 61, 62, 0, 1, 2, 50, 51, 52, 10, 11, 12], Values(x));
            Assert.Equal([2L, 0, 1, 1], y.data<long>().ToArray());
        }
        using (NewDisposeScope())
        {
            // The last, shorter batch of an epoch overwrites the first rows and is exactly its own rows long.
            var (x, y) = batch.Fill(data, [3, 2, 4], CPU);
            Assert.Equal([3L, 3L], x.shape);
            Assert.Equal([30f, 31, 32, 20, 21, 22, 40, 41, 42], Values(x));
            Assert.Equal([3L, 2, 0], y.data<long>().ToArray());
        }
    }

    [Fact]
    public void More_rows_than_the_batch_holds_or_rows_of_another_width_are_refused()
    {
        var data = new NumberedRows(10, 3);
        using var batch = new BatchTensors(data, batchSize: 4);
        var tooMany = Assert.Throws<ArgumentOutOfRangeException>(() => batch.Fill(data, [0, 1, 2, 3, 4], CPU));
        Assert.Contains("at most 4 rows", tooMany.Message);
        var wider = Assert.Throws<ArgumentException>(() => batch.Fill(new NumberedRows(10, 5), [0], CPU));
        Assert.Contains("rows of 5 values", wider.Message);
    }
}
