using System.Text.Json;
using Cis490.Training.Features;
using Cis490.Training.Formats;

namespace Cis490.Training.Tests.Formats;

/// <summary>Our Parquet files read by an independent implementation (hyparquet under Node.js), not just by Parquet.Net.</summary>
public class FeatureParquetHyparquetTests
{
    [Fact]
    public void Hyparquet_reads_our_feature_table_with_the_same_rows_flat_columns_types_and_values()
    {
        using var tmp = new TempDir();
        var path = tmp.Combine("features.parquet");
        var columns = SampleWindows.Columns(8); // starts with the dotted names
        var rows = SampleWindows.Make(2_500, columns.Length);
        using (var writer = new FeatureParquetWriter(path, columns, rowGroupSize: 1_000))
            foreach (var row in rows) writer.Add(row);

        using var json = JsonDocument.Parse(Hyparquet.Describe(path, tmp));
        var root = json.RootElement;

        Assert.Equal(2_500, root.GetProperty("rows").GetInt32());
        Assert.Equal(3, root.GetProperty("rowGroups").GetInt32());
        var described = root.GetProperty("columns").EnumerateArray().ToList();
        string[] expectedNames = ["window_id", "episode_id", "host", "profile", "sample", "t_start_ns", "t_end_ns", "label", "degraded", .. columns];
        Assert.Equal(expectedNames, described.Select(c => c.GetProperty("name").GetString()));
        Assert.All(described, c => Assert.Equal(0, c.GetProperty("children").GetInt32())); // flat: no group holds "proc.cpu"
        Assert.All(described, c => Assert.Equal("REQUIRED", c.GetProperty("repetition").GetString()));
        string[] expectedTypes = ["BYTE_ARRAY", "BYTE_ARRAY", "BYTE_ARRAY", "BYTE_ARRAY", "BYTE_ARRAY", "INT64", "INT64", "BYTE_ARRAY", "BOOLEAN",
            .. columns.Select(_ => "FLOAT")];
        Assert.Equal(expectedTypes, described.Select(c => c.GetProperty("type").GetString()));
        Assert.Equal("UTF8", described[0].GetProperty("convertedType").GetString());

        AssertRow(rows[0], root.GetProperty("first"), columns);
        AssertRow(rows[^1], root.GetProperty("last"), columns); // in the third row group
    }

    private static void AssertRow(WindowRow expected, JsonElement actual, string[] columns)
    {
        Assert.Equal(expected.WindowId, actual.GetProperty("window_id").GetString());
        Assert.Equal(expected.Host, actual.GetProperty("host").GetString()); // non-ASCII survives as UTF-8
        Assert.Equal(expected.Sample, actual.GetProperty("sample").GetString());
        Assert.Equal(expected.TStartNs.ToString(), actual.GetProperty("t_start_ns").GetString());
        Assert.Equal(expected.TEndNs.ToString(), actual.GetProperty("t_end_ns").GetString());
        Assert.Equal(expected.Label, actual.GetProperty("label").GetString());
        Assert.Equal(expected.Degraded, actual.GetProperty("degraded").GetBoolean());
        for (var f = 0; f < columns.Length; f++)
        {
            var value = actual.GetProperty(columns[f]);
            var want = expected.Features[f];
            if (float.IsNaN(want)) Assert.Equal("NaN", value.GetString());
            else if (float.IsInfinity(want)) Assert.Equal(JsonValueKind.Null, value.ValueKind); // JSON has no infinities
            else Assert.Equal(want, (float)value.GetDouble()); // a float32 widened to double narrows back exactly
        }
    }
}
