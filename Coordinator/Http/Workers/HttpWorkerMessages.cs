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
        string WorkerId { get; }
    }

    /// <summary>A request about one of the worker's leases.</summary>
    public interface ILeaseCommand : ICommand
    {
        string JobId { get; }
        long LeaseId { get; }
    }

    /// <summary>Take one more job: register with one free slot and wait up to claim-wait for the coordinator to push a lease.</summary>
    public sealed record Claim(string WorkerId, WorkerCapability Capability) : ICommand;

    /// <summary>The claim's client went away before an answer: stop waiting (no lease is pushed to a client that cannot receive it).</summary>
    public sealed record AbandonClaim(string WorkerId) : ICommand;

    /// <summary>A lease was granted to a claim whose client went away before the answer reached it: hand it back untouched
    /// (declined, not a failed attempt), rather than let it expire as a lost attempt.</summary>
    public sealed record HandBack(string WorkerId, string JobId, long LeaseId) : ILeaseCommand;

    /// <summary>The worker is alive on this lease: the first one reports the trainer started, later ones are heartbeats.</summary>
    public sealed record Beat(string WorkerId, string JobId, long LeaseId, TrainingProgress? Progress) : ILeaseCommand;

    /// <summary>The attempt failed (the coordinator retries the job until max_attempts).</summary>
    public sealed record Fail(string WorkerId, string JobId, long LeaseId, string Error) : ILeaseCommand;

    /// <summary>An upload's body is about to be received: check the lease, and heartbeat it on the worker's behalf meanwhile.</summary>
    public sealed record BeginUpload(string WorkerId, string JobId, long LeaseId) : ILeaseCommand;

    /// <summary>The received body (spooled and hashed at <paramref name="Path"/>): offer it to the store and stream it in.</summary>
    public sealed record Upload(string WorkerId, string JobId, long LeaseId, string Path, string Sha256, long Bytes,
        IReadOnlyDictionary<string, double> Metrics) : ILeaseCommand;

    /// <summary>The upload's body could not be received (too large, connection lost): stop heartbeating for it.</summary>
    public sealed record AbortUpload(string WorkerId, string JobId, long LeaseId) : ILeaseCommand;

    /// <summary>Report the lease's outcome: completed once its upload was stored.</summary>
    public sealed record Complete(string WorkerId, string JobId, long LeaseId) : ILeaseCommand;

    /// <summary>Answer to a claim: a job and its lease id.</summary>
    public sealed record Granted(JobSpec Job, long LeaseId) : INoSerializationVerificationNeeded;

    /// <summary>Answer to a claim: no job came within claim-wait.</summary>
    public sealed record NoWork(TimeSpan Waited) : INoSerializationVerificationNeeded;

    /// <summary>The request was carried out; <paramref name="Status"/> is the job's status as the coordinator reported it.</summary>
    public sealed record Accepted(string JobId, long LeaseId, string Status, string? Sha256 = null, bool Deduplicated = false)
        : INoSerializationVerificationNeeded;

    /// <summary>The request was refused; nothing changed.</summary>
    public sealed record Rejected(RejectKind Kind, string JobId, long LeaseId, string Reason) : INoSerializationVerificationNeeded;

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
    }
}
