namespace Cis490.Protocols.Jobs;

/// <summary>What to train: the immutable part of a job, as the manifest declared it.</summary>
/// <param name="HyperJson">The hyper-parameters as canonical JSON (sorted keys, typed values); part of the job id.</param>
public sealed record JobSpec(
    string JobId,
    string Model,
    string Mode,
    string HyperJson,
    string SplitRecipe,
    IReadOnlyList<string> TrainHosts,
    long Seed,
    int Priority,
    int MaxAttempts) : ICis490Message;

/// <summary>Job lifecycle states (shared/ARCHITECTURE.md, "Job lifecycle").</summary>
public static class JobStatus
{
    public const string Pending = "pending";
    public const string Leased = "leased";
    public const string Running = "running";
    public const string Completed = "completed";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    public static readonly IReadOnlyList<string> All = [Pending, Leased, Running, Completed, Failed, Cancelled];
}

/// <summary>Training progress a trainer reports with each heartbeat.</summary>
public sealed record TrainingProgress(
    int Epoch,
    int TotalEpochs,
    double? Loss,
    double? ValMacroF1,
    double ElapsedSeconds,
    string Message) : ICis490Message;
