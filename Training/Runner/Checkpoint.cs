using System.Text.Json;
using Cis490.Training.Data;

namespace Cis490.Training.Runner;

/// <summary>Where a checkpoint came from: the job, the lease, the data, the code and the machine.</summary>
/// <param name="DatasetSha256">sha256 of the feature Parquet file alone (kept for checkpoints that predate data sets).</param>
/// <param name="DataSet">The content hash of the whole data set the model was trained on (Parquet, schema, tensors, summary; Core's
/// DataSetContent): what jobs, index rows and <c>eval</c> compare. Null in checkpoints written before data sets existed.</param>
public sealed record Lineage(
    string JobId,
    long LeaseId,
    string DatasetSha256,
    string GitCommit,
    JsonElement? Worker,
    DateTimeOffset StartedAt,
    DateTimeOffset FinishedAt,
    string? DataSet = null);

/// <summary>The split a checkpoint was trained and scored on, with the profiles it could not test.</summary>
public sealed record SplitInfo(
    string Recipe,
    string Description,
    IReadOnlyList<string> TrainHosts,
    long Seed,
    IReadOnlyList<string> UntestedProfiles,
    IReadOnlyList<ExcludedProfile> ExcludedProfiles);

/// <summary><c>ckpt.json</c>: what the model is, which features it reads (by schema hash), how well it did on validation, and its
/// lineage. <see cref="Normalise"/> is how its inputs are standardised (<c>train</c> when a checkpoint predates the setting).</summary>
public sealed record Checkpoint(
    string Format,
    string Model,
    string Mode,
    JsonElement Hyper,
    string FeatureSchemaSha256,
    IReadOnlyList<string> Columns,
    IReadOnlyList<string> Classes,
    string Sidecar,
    IReadOnlyDictionary<string, double> Metrics,
    SplitInfo Split,
    Lineage Lineage,
    string Normalise = "train")
{
    public const string FileName = "ckpt.json";
    public const string CurrentFormat = "cis490.ckpt/v1";

    public void Save(string dir) => File.WriteAllText(Path.Combine(dir, FileName), JsonSerializer.Serialize(this, Json.Options));

    public static Checkpoint Load(string dir)
    {
        var path = Path.Combine(dir, FileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"no {FileName} in {dir}", path);
        var ckpt = JsonSerializer.Deserialize<Checkpoint>(File.ReadAllText(path), Json.Options) ?? throw new InvalidDataException($"{path} is empty");
        if (ckpt.Format != CurrentFormat) throw new InvalidDataException($"{path}: format '{ckpt.Format}' is not {CurrentFormat}");
        return ckpt;
    }

    /// <summary>Refuses to feed this model columns of another schema: the message carries both hashes.</summary>
    public void EnsureSchema(FeatureSchema schema)
    {
        var actual = schema.Sha256For(Mode);
        if (actual != FeatureSchemaSha256)
            throw new InvalidDataException(
                $"feature schema mismatch for {Model}/{Mode}: the checkpoint was trained on schema {FeatureSchemaSha256}, the data has {actual}; rebuild the data with the checkpoint's pipeline or retrain");
    }
}
