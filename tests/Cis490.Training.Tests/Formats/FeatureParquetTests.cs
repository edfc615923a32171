using Cis490.Training.Features;
using Cis490.Training.Formats;
using Parquet;
using Parquet.Schema;

namespace Cis490.Training.Tests.Formats;

public class FeatureParquetTests
{
    private static void Write(string path, IReadOnlyList<string> columns, IEnumerable<WindowRow> rows, int rowGroupSize = 10_000)
    {
        using var writer = new FeatureParquetWriter(path, columns, rowGroupSize);
        foreach (var row in rows) writer.Add(row);
    }

    private static (int RowGroups, ParquetSchema Schema) Inspect(string path) =>
        Task.Run(async () =>
        {
            await using var reader = await ParquetReader.CreateAsync(path);
            return (reader.RowGroupCount, reader.Schema);
        }).GetAwaiter().GetResult();

    [Fact]
    public void Thousands_of_rows_across_several_row_groups_round_trip_exactly_including_NaN_positions()
    {
        using var tmp = new TempDir();
        var path = tmp.Combine("features.parquet");
        var columns = SampleWindows.Columns(9);
        var rows = SampleWindows.Make(2_500, columns.Length);

        Write(path, columns, rows, rowGroupSize: 1_000);

        Assert.Equal(3, Inspect(path).RowGroups); // 1000 + 1000 + the partial 500 flushed on dispose
        Assert.Equal(2_500, FeatureParquetReader.CountRows(path));
        Assert.Equal(columns, FeatureParquetReader.FeatureColumns(path));
        var read = FeatureParquetReader.Read(path).ToList();
        Assert.Equal(rows.Count, read.Count);
        for (var i = 0; i < rows.Count; i++) SampleWindows.AssertSame(rows[i], read[i]);
        Assert.Contains(read, r => r.Features.Any(float.IsNaN));
    }

    [Fact]
    public void The_writer_copies_features_so_a_caller_may_reuse_its_array()
    {
        using var tmp = new TempDir();
        var path = tmp.Combine("reuse.parquet");
        var shared = new float[2];
        using (var writer = new FeatureParquetWriter(path, ["a", "b"]))
            for (var i = 0; i < 3; i++)
            {
                shared[0] = i;
                shared[1] = -i;
                writer.Add(new WindowRow($"w{i}", "e", "h", "p", "s", i, i + 1, "clean", false, shared));
            }

        Assert.Equal([0f, 1f, 2f], FeatureParquetReader.Read(path).Select(r => r.Features[0]));
    }

    [Fact]
    public void A_row_with_the_wrong_feature_count_is_refused_naming_its_window_and_the_writer_stays_usable()
    {
        using var tmp = new TempDir();
        var path = tmp.Combine("bad.parquet");
        var good = SampleWindows.Make(2, 3);

        using (var writer = new FeatureParquetWriter(path, SampleWindows.Columns(3)))
        {
            writer.Add(good[0]);
            var e = Assert.Throws<ArgumentException>(() => writer.Add(good[1] with { WindowId = "ep-9/w42", Features = [1f, 2f] }));
            Assert.Contains("ep-9/w42", e.Message);
            Assert.Contains("2 features", e.Message);
            writer.Add(good[1]);
        }

        Assert.Equal([good[0].WindowId, good[1].WindowId], FeatureParquetReader.Read(path).Select(r => r.WindowId));
    }

    [Fact]
    public void A_table_with_no_rows_is_still_readable_with_its_columns()
    {
        using var tmp = new TempDir();
        var path = tmp.Combine("empty.parquet");
        var columns = SampleWindows.Columns(4);

        Write(path, columns, []);

        Assert.Equal(columns, FeatureParquetReader.FeatureColumns(path));
        Assert.Equal(0, FeatureParquetReader.CountRows(path));
        Assert.Empty(FeatureParquetReader.Read(path));
        Assert.Equal(0, Inspect(path).RowGroups);
    }

    [Fact]
    public void Feature_names_with_dots_are_flat_float_columns_not_nested_ones()
    {
        using var tmp = new TempDir();
        var path = tmp.Combine("dots.parquet");
        var columns = SampleWindows.DottedColumns;

        Write(path, columns, SampleWindows.Make(10, columns.Length));

        Assert.Equal(columns, FeatureParquetReader.FeatureColumns(path));
        var schema = Inspect(path).Schema;
        Assert.Equal(9 + columns.Length, schema.Fields.Count);
        Assert.All(schema.Fields, f => Assert.IsType<DataField>(f, exactMatch: false));
        Assert.All(schema.DataFields, f => Assert.Equal(1, f.Path.Length));
        Assert.All(schema.DataFields.Skip(9), f => Assert.Equal(typeof(float), f.ClrType));
        Assert.All(schema.DataFields, f => Assert.False(f.IsNullable));
    }

    [Fact]
    public void Duplicate_or_clashing_feature_names_are_refused()
    {
        using var tmp = new TempDir();
        Assert.Throws<ArgumentException>(() => new FeatureParquetWriter(tmp.Combine("a.parquet"), ["x.y", "x.y"]));
        var e = Assert.Throws<ArgumentException>(() => new FeatureParquetWriter(tmp.Combine("b.parquet"), ["label"]));
        Assert.Contains("'label'", e.Message);
    }

    [Fact]
    public async Task A_Parquet_file_that_is_not_a_feature_table_is_refused_naming_the_file_and_column()
    {
        using var tmp = new TempDir();
        var path = tmp.Combine("other.parquet");
        var id = new DataField<string>("row_id", nullable: false);
        await using (var stream = File.Create(path))
        await using (var writer = await ParquetWriter.CreateAsync(new ParquetSchema(id), stream))
        using (var group = writer.CreateRowGroup())
            await group.WriteAsync(id, new[] { "r1" });

        var e = Assert.Throws<InvalidDataException>(() => FeatureParquetReader.FeatureColumns(path));
        Assert.Contains(path, e.Message);
        Assert.Throws<InvalidDataException>(() => FeatureParquetReader.Read(path).ToList());
    }

    [Fact]
    public void Writing_and_reading_never_post_to_the_callers_synchronization_context()
    {
        using var tmp = new TempDir();
        var path = tmp.Combine("ctx.parquet");
        var context = new CountingContext();
        var previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(context);
        try
        {
            Write(path, SampleWindows.Columns(3), SampleWindows.Make(50, 3), rowGroupSize: 20);
            Assert.Equal(50, FeatureParquetReader.Read(path).Count());
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }

        // A caller blocked in our synchronous API (an actor, a UI thread) could never run such a callback: deadlock.
        Assert.Equal(0, context.Posts);
    }

    /// <summary>Counts callbacks queued to it and runs them on the pool, so a regression fails the test instead of hanging it.</summary>
    private sealed class CountingContext : SynchronizationContext
    {
        private int _posts;

        public int Posts => Volatile.Read(ref _posts);

        public override void Post(SendOrPostCallback d, object? state)
        {
            Interlocked.Increment(ref _posts);
            ThreadPool.QueueUserWorkItem(_ => d(state));
        }

        public override void Send(SendOrPostCallback d, object? state)
        {
            Interlocked.Increment(ref _posts);
            d(state);
        }
    }
}
