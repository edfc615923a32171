using System.Text.Json;
using Cis490.Training.Data;

namespace Cis490.Training.Runner;

/// <summary>Everything a trainer process needs for one job: the spec, the lease, where the data is and where to write.</summary>
/// <param name="Worker">The worker's capability as JSON, copied into checkpoint lineage as it is.</param>
/// <param name="DataSet">The content hash of the data set the job is bound to: <c>DataDir</c> must hold exactly it (null: whatever
/// the worker's <c>--data</c> folder holds, for a job bound to none).</param>
public sealed record TrainRequest(
    string JobId,
    long LeaseId,
    string Model,
    string Mode,
    string HyperJson,
    string SplitRecipe,
    IReadOnlyList<string> TrainHosts,
    long Seed,
    string DataDir,
    string OutDir,
    JsonElement? Worker,
    string? DataSet = null)
{
    public const string FileName = "job.json";

    public void Save(string path) => File.WriteAllText(path, JsonSerializer.Serialize(this, Json.Options));

    public static TrainRequest Load(string path) =>
        JsonSerializer.Deserialize<TrainRequest>(File.ReadAllText(path), Json.Options)
        ?? throw new InvalidDataException($"{path} is empty");
}

/// <summary>One progress report from a running trainer; the trainer process prints each as a JSON line on stdout.</summary>
public sealed record ProgressReport(int Epoch, int TotalEpochs, double? Loss, double? ValMacroF1, double ElapsedSeconds, string Message);
