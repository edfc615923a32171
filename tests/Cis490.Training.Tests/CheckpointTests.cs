using System.Text.Json;
using Cis490.Training.Data;
using Cis490.Training.Runner;

namespace Cis490.Training.Tests;

public class CheckpointTests
{
    private static Checkpoint For(FeatureSchema schema, string mode = "realistic") => new(
        Checkpoint.CurrentFormat, "knn", mode, JsonDocument.Parse("{\"k\":3}").RootElement.Clone(), schema.Sha256For(mode),
        schema.ColumnsFor(mode), Labels.Classes, "knn_sidecar.bin",
        new Dictionary<string, double> { ["val_macro_f1"] = 0.5, ["test_macro_f1"] = double.NaN },
        new Lineage("job", 7, "data-sha", "commit", null, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddMinutes(1)));

    private static FeatureSchema Schema(string version) =>
        new(version, new Dictionary<string, IReadOnlyList<string>> { ["realistic"] = ["a"], ["oracle"] = ["a", "o"] });

    [Fact]
    public void Mismatched_schema_throws_with_both_hashes_in_the_message()
    {
        var trainedOn = Schema("v1");
        var data = Schema("v2");
        var e = Assert.Throws<InvalidDataException>(() => For(trainedOn).EnsureSchema(data));
        Assert.Contains(trainedOn.Sha256For("realistic"), e.Message);
        Assert.Contains(data.Sha256For("realistic"), e.Message);
    }

    [Fact]
    public void Matching_schema_is_accepted()
    {
        var ckpt = For(Schema("v1"), "oracle");
        ckpt.EnsureSchema(Schema("v1")); // throws on mismatch
        Assert.Throws<InvalidDataException>(() => ckpt.EnsureSchema(
            new FeatureSchema("v1", new Dictionary<string, IReadOnlyList<string>> { ["oracle"] = ["a"] })));
    }

    [Fact]
    public void Save_then_load_round_trips_including_nan_metrics()
    {
        using var tmp = new TempDir();
        var ckpt = For(Schema("v1"));
        ckpt.Save(tmp.Path);
        var loaded = Checkpoint.Load(tmp.Path);
        Assert.Equal(ckpt.FeatureSchemaSha256, loaded.FeatureSchemaSha256);
        Assert.Equal(ckpt.Columns, loaded.Columns);
        Assert.Equal(ckpt.Lineage, loaded.Lineage);
        Assert.True(double.IsNaN(loaded.Metrics["test_macro_f1"]));
        Assert.Equal(3, loaded.Hyper.GetProperty("k").GetInt32());
    }

    [Fact]
    public void Load_refuses_another_format()
    {
        using var tmp = new TempDir();
        (For(Schema("v1")) with { Format = "cis490.ckpt/v0" }).Save(tmp.Path);
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(tmp.Path));
        Assert.Contains("cis490.ckpt/v0", e.Message);
    }
}
