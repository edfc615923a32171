using System.Text.RegularExpressions;
using Akka.Actor;
using Cis490.Coordinator.Http.Workers;
using Cis490.Protocols.Operator;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using static Cis490.Coordinator.Http.V1Contracts;
using static Cis490.Coordinator.Http.Workers.HttpWorkerCommands;

namespace Cis490.Coordinator.Http;

/// <summary>The earlier fleet's <c>/v1</c> API, so its Python workers and <c>cis490_jobs</c> CLI keep working during a migration.
/// Worker requests go to the <see cref="HttpWorkerGateway"/>, which speaks the worker protocol: an HTTP worker is a worker like any other.</summary>
public static partial class V1Endpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        var v1 = app.MapGroup("/v1");
        v1.MapGet("/health", ApiEndpoints.Health);
        v1.MapPost("/job/claim", Claim);
        v1.MapPost("/job/{id}/heartbeat", Heartbeat);
        v1.MapPost("/job/{id}/complete", Complete);
        v1.MapPost("/job/{id}/fail", Fail);
        v1.MapPut("/model/{id}", (string id, HttpRequest r, CoordinatorApi c) => V1Upload.Put(id, r, c));
        v1.MapGet("/jobs", ApiEndpoints.Jobs);
        v1.MapGet("/workers", (CoordinatorApi c) => ApiEndpoints.Query<OperatorQueries.WorkerList>(c, OperatorQueries.ListWorkers.Instance, "workers"));
        v1.MapPost("/job/{id}/cancel", ApiEndpoints.Cancel);
        v1.MapPost("/job/{id}/requeue", ApiEndpoints.Requeue);
        v1.MapPost("/manifest/reload", (HttpRequest r, CoordinatorApi c) => ApiEndpoints.SubmitManifest(r, c, reloadWhenEmpty: true));
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex WorkerIdPattern();

    /// <summary>Null when <paramref name="workerId"/> is usable; the 400 otherwise.</summary>
    public static IResult? CheckWorkerId(string? workerId) =>
        string.IsNullOrWhiteSpace(workerId) ? ApiJson.BadRequest("worker_id is required", "worker_id")
        : WorkerIdPattern().IsMatch(workerId) ? null
        : ApiJson.BadRequest($"worker_id '{workerId}' must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit", "worker_id");

    /// <summary>Null when the lease id is present and positive; the 400 otherwise.</summary>
    public static IResult? CheckLease(long? leaseId) =>
        leaseId is > 0 ? null : ApiJson.BadRequest(leaseId is null ? "lease_id is required" : $"lease_id must be positive, got {leaseId}", "lease_id");

    private static async Task<IResult> Claim(HttpRequest request, CoordinatorApi c)
    {
        var (body, bad) = await c.ReadJson<ClaimRequest>(request);
        if (bad is not null) return bad;
        if (CheckWorkerId(body!.WorkerId) is { } invalid) return invalid;
        var capability = (body.Capability ?? new CapabilityBody(null, null, null, null, null, null, null, null, null)).ToCapability(body.WorkerId!);
        // The gateway answers within claim-wait; the ask waits that long plus the usual ask timeout. A client that gives up
        // first (its read timeout is shorter than claim-wait) must not be handed a lease it will never see.
        var aborted = request.HttpContext.RequestAborted;
        object? reply;
        IResult? failure;
        using (aborted.Register(() => c.Workers.Tell(new AbandonClaim(body.WorkerId!), ActorRefs.NoSender)))
            (reply, failure) = await c.Ask(c.Workers, new Claim(body.WorkerId!, capability), $"a claim of worker {body.WorkerId}",
                c.Settings.ClaimWait + c.Settings.AskTimeout);
        if (failure is not null) return failure;
        if (reply is Granted lost && aborted.IsCancellationRequested)
        {
            c.Workers.Tell(new HandBack(body.WorkerId!, lost.Job.JobId, lost.LeaseId), ActorRefs.NoSender);
            return Results.Empty;
        }
        return reply switch
        {
            Granted g => ApiJson.Ok(new ClaimResponse(JobBody.From(g.Job), g.LeaseId, c.Settings.HeartbeatDeadline.TotalSeconds, 0)),
            NoWork => ApiJson.Ok(new ClaimResponse(null, null, c.Settings.HeartbeatDeadline.TotalSeconds, 5)),
            _ => LeaseReply(reply),
        };
    }

    private static async Task<IResult> Heartbeat(string id, HttpRequest request, CoordinatorApi c)
    {
        var (body, bad) = await c.ReadJson<HeartbeatRequest>(request);
        if (bad is not null) return bad;
        if ((CheckWorkerId(body!.WorkerId) ?? CheckLease(body.LeaseId)) is { } invalid) return invalid;
        return await AskGateway(c, new Beat(body.WorkerId!, id, body.LeaseId!.Value, body.Progress?.ToProgress()), $"a heartbeat for job {id}");
    }

    private static async Task<IResult> Complete(string id, HttpRequest request, CoordinatorApi c)
    {
        var (body, bad) = await c.ReadJson<CompleteRequest>(request);
        if (bad is not null) return bad;
        if ((CheckWorkerId(body!.WorkerId) ?? CheckLease(body.LeaseId)) is { } invalid) return invalid;
        return await AskGateway(c, new HttpWorkerCommands.Complete(body.WorkerId!, id, body.LeaseId!.Value), $"complete of job {id}");
    }

    private static async Task<IResult> Fail(string id, HttpRequest request, CoordinatorApi c)
    {
        var (body, bad) = await c.ReadJson<FailRequest>(request);
        if (bad is not null) return bad;
        if ((CheckWorkerId(body!.WorkerId) ?? CheckLease(body.LeaseId)) is { } invalid) return invalid;
        var error = string.IsNullOrWhiteSpace(body.Error) ? "failed (the HTTP worker gave no error)" : body.Error.Trim();
        return await AskGateway(c, new HttpWorkerCommands.Fail(body.WorkerId!, id, body.LeaseId!.Value, error), $"fail of job {id}");
    }

    public static async Task<IResult> AskGateway(CoordinatorApi c, ILeaseCommand command, string what, TimeSpan? timeout = null)
    {
        var (reply, failure) = await c.Ask(c.Workers, command, what, timeout);
        return failure ?? LeaseReply(reply);
    }

    /// <summary>Maps the gateway's answer about a lease to HTTP: accepted 200; fencing and ordering refusals 409; a failed transfer 503.</summary>
    public static IResult LeaseReply(object? reply, long? bytes = null) => reply switch
    {
        Accepted a => ApiJson.Ok(new LeaseResponse(true, a.JobId, a.LeaseId, a.Status, a.Sha256, a.Sha256 is null ? null : bytes, a.Sha256 is null ? null : a.Deduplicated)),
        Rejected { Kind: RejectKind.StaleLease } r => ApiJson.StaleLease(r.Reason, r.JobId, r.LeaseId),
        Rejected { Kind: RejectKind.NotUploaded } r => ApiJson.Error(StatusCodes.Status409Conflict, "not_uploaded", r.Reason, r.JobId, r.LeaseId),
        Rejected { Kind: RejectKind.Busy } r => ApiJson.Error(StatusCodes.Status409Conflict, "upload_in_progress", r.Reason, r.JobId, r.LeaseId),
        Rejected { Kind: RejectKind.UploadFailed } r => ApiJson.Error(StatusCodes.Status503ServiceUnavailable, "upload_failed", r.Reason, r.JobId, r.LeaseId),
        _ => ApiJson.Error(StatusCodes.Status502BadGateway, "unexpected_reply", $"the HTTP worker gateway answered {reply?.GetType().Name ?? "nothing"}"),
    };
}
