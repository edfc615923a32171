using Cis490.Training.Data;

namespace Cis490.Training.Tests;

public class FeatureSchemaTests
{
    private static FeatureSchema Schema(string version, string[] realistic, string[] oracleOnly) =>
        new(version, new Dictionary<string, IReadOnlyList<string>>
        {
            ["realistic"] = realistic,
            ["oracle"] = [.. realistic, .. oracleOnly],
        });

    [Fact]
    public void Realistic_columns_are_a_subset_of_oracle_columns()
    {
        var (table, schema) = SyntheticFeatureTable.Generate(60, 0);
        var realistic = schema.ColumnsFor("realistic");
        var oracle = schema.ColumnsFor("oracle");
        Assert.Subset(oracle.ToHashSet(), realistic.ToHashSet());
        Assert.True(oracle.Count > realistic.Count);
        Assert.Equal(table.Columns, oracle);
    }

    [Fact]
    public void Schema_hash_differs_between_modes()
    {
        var (_, schema) = SyntheticFeatureTable.Generate(60, 0);
        Assert.NotEqual(schema.Sha256For("realistic"), schema.Sha256For("oracle"));
        Assert.Matches("^[0-9a-f]{64}$", schema.Sha256For("realistic"));
    }

    [Fact]
    public void Schema_hash_changes_when_a_column_list_or_the_version_changes()
    {
        var baseline = Schema("v1", ["a", "b"], ["o"]).Sha256For("realistic");
        Assert.Equal(baseline, Schema("v1", ["a", "b"], ["p"]).Sha256For("realistic"));
        Assert.NotEqual(baseline, Schema("v1", ["a", "c"], ["o"]).Sha256For("realistic"));
        Assert.NotEqual(baseline, Schema("v1", ["b", "a"], ["o"]).Sha256For("realistic")); // order is part of it
        Assert.NotEqual(baseline, Schema("v1", ["a", "b", "c"], ["o"]).Sha256For("realistic"));
        Assert.NotEqual(baseline, Schema("v2", ["a", "b"], ["o"]).Sha256For("realistic"));
        Assert.NotEqual(Schema("v1", ["a"], ["o"]).Sha256For("oracle"), Schema("v1", ["a"], ["p"]).Sha256For("oracle"));
    }

    [Fact]
    public void Unknown_mode_names_the_known_ones()
    {
        var e = Assert.Throws<ArgumentException>(() => Schema("v1", ["a"], []).ColumnsFor("paranoid"));
        Assert.Contains("'paranoid'", e.Message);
        Assert.Contains("realistic", e.Message);
    }

    [Fact]
    public void Save_then_load_keeps_the_hashes()
    {
        using var tmp = new TempDir();
        var (_, schema) = SyntheticFeatureTable.Generate(60, 0);
        schema.Save(tmp.Path);
        var loaded = FeatureSchema.Load(tmp.Path);
        Assert.Equal(schema.Sha256For("realistic"), loaded.Sha256For("realistic"));
        Assert.Equal(schema.Sha256For("oracle"), loaded.Sha256For("oracle"));
        Assert.Throws<FileNotFoundException>(() => FeatureSchema.Load(tmp.Combine("absent")));
    }
}
