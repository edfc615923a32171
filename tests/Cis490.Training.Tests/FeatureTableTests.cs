using Cis490.Training.Data;

namespace Cis490.Training.Tests;

public class FeatureTableTests
{
    private const string Header = "row_id,host,label,a,b";

    private static string WriteCsv(TempDir tmp, params string[] lines)
    {
        File.WriteAllText(tmp.Combine(FeatureTable.FileName), string.Join("\n", lines) + "\n");
        return tmp.Combine(FeatureTable.FileName);
    }

    [Fact]
    public void Save_then_load_round_trips_every_value_including_missing_ones()
    {
        using var tmp = new TempDir();
        var (table, _) = SyntheticFeatureTable.Generate(200, 9);
        table.Values[5] = float.NaN;
        table.Values[17] = float.Epsilon; // the smallest float must survive the text form
        table.Values[18] = -1e30f;

        table.Save(tmp.Path);
        var loaded = FeatureTable.Load(tmp.Path);

        Assert.Equal(table.RowIds, loaded.RowIds);
        Assert.Equal(table.Hosts, loaded.Hosts);
        Assert.Equal(table.Labels, loaded.Labels);
        Assert.Equal(table.Columns, loaded.Columns);
        Assert.Equal(table.Values, loaded.Values);
        Assert.True(float.IsNaN(loaded.Values[5]));
    }

    [Fact]
    public void Wrong_field_count_names_the_file_and_line()
    {
        using var tmp = new TempDir();
        var path = WriteCsv(tmp, Header, "w1,h,clean,1,2", "w2,h,clean,1");
        var e = Assert.Throws<InvalidDataException>(() => FeatureTable.Load(tmp.Path));
        Assert.Contains($"{path}:3:", e.Message);
        Assert.Contains("4 fields, header has 5", e.Message);
    }

    [Fact]
    public void Unknown_label_names_the_line_and_the_label()
    {
        using var tmp = new TempDir();
        var path = WriteCsv(tmp, Header, "w1,h,clean,1,2", "w2,h,armed,1,2", "w3,h,pwned,1,2");
        var e = Assert.Throws<InvalidDataException>(() => FeatureTable.Load(tmp.Path));
        Assert.Contains($"{path}:4:", e.Message);
        Assert.Contains("'pwned'", e.Message);
    }

    [Fact]
    public void Non_numeric_value_names_the_line_and_column()
    {
        using var tmp = new TempDir();
        var path = WriteCsv(tmp, Header, "w1,h,clean,1,two");
        var e = Assert.Throws<InvalidDataException>(() => FeatureTable.Load(tmp.Path));
        Assert.Contains($"{path}:2:", e.Message);
        Assert.Contains("column b", e.Message);
    }

    [Fact]
    public void Bad_header_is_reported_on_line_one()
    {
        using var tmp = new TempDir();
        var path = WriteCsv(tmp, "id,host,label,a", "w1,h,clean,1");
        var e = Assert.Throws<InvalidDataException>(() => FeatureTable.Load(tmp.Path));
        Assert.Contains($"{path}:1:", e.Message);
    }

    [Fact]
    public void Missing_file_says_how_to_create_one()
    {
        using var tmp = new TempDir();
        var e = Assert.Throws<FileNotFoundException>(() => FeatureTable.Load(tmp.Path));
        Assert.Contains("cis490 data synth", e.Message);
        Assert.Contains(tmp.Path, e.Message);
    }

    [Fact]
    public void Select_picks_rows_and_columns_by_name_in_the_order_given()
    {
        var table = new FeatureTable
        {
            RowIds = ["r0", "r1", "r2"], Hosts = ["h", "h", "h"], Labels = [0, 1, 3],
            Columns = ["a", "b", "c"], Values = [1, 2, 3, 4, 5, 6, 7, 8, 9],
        };
        var (x, y) = table.Select([2, 0], ["c", "a"]);
        Assert.Equal([9f, 7f, 3f, 1f], x);
        Assert.Equal([3, 0], y);
        var e = Assert.Throws<InvalidDataException>(() => table.Select([0], ["zz"]));
        Assert.Contains("'zz'", e.Message);
    }
}
