using Cis490.Training.Data;

namespace Cis490.Training.Tests;

public class SyntheticFeatureTableTests
{
    [Fact]
    public void Same_seed_gives_an_identical_table()
    {
        var (a, schemaA) = SyntheticFeatureTable.Generate(500, 3);
        var (b, schemaB) = SyntheticFeatureTable.Generate(500, 3);
        Assert.Equal(a.RowIds, b.RowIds);
        Assert.Equal(a.Hosts, b.Hosts);
        Assert.Equal(a.Labels, b.Labels);
        Assert.Equal(a.Columns, b.Columns);
        Assert.Equal(a.Values, b.Values);
        Assert.Equal(schemaA.Sha256For("oracle"), schemaB.Sha256For("oracle"));
    }

    [Fact]
    public void Same_seed_writes_byte_identical_files()
    {
        // The data-set hash in checkpoint lineage is the file's sha256: regenerating must not change it.
        using var tmp = new TempDir();
        SyntheticFeatureTable.Write(tmp.Combine("a"), 700, 5);
        SyntheticFeatureTable.Write(tmp.Combine("b"), 700, 5);
        Assert.Equal(File.ReadAllBytes(tmp.Combine("a", FeatureTable.FileName)), File.ReadAllBytes(tmp.Combine("b", FeatureTable.FileName)));
        Assert.Equal(FeatureTable.DatasetSha256(tmp.Combine("a")), FeatureTable.DatasetSha256(tmp.Combine("b")));
        Assert.Equal(File.ReadAllBytes(tmp.Combine("a", FeatureSchema.FileName)), File.ReadAllBytes(tmp.Combine("b", FeatureSchema.FileName)));
    }

    [Fact]
    public void Different_seed_gives_a_different_table()
    {
        var (a, _) = SyntheticFeatureTable.Generate(500, 3);
        var (b, _) = SyntheticFeatureTable.Generate(500, 4);
        Assert.NotEqual(a.Values, b.Values);
        Assert.NotEqual(a.Labels, b.Labels);
    }

    [Fact]
    public void Both_hosts_and_all_four_classes_appear_with_roughly_the_declared_priors()
    {
        const int rows = 20_000;
        var (table, _) = SyntheticFeatureTable.Generate(rows, 1);

        Assert.Equal(SyntheticFeatureTable.Hosts.Order(), table.Hosts.Distinct().Order());
        Assert.InRange(table.Hosts.Count(h => h == "elliott-thinkpad") / (double)rows, 0.67, 0.73);
        var share = Enumerable.Range(0, Labels.Classes.Count).Select(c => table.Labels.Count(l => l == c) / (double)rows).ToArray();
        Assert.All(share, s => Assert.True(s > 0));
        Assert.InRange(share[0], 0.33, 0.37); // clean
        Assert.InRange(share[1], 0.065, 0.095); // armed: rare
        Assert.InRange(share[2], 0.055, 0.085); // infecting: rare
        Assert.InRange(share[3], 0.48, 0.52); // infected_running: the most common
        Assert.Equal(3, Array.IndexOf(share, share.Max()));
    }

    [Fact]
    public void Table_has_the_declared_shape_and_no_missing_values()
    {
        var (table, _) = SyntheticFeatureTable.Generate(60, 2);
        Assert.Equal(60, table.Rows);
        Assert.Equal(SyntheticFeatureTable.RealisticColumns + SyntheticFeatureTable.OracleOnlyColumns, table.Dims);
        Assert.Equal(table.Rows * table.Dims, table.Values.Length);
        Assert.DoesNotContain(table.Values, float.IsNaN);
        Assert.Equal(table.Rows, table.RowIds.Distinct().Count());
    }

    [Fact]
    public void Too_few_rows_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => SyntheticFeatureTable.Generate(49, 0));
    }
}
