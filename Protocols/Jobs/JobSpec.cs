namespace Cis490.Protocols.Jobs;

/// <summary>What to train: the immutable part of a job, as the manifest declared it.</summary>
/// <param name="HyperJson">The hyper-parameters as canonical JSON (sorted keys, typed values); part of the job id.</param>
/// <param name="DataSet">The content hash of the data set the job trains on, bound when its manifest was submitted (part of the
/// job id: the same training on other data is another job); null when no data set was published, and then the worker trains on
/// its own <c>--data</c> folder (and events written before data sets existed read as null).</param>
public sealed record JobSpec(
    string JobId,
    string Model,
    string Mode,
    string HyperJson,
    string SplitRecipe,
    IReadOnlyList<string> TrainHosts,
    long Seed,
    int Priority,
    int MaxAttempts,
    JobConstraints? Constraints = null,
    string? DataSet = null) : ICis490Message
{
    /// <summary>The job's placement constraints (none when the manifest declared none, or the event predates them).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public JobConstraints Needs => Constraints ?? JobConstraints.None;
}

/// <summary>Where a job may run (manifest keys require_cuda, prefer_cuda, min_vram_gib, min_ram_gib, allowed_hosts).
/// Not part of the job id: the same training with other placement is the same job.</summary>
public sealed record JobConstraints(
    bool RequireCuda,
    bool PreferCuda,
    double MinVramGib,
    double MinRamGib,
    IReadOnlyList<string> AllowedHosts) : ICis490Message
{
    public static readonly JobConstraints None = new(false, false, 0, 0, []);

    /// <summary>Whether anything is constrained at all.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsNone => !RequireCuda && !PreferCuda && MinVramGib <= 0 && MinRamGib <= 0 && AllowedHosts.Count == 0;
}

/// <summary>A host's entry in the manifest's <c>[[hosts]]</c>: its declared capability and which jobs it may take.
/// <paramref name="AllowJobs"/> and <paramref name="DenyJobs"/> hold patterns <c>model</c>, <c>model:mode</c>, <c>*:mode</c> or <c>*</c>;
/// deny wins over allow, and an empty allow list allows everything not denied.</summary>
public sealed record HostPolicy(
    string Hostname,
    bool? Cuda,
    double? VramGib,
    double? RamGib,
    IReadOnlyList<string> AllowJobs,
    IReadOnlyList<string> DenyJobs) : ICis490Message;

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
