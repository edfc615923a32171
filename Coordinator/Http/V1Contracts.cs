using System.Text.Json;
using Cis490.Protocols.Jobs;
using Cis490.Protocols.Workers;

namespace Cis490.Coordinator.Http;

/// <summary>Request and response bodies of the <c>/v1</c> endpoints the earlier fleet's Python workers and <c>cis490_jobs</c> CLI
/// speak (docs/http-api.md has an example of each). Fields are snake_case on the wire.</summary>
public static class V1Contracts
{
    /// <summary>POST /v1/job/claim: who asks, and what it can do (every capability field is optional).</summary>
    public sealed record ClaimRequest(string? WorkerId, CapabilityBody? Capability);

    /// <summary>A worker's capability as a Python worker reports it; missing fields take modest defaults.</summary>
    public sealed record CapabilityBody(
        string? Hostname, int? Cores, double? RamGib, bool? Cuda, double? VramGib, string? CudaDevice, string? TorchVersion, string? GitCommit, string? Os)
    {
        public WorkerCapability ToCapability(string workerId) => new(
            string.IsNullOrWhiteSpace(Hostname) ? workerId : Hostname.Trim(), Math.Max(1, Cores ?? 1), Math.Max(0, RamGib ?? 0), Cuda ?? false,
            Math.Max(0, VramGib ?? 0), CudaDevice, TorchVersion ?? "none", GitCommit ?? "unknown", Os ?? "unknown");
    }

    /// <summary>The claim's answer: a job with its lease id, or <c>job: null</c> when none came within claim-wait.</summary>
    public sealed record ClaimResponse(JobBody? Job, long? LeaseId, double HeartbeatDeadlineS, double RetryAfterS);

    /// <summary>What to train, as a worker needs it; <c>hyper</c> is the hyper-parameters as a JSON object.</summary>
    public sealed record JobBody(string JobId, string Model, string Mode, JsonElement Hyper, string HyperJson, string SplitRecipe,
        IReadOnlyList<string> TrainHosts, long Seed, int Priority, int MaxAttempts)
    {
        public static JobBody From(JobSpec s)
        {
            using var hyper = JsonDocument.Parse(string.IsNullOrWhiteSpace(s.HyperJson) ? "{}" : s.HyperJson);
            return new JobBody(s.JobId, s.Model, s.Mode, hyper.RootElement.Clone(), s.HyperJson, s.SplitRecipe, s.TrainHosts, s.Seed, s.Priority, s.MaxAttempts);
        }
    }

    /// <summary>POST /v1/job/{id}/heartbeat: the lease, and optionally the training's progress.</summary>
    public sealed record HeartbeatRequest(string? WorkerId, long? LeaseId, ProgressBody? Progress);

    /// <summary>Progress as a worker reports it (all optional).</summary>
    public sealed record ProgressBody(int? Epoch, int? TotalEpochs, double? Loss, double? ValMacroF1, double? ElapsedSeconds, string? Message)
    {
        public TrainingProgress ToProgress() => new(Epoch ?? 0, TotalEpochs ?? 0, Loss, ValMacroF1, ElapsedSeconds ?? 0, Message ?? "");
    }

    /// <summary>POST /v1/job/{id}/complete.</summary>
    public sealed record CompleteRequest(string? WorkerId, long? LeaseId);

    /// <summary>POST /v1/job/{id}/fail: the error the attempt ended with.</summary>
    public sealed record FailRequest(string? WorkerId, long? LeaseId, string? Error);

    /// <summary>The answer to heartbeat, complete, fail and upload: the job's status after the request, and its artifact once stored.</summary>
    public sealed record LeaseResponse(bool Ok, string JobId, long LeaseId, string Status, string? Sha256 = null, long? Bytes = null, bool? Deduplicated = null);
}
