using Akka.Actor;
using Cis490.Protocols.Jobs;
using Cis490.Protocols.Workers;

namespace Cis490.Coordinator.Http.Workers;

/// <summary>What the <c>/v1</c> endpoints ask the HTTP-worker gateway, and its answers. Local to the coordinator node: the gateway
/// turns them into the worker protocol (Protocols types) before anything reaches the coordinator.</summary>
public static class HttpWorkerCommands
{
    /// <summary>A request about one HTTP worker; the gateway routes it to that worker's actor.</summary>
    public interface ICommand : INoSerializationVerificationNeeded
    {
        /// <summary>The worker the request names; null for a lease request that names none (the gateway finds the worker that
        /// holds the job's lease, see <see cref="ILeaseCommand.ClientAddress"/>).</summary>
        string? WorkerId { get; }
    }

    /// <summary>A request about one of the worker's leases. The job id is the handle: a request that names no lease id is about
    /// the lease the gateway granted that worker for that job.</summary>
    public interface ILeaseCommand : ICommand
    {
        string JobId { get; }

        /// <summary>The lease the request names; null: the worker's lease of the job.</summary>
        long? LeaseId { get; }

        /// <summary>The client's IP address: a request that names no worker is taken only from the address the lease was claimed from.</summary>
        string ClientAddress { get; }
    }

    /// <summary>Take one more job: ask the coordinator for a lease now and, while <paramref name="Wait"/> lasts, again every
    /// claim-poll-interval. Nothing is pushed to an HTTP worker whose claim is not waiting.</summary>
    public sealed record Claim(string WorkerId, WorkerCapability Capability, TimeSpan Wait, string ClientAddress) : ICommand
    {
        string? ICommand.WorkerId => WorkerId;
    }

    /// <summary>The claim's client went away before an answer: stop waiting (no lease is asked for a client that cannot receive it).</summary>
    public sealed record AbandonClaim(string WorkerId) : ICommand
    {
        string? ICommand.WorkerId => WorkerId;
    }

    /// <summary>A lease was granted to a claim whose client went away before the answer reached it: hand it back untouched
    /// (declined, not a failed attempt), rather than let it expire as a lost attempt.</summary>
    public sealed record HandBack(string WorkerId, string JobId, long LeaseId) : ILeaseCommand
    {
        string? ICommand.WorkerId => WorkerId;
        long? ILeaseCommand.LeaseId => LeaseId;
        public string ClientAddress => "";
    }

    /// <summary>The worker is alive on this lease: the first one reports the trainer started, later ones are heartbeats.</summary>
    public sealed record Beat(string? WorkerId, string JobId, long? LeaseId, TrainingProgress? Progress, string ClientAddress) : ILeaseCommand;

    /// <summary>The attempt failed (the coordinator retries the job until max_attempts).</summary>
    public sealed record Fail(string? WorkerId, string JobId, long? LeaseId, string Error, string ClientAddress) : ILeaseCommand;

    /// <summary>An upload's body is about to be received: check the lease, and heartbeat it on the worker's behalf meanwhile. The
    /// answer is <see cref="UploadBegun"/> (which worker and lease it is for), or <see cref="Rejected"/>.</summary>
    public sealed record BeginUpload(string? WorkerId, string JobId, long? LeaseId, string ClientAddress) : ILeaseCommand;

    /// <summary>The received body (spooled and hashed at <paramref name="Path"/>): offer it to the store and stream it in.</summary>
    public sealed record Upload(string WorkerId, string JobId, long LeaseId, string Path, string Sha256, long Bytes,
        IReadOnlyDictionary<string, double> Metrics) : ILeaseCommand
    {
        string? ICommand.WorkerId => WorkerId;
        long? ILeaseCommand.LeaseId => LeaseId;
        public string ClientAddress => "";
    }

    /// <summary>The upload's body could not be received, or was not what the client declared: stop heartbeating for it; the lease
    /// stays, so the client may PUT again.</summary>
    public sealed record AbortUpload(string WorkerId, string JobId, long LeaseId) : ILeaseCommand
    {
        string? ICommand.WorkerId => WorkerId;
        long? ILeaseCommand.LeaseId => LeaseId;
        public string ClientAddress => "";
    }

    /// <summary>Report the lease's outcome: completed once its upload was stored (repeating it is harmless). Metrics it carries are
    /// merged into the job's; a declared sha256 must be the stored artifact's.</summary>
    public sealed record Complete(string? WorkerId, string JobId, long? LeaseId, IReadOnlyDictionary<string, double> Metrics, string? Sha256,
        string ClientAddress) : ILeaseCommand;

    /// <summary>Answer to <see cref="BeginUpload"/>: the upload is for this worker's lease.</summary>
    public sealed record UploadBegun(string WorkerId, string JobId, long LeaseId) : INoSerializationVerificationNeeded;

    /// <summary>Child → gateway: the worker now holds (<paramref name="Live"/>) or no longer holds the job's lease, claimed from
    /// <paramref name="ClientAddress"/>; the gateway's index of which worker a job-id-only request is about.</summary>
    public sealed record LeaseBound(string WorkerId, string JobId, long LeaseId, string ClientAddress, bool Live) : INoSerializationVerificationNeeded;

    /// <summary>Answer to a claim: a job and its lease id.</summary>
    public sealed record Granted(JobSpec Job, long LeaseId, string WorkerId) : INoSerializationVerificationNeeded;

    /// <summary>Answer to a claim: no job now (or within its wait); <paramref name="Reason"/> says why, <paramref name="RetryAfter"/>
    /// when to claim again.</summary>
    public sealed record NoWork(string Reason, TimeSpan RetryAfter) : INoSerializationVerificationNeeded;

    /// <summary>The request was carried out; <paramref name="Status"/> is the job's status as the coordinator reported it.</summary>
    public sealed record Accepted(string JobId, long LeaseId, string Status, string? Sha256 = null, bool Deduplicated = false)
        : INoSerializationVerificationNeeded;

    /// <summary>The request was refused; nothing changed.</summary>
    public sealed record Rejected(RejectKind Kind, string JobId, long? LeaseId, string Reason) : INoSerializationVerificationNeeded;

    /// <summary>Why a request was refused.</summary>
    public enum RejectKind
    {
        /// <summary>The lease is not (or no longer) this worker's live lease: fencing. HTTP 409.</summary>
        StaleLease,
        /// <summary>Complete before the upload was stored. HTTP 409.</summary>
        NotUploaded,
        /// <summary>An upload for this lease is already in progress. HTTP 409.</summary>
        Busy,
        /// <summary>The transfer failed (hash or size mismatch, no answer from the store); the worker may PUT again. HTTP 503.</summary>
        UploadFailed,
        /// <summary>The request does not match the lease's state (a declared sha256 that is not the stored artifact's). HTTP 409.</summary>
        Conflict,
        /// <summary>The request's content is not acceptable (a metric name the coordinator refuses). HTTP 400.</summary>
        Invalid,
    }
}
