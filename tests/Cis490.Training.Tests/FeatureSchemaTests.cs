using Cis490.Training.Data;
using Cis490.Training.Episodes;
using Cis490.Training.Features;

namespace Cis490.Training.Tests;

/// <summary>The feature schema and its per-mode hash: whatever shapes the features a model reads must change the hash.</summary>
public class FeatureSchemaTests
{
    private static readonly WindowSettings Window = new();
    private static readonly FeatureSchema Default = FeatureSchema.For(ChannelRegistry.Default, Window);

    /// <summary>The default registry with one channel replaced.</summary>
    private static ChannelRegistry WithChannel(string name, Func<ChannelSpec, ChannelSpec> change) =>
        ChannelRegistry.Default with { Channels = [.. ChannelRegistry.Default.Channels.Select(c => c.Name == name ? change(c) : c)] };

    private static readonly Dictionary<string, ChannelRegistry> RegistryChanges = new()
    {
        ["a new version"] = ChannelRegistry.Default with { Version = "channels-v2" },
        ["a field added"] = WithChannel("proc", c => c with { Fields = [.. c.Fields, new FieldSpec("io_wait", FieldKind.Gauge, "%")] }),
        ["sample_tree made realistic"] = WithChannel("sample_tree", c => c with { Realistic = true }),
        // Same names, same columns: only the meaning of the numbers changes, and that must still count.
        ["a gauge turned counter"] = WithChannel("proc", c => c with { Fields = [c.Fields[0] with { Kind = FieldKind.Counter }, .. c.Fields.Skip(1)] }),
    };

    public static TheoryData<string> RegistryChangeNames() => [.. RegistryChanges.Keys];

    [Fact]
    public void Realistic_columns_are_a_strict_subset_of_oracle_columns_and_leave_out_sample_tree()
    {
        var realistic = Default.ColumnsFor("realistic");
        var oracle = Default.ColumnsFor("oracle");
        Assert.Subset(oracle.ToHashSet(), realistic.ToHashSet());
        Assert.Equal(oracle.Where(c => !c.StartsWith("sample_tree.", StringComparison.Ordinal)), realistic);
        Assert.Equal(4 * 6, oracle.Count - realistic.Count);
        Assert.Subset(Default.ModeTensorChannels["oracle"].ToHashSet(), Default.ModeTensorChannels["realistic"].ToHashSet());
        Assert.Equal(19, Default.TensorChannels.Count);
    }

    [Fact]
    public void The_hash_differs_between_modes()
    {
        Assert.NotEqual(Default.Sha256For("realistic"), Default.Sha256For("oracle"));
        Assert.Matches("^[0-9a-f]{64}$", Default.Sha256For("realistic"));
        Assert.Equal(Default.Sha256For("oracle"), FeatureSchema.For(ChannelRegistry.Default, Window).Sha256For("oracle")); // and is stable
    }

    [Theory]
    [MemberData(nameof(RegistryChangeNames))]
    public void A_registry_change_changes_the_registry_hash_and_both_schema_hashes(string what)
    {
        var changed = RegistryChanges[what];
        Assert.NotEqual(ChannelRegistry.Default.Sha256(), changed.Sha256());
        var schema = FeatureSchema.For(changed, Window);
        Assert.All(ChannelRegistry.Modes, mode =>
            Assert.True(schema.Sha256For(mode) != Default.Sha256For(mode), $"{what}: the {mode} schema hash did not change"));
    }

    [Fact]
    public void The_windowing_and_the_schema_version_are_part_of_the_hash()
    {
        Assert.NotEqual(Default.Sha256For("oracle"), FeatureSchema.For(ChannelRegistry.Default, new WindowSettings(StrideSeconds: 5)).Sha256For("oracle"));
        Assert.NotEqual(Default.Sha256For("oracle"), (Default with { Version = "features-v2" }).Sha256For("oracle"));
    }

    [Fact]
    public void Save_then_load_keeps_the_columns_and_the_hashes()
    {
        using var tmp = new TempDir();
        Default.Save(tmp.Path);
        var loaded = FeatureSchema.Load(tmp.Path);
        Assert.All(ChannelRegistry.Modes, mode =>
        {
            Assert.Equal(Default.Sha256For(mode), loaded.Sha256For(mode));
            Assert.Equal(Default.ColumnsFor(mode), loaded.ColumnsFor(mode));
        });
        Assert.Equal(Default.RegistrySha256, loaded.RegistrySha256);
        Assert.Contains(Default.Sha256For("realistic"), File.ReadAllText(tmp.Combine(FeatureSchema.FileName))); // for other tools to read
    }

    [Fact]
    public void Loading_from_a_folder_without_a_schema_says_what_to_run()
    {
        using var tmp = new TempDir();
        var e = Assert.Throws<FileNotFoundException>(() => FeatureSchema.Load(tmp.Path));
        Assert.Contains("data build", e.Message);
    }

    [Fact]
    public void An_unknown_mode_names_the_known_ones()
    {
        var e = Assert.Throws<ArgumentException>(() => Default.ColumnsFor("paranoid"));
        Assert.Contains("'paranoid'", e.Message);
        Assert.Contains("realistic", e.Message);
    }
}
