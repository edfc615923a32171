using System.Text.Json.Serialization;
using Akka.Streams;

namespace Cis490.Protocols.Operator;

/// <summary>Requests from operator tools (shell, manifest submit) to the coordinator node, and replies.</summary>
public static class OperatorProtocol
{
    /// <summary>Load a manifest's text; the coordinator validates all of it before persisting anything. The acceptance names
    /// the first few job ids (cis490.coordinator.manifest-ids-shown), or every one with <paramref name="AllIds"/> (the HTTP API,
    /// which has no message size limit and whose clients read the ids).</summary>
    public sealed record SubmitManifest(string FileName, string Text, string? Token = null, bool AllIds = false) : ICis490Message;

    /// <summary>Reload the manifest the coordinator node was started with (<c>--manifest PATH</c>); answered like <see cref="SubmitManifest"/>,
    /// or with <see cref="OperatorError"/> when the node has no manifest path or cannot read the file.</summary>
    public sealed record ReloadManifest(string? Token = null) : ICis490Message;

    /// <summary>A manifest of any size: its UTF-8 bytes (<paramref name="Bytes"/> in all) arrive through <paramref name="Source"/>,
    /// pulled by the operator endpoint, which then submits the whole text as one <see cref="SubmitManifest"/> on its own node.
    /// Answered like <see cref="SubmitManifest"/>.</summary>
    public sealed record SubmitManifestStream(string FileName, long Bytes, ISourceRef<byte[]> Source, string? Token = null) : ICis490Message;

    /// <summary>The manifest was valid; new jobs are pending, known jobs keep their status. The id lists hold the first few ids
    /// only when the counts are given (<paramref name="Added"/>, <paramref name="Known"/>): a 100 000-job manifest's ids do not
    /// fit one message; `jobs list` has them all. Null counts (an older coordinator): the lists are complete.</summary>
    public sealed record ManifestAccepted(string FileName, IReadOnlyList<string> AddedJobIds, IReadOnlyList<string> KnownJobIds,
        int? Added = null, int? Known = null) : ICis490Message
    {
        [JsonIgnore] public int AddedCount => Added ?? AddedJobIds.Count;
        [JsonIgnore] public int KnownCount => Known ?? KnownJobIds.Count;
    }

    /// <summary>The manifest was invalid; nothing changed. <paramref name="Errors"/>: the first errors found, each with its line;
    /// <paramref name="Total"/>: how many there are in all (null: <paramref name="Errors"/> is complete); <paramref name="Kinds"/>:
    /// how many of each kind (the message with its quoted values and numbers masked), most frequent first.</summary>
    public sealed record ManifestRejected(string FileName, IReadOnlyList<ManifestError> Errors, int? Total = null,
        IReadOnlyList<ErrorKindCount>? Kinds = null) : ICis490Message
    {
        [JsonIgnore] public int TotalCount => Total ?? Errors.Count;
    }

    /// <summary>How many errors of a rejected manifest are of one kind; <paramref name="Example"/> is the first of them.</summary>
    public sealed record ErrorKindCount(string Kind, int Count, string Example) : ICis490Message;

    /// <summary>One manifest problem: file, 1-based line and column (0 when unknown), and what is wrong.</summary>
    public sealed record ManifestError(string File, int Line, int Column, string Message) : ICis490Message
    {
        public override string ToString() => Line > 0 ? $"{File}:{Line}:{Column}: {Message}" : $"{File}: {Message}";
    }

    /// <summary>List jobs, optionally filtered by status and model, in the order they were added. Paged: at most
    /// <paramref name="Limit"/> rows after the cursor <paramref name="After"/> (a <see cref="JobList.Next"/>; null: from the
    /// start). A null limit (an older client) asks for every row, answered "too large" when they do not fit one message.</summary>
    public sealed record ListJobs(string? Status, string? Model, int? Limit = null, long? After = null) : IOperatorRead;

    /// <summary>The job table as operators see it, one page of it: <paramref name="Next"/> is the cursor of the next page (null:
    /// this is the last), <paramref name="Total"/> how many jobs match the filter in all.</summary>
    public sealed record JobList(IReadOnlyList<JobView> Jobs, DateTimeOffset At, long? Next = null, int? Total = null) : ICis490Message;

    /// <summary>One job's row. <paramref name="RetryAt"/>: a failed attempt's backoff ends then; <paramref name="Unschedulable"/>: why no
    /// connected worker could ever run this pending job (its constraints, the hosts' policy), null when one could.
    /// <paramref name="DataSet"/>: the content hash of the data set the job is bound to (null: none, it trains on the worker's --data).</summary>
    public sealed record JobView(
        string JobId,
        string Model,
        string Mode,
        string HyperJson,
        string Status,
        int FailedAttempts,
        int MaxAttempts,
        long LeaseId,
        string? WorkerId,
        Jobs.TrainingProgress? Progress,
        string? ArtifactSha256,
        IReadOnlyDictionary<string, double> Metrics,
        DateTimeOffset AddedAt,
        DateTimeOffset? StartedAt,
        DateTimeOffset? FinishedAt,
        string? LastError,
        DateTimeOffset? RetryAt = null,
        string? Unschedulable = null,
        string? DataSet = null) : ICis490Message;

    /// <summary>Cancel a job (by id or a unique prefix of at least 8 characters); a running trainer is stopped.</summary>
    public sealed record CancelJob(string JobId, string Reason, string? Token = null) : ICis490Message;

    /// <summary>Put a failed or cancelled job back to pending.</summary>
    public sealed record RequeueJob(string JobId, string? Token = null) : ICis490Message;

    /// <summary>The outcome of a mutating request: done (with the job's new status) or refused (with why, and its
    /// <paramref name="Kind"/>; null when <paramref name="Ok"/>).</summary>
    public sealed record OperatorResult(bool Ok, string JobId, string Status, string Message, ErrorKind? Kind = null) : ICis490Message
    {
        /// <summary>A refusal of a request about <paramref name="jobId"/> (its status, "" when the job is unknown).</summary>
        public static OperatorResult Refused(ErrorKind kind, string jobId, string status, string message) => new(false, jobId, status, message, kind);
    }

    /// <summary>A request could not be served: its <paramref name="Kind"/> says why (unknown id, bad argument, no token…), the
    /// message says it to a person.</summary>
    public sealed record OperatorError(string Message, ErrorKind Kind = ErrorKind.Invalid) : ICis490Message;
}
