using System.Text.Json;
using Cis490.Training.Data;
using Cis490.Training.Episodes;
using Cis490.Training.Features;
using Cis490.Training.Runner;

namespace Cis490.Training.Tests;

/// <summary>ckpt.json: round trip, format check, and refusing features of another schema.</summary>
public class CheckpointTests
{
    private static readonly FeatureSchema Schema = FeatureSchema.For(ChannelRegistry.Default, new WindowSettings());

    private static Checkpoint For(FeatureSchema schema, string mode = "realistic") => new(
        Checkpoint.CurrentFormat, "knn", mode, JsonDocument.Parse("{\"k\":3}").RootElement.Clone(), schema.Sha256For(mode),
        schema.ColumnsFor(mode), Labels.Classes, "knn_sidecar.bin",
        new Dictionary<string, double> { ["val_macro_f1"] = 0.5, ["val_majority_macro_f1"] = double.NaN },
        new SplitInfo("host", "train on elliott-thinkpad", ["elliott-thinkpad"], 3, ["scan-and-dial"], [new ExcludedProfile("cpu-saturate", "1 distinct sample(s)")]),
        new Lineage("job", 7, "data-sha", "commit", null, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddMinutes(1)));

    [Fact]
    public void A_mismatched_schema_is_refused_with_both_hashes_in_the_message()
    {
        // A registry change (here a new version) must stop an old model from reading the new data.
        var data = FeatureSchema.For(ChannelRegistry.Default with { Version = "channels-v2" }, new WindowSettings());
        var ckpt = For(Schema);

        var e = Assert.Throws<InvalidDataException>(() => ckpt.EnsureSchema(data));

        Assert.Contains(Schema.Sha256For("realistic"), e.Message);
        Assert.Contains(data.Sha256For("realistic"), e.Message);
    }

    [Fact]
    public void A_matching_schema_is_accepted_for_the_checkpoint_mode_only()
    {
        For(Schema, "oracle").EnsureSchema(FeatureSchema.For(ChannelRegistry.Default, new WindowSettings())); // throws on mismatch
        // An oracle hash on a realistic checkpoint is a mismatch too.
        var crossed = For(Schema) with { FeatureSchemaSha256 = Schema.Sha256For("oracle") };
        Assert.Throws<InvalidDataException>(() => crossed.EnsureSchema(Schema));
    }

    [Fact]
    public void Save_then_load_round_trips_including_NaN_metrics_and_the_split()
    {
        using var tmp = new TempDir();
        var ckpt = For(Schema);
        ckpt.Save(tmp.Path);
        var loaded = Checkpoint.Load(tmp.Path);
        Assert.Equal(ckpt.FeatureSchemaSha256, loaded.FeatureSchemaSha256);
        Assert.Equal(ckpt.Columns, loaded.Columns);
        Assert.Equal(ckpt.Lineage, loaded.Lineage);
        Assert.True(double.IsNaN(loaded.Metrics["val_majority_macro_f1"]));
        Assert.Equal(3, loaded.Hyper.GetProperty("k").GetInt32());
        Assert.Equal(["scan-and-dial"], loaded.Split.UntestedProfiles);
        Assert.Equal(ckpt.Split.ExcludedProfiles, loaded.Split.ExcludedProfiles);
    }

    [Fact]
    public void The_normalisation_round_trips_and_a_checkpoint_written_before_it_reads_as_train()
    {
        using var tmp = new TempDir();
        (For(Schema) with { Normalise = "per_host" }).Save(tmp.Path);
        Assert.Equal("per_host", Checkpoint.Load(tmp.Path).Normalise);

        var path = Path.Combine(tmp.Path, Checkpoint.FileName);
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        Assert.True(json.Remove("normalise"), "ckpt.json should carry a normalise field");
        File.WriteAllText(path, json.ToJsonString());
        Assert.Equal("train", Checkpoint.Load(tmp.Path).Normalise);
    }

    [Fact]
    public void Load_refuses_another_format()
    {
        using var tmp = new TempDir();
        (For(Schema) with { Format = "cis490.ckpt/v0" }).Save(tmp.Path);
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(tmp.Path));
        Assert.Contains("cis490.ckpt/v0", e.Message);
    }
}
