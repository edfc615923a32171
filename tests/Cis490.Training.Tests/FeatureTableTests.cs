using Cis490.Training.Data;
using Cis490.Training.Features;

namespace Cis490.Training.Tests;

/// <summary>The feature table as trainers load it.</summary>
[Collection(SyntheticBuildCollection.Name)]
public class FeatureTableTests(SyntheticBuild build)
{
    [Fact]
    public void Loading_a_folder_without_a_table_says_how_to_build_one()
    {
        using var tmp = new TempDir();
        var absent = tmp.Combine("absent");
        var e = Assert.Throws<FileNotFoundException>(() => FeatureTable.Load(absent));
        Assert.Contains("data build", e.Message);
        Assert.Contains(absent, e.Message);
    }

    [Fact]
    public void A_built_table_loads_with_identity_provenance_and_labels()
    {
        var table = build.Table;
        Assert.Equal(build.Summary.Windows, table.Rows);
        Assert.Equal(table.Rows * table.Dims, table.Values.Length);
        Assert.All(table.RowIds.Zip(table.EpisodeIds), p => Assert.StartsWith(p.Second + "/", p.First));
        Assert.Equal(build.Metas.Select(m => m.EpisodeId).Order(), table.EpisodeIds.Distinct().Order());
        // Labels per class match what the build counted.
        foreach (var (label, count) in build.Summary.WindowsPerClass)
            Assert.Equal(count, table.Labels.Count(l => l == Labels.IndexOf(label)));
        Assert.Contains(table.Degraded, d => d);
        Assert.Contains(table.Values, float.IsNaN); // degraded windows keep their NaNs through the file
    }

    [Fact]
    public void Select_picks_rows_and_columns_by_name_in_the_order_given()
    {
        var table = FeatureTable.FromRows(["a", "b", "c"],
        [
            new WindowRow("e0/0", "e0", "h", "p", "s", 0, 30, "clean", false, [1, 2, 3]),
            new WindowRow("e0/1", "e0", "h", "p", "s", 10, 40, "armed", false, [4, 5, 6]),
            new WindowRow("e1/0", "e1", "h", "p", "s", 0, 30, "infected_running", false, [7, 8, 9]),
        ]);
        var (x, y) = table.Select([2, 0], ["c", "a"]);
        Assert.Equal([9f, 7f, 3f, 1f], x);
        Assert.Equal([3, 0], y);
        var e = Assert.Throws<InvalidDataException>(() => table.Select([0], ["zz"]));
        Assert.Contains("'zz'", e.Message);
    }

    [Fact]
    public void A_row_with_the_wrong_feature_count_or_an_unknown_label_is_refused()
    {
        var wrongCount = Assert.Throws<InvalidDataException>(() => FeatureTable.FromRows(["a", "b"],
            [new WindowRow("e0/0", "e0", "h", "p", "s", 0, 30, "clean", false, [1])]));
        Assert.Contains("e0/0", wrongCount.Message);
        var unknown = Assert.Throws<InvalidDataException>(() => FeatureTable.FromRows(["a"],
            [new WindowRow("e0/0", "e0", "h", "p", "s", 0, 30, "pwned", false, [1])]));
        Assert.Contains("'pwned'", unknown.Message);
    }
}
