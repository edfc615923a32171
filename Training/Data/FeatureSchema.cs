using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Cis490.Training.Episodes;
using Cis490.Training.Features;

namespace Cis490.Training.Data;

/// <summary><c>feature_schema_v1.json</c>: the columns each threat-model mode may use, the tensor channel axis, the windowing,
/// and the hash that checkpoints carry so that a model is never fed columns of another schema.</summary>
public sealed record FeatureSchema(
    string Version,
    string RegistryVersion,
    string RegistrySha256,
    int WindowSeconds,
    int StrideSeconds,
    IReadOnlyDictionary<string, IReadOnlyList<string>> ModeColumns,
    IReadOnlyList<string> TensorChannels,
    IReadOnlyDictionary<string, IReadOnlyList<int>> ModeTensorChannels)
{
    public const string FileName = "feature_schema_v1.json";
    public const string CurrentVersion = "features-v1";

    /// <summary>The schema a build with this registry and windowing writes.</summary>
    public static FeatureSchema For(ChannelRegistry registry, WindowSettings window)
    {
        var all = registry.AllFields;
        return new FeatureSchema(CurrentVersion, registry.Version, registry.Sha256(), window.LengthSeconds, window.StrideSeconds,
            ChannelRegistry.Modes.ToDictionary(m => m, m => Windowing.Columns(registry, m)),
            all.Select(f => $"{f.Channel.Name}.{f.Field.Name}").ToList(),
            ChannelRegistry.Modes.ToDictionary(m => m, m => (IReadOnlyList<int>)Enumerable.Range(0, all.Count)
                .Where(i => registry.ChannelsFor(m).Contains(all[i].Channel)).ToList()));
    }

    public IReadOnlyList<string> ColumnsFor(string mode) =>
        ModeColumns.TryGetValue(mode, out var cols) ? cols : throw new ArgumentException($"the feature schema has no mode '{mode}' (has: {string.Join(", ", ModeColumns.Keys)})");

    /// <summary>sha256 of what a model of this mode reads: schema version, registry hash, windowing, and its ordered columns.</summary>
    public string Sha256For(string mode)
    {
        var text = $"{Version}\n{RegistrySha256}\n{WindowSeconds}/{StrideSeconds}\n{mode}\n{string.Join("\n", ColumnsFor(mode))}\n" +
                   string.Join(",", ModeTensorChannels.TryGetValue(mode, out var t) ? t : []);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }

    public void Save(string dir)
    {
        var doc = new SchemaDocument(this, ModeColumns.Keys.ToDictionary(m => m, Sha256For));
        File.WriteAllText(Path.Combine(dir, FileName), JsonSerializer.Serialize(doc, Json.Options));
    }

    public static FeatureSchema Load(string dir)
    {
        var path = Path.Combine(dir, FileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"no {FileName} in {dir}: is this the output of './cis490 data build'?", path);
        var doc = JsonSerializer.Deserialize<SchemaDocument>(File.ReadAllText(path), Json.Options) ?? throw new InvalidDataException($"{path} is empty");
        return doc.Schema;
    }

    /// <summary>The file's shape: the schema plus each mode's hash, written for people and other tools to read.</summary>
    private sealed record SchemaDocument(FeatureSchema Schema, IReadOnlyDictionary<string, string> SchemaSha256);
}
