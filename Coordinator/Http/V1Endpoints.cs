using System.Text.RegularExpressions;
using Akka.Actor;
using Akka.Event;
using Cis490.Coordinator.Http.Workers;
using Cis490.Protocols.Operator;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
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
        // The worker endpoints: the worker credential first (401), then JSON bodies only (415).
        v1.MapPost("/job/claim", Claim).AddEndpointFilter(WorkerOnly).AddEndpointFilter(JsonOnly);
        v1.MapPost("/job/{id}/heartbeat", Heartbeat).AddEndpointFilter(WorkerOnly).AddEndpointFilter(JsonOnly);
        v1.MapPost("/job/{id}/complete", Complete).AddEndpointFilter(WorkerOnly).AddEndpointFilter(JsonOnly);
        v1.MapPost("/job/{id}/fail", Fail).AddEndpointFilter(WorkerOnly).AddEndpointFilter(JsonOnly);
        // The upload's body is the tarball, of whatever Content-Type the worker's HTTP library gives it (urllib says form, requests
        // none): it is protected by the credential, and by being a PUT, which no browser sends cross-site without a CORS preflight.
        v1.MapPut("/model/{id}", (string id, HttpRequest r, CoordinatorApi c) => V1Upload.Put(id, r, c)).AddEndpointFilter(WorkerOnly);
        v1.MapGet("/jobs", ApiEndpoints.Jobs);
        v1.MapGet("/workers", (CoordinatorApi c) => ApiEndpoints.Query<OperatorQueries.WorkerList>(c, OperatorQueries.ListWorkers.Instance, "workers"));
        v1.MapPost("/job/{id}/cancel", ApiEndpoints.Cancel);
        v1.MapPost("/job/{id}/requeue", ApiEndpoints.Requeue);
        v1.MapPost("/manifest/reload", (HttpRequest r, CoordinatorApi c) => ApiEndpoints.SubmitManifest(r, c, reloadWhenEmpty: true));
    }

    /// <summary>Refuses a request without the worker credential (<see cref="CoordinatorApi.RequireWorker"/>) before its body is read.</summary>
    public static async ValueTask<object?> WorkerOnly(EndpointFilterInvocationContext ctx, EndpointFilterDelegate next) =>
        ctx.HttpContext.RequestServices.GetRequiredService<CoordinatorApi>().RequireWorker(ctx.HttpContext.Request) ?? await next(ctx);

    /// <summary>Refuses a body that is not JSON with a 415 (<see cref="CoordinatorApi.RequireJson"/>) before it is read.</summary>
    public static async ValueTask<object?> JsonOnly(EndpointFilterInvocationContext ctx, EndpointFilterDelegate next) =>
        CoordinatorApi.RequireJson(ctx.HttpContext.Request) ?? await next(ctx);

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
        var offered = body.Capability ?? new CapabilityBody(null, null, null, null, null, null, null, null, null);
        if (offered.Problem() is { } problem)
        {
            c.Log.Warning("HTTP: refused a claim of worker {0}: {1}", body.WorkerId, problem.Field);
            return ApiJson.BadRequest($"capability.{problem.Field}: {problem.Message}; nothing was registered", $"capability.{problem.Field}");
        }
        var capability = offered.ToCapability(body.WorkerId!);
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
        if (body.Progress?.Problem() is { } problem)
            return ApiJson.BadRequest($"progress.{problem.Field}: {problem.Message}; the heartbeat was not taken", $"progress.{problem.Field}");
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
        // The error is kept (a traceback may well hold a terminal colour code): control characters are escaped into visible text
        // and its length is capped, rather than the failure refused and lost.
        var error = string.IsNullOrWhiteSpace(body.Error) ? "failed (the HTTP worker gave no error)" : V1Contracts.FailError(body.Error);
        return await AskGateway(c, new HttpWorkerCommands.Fail(body.WorkerId!, id, body.LeaseId!.Value, error), $"fail of job {id}");
    }

    public static async Task<IResult> AskGateway(CoordinatorApi c, ILeaseCommand command, string what, TimeSpan? timeout = null)
    {
        var (reply, failure) = await c.Ask(c.Workers, command, what, timeout);
        return failure ?? await LeaseAnswer(c, reply);
    }

    /// <summary>As <see cref="LeaseReply"/>, except that a refused lease of a job the coordinator does not know is a 404: the gateway
    /// knows only its own leases, so on a refusal the coordinator is asked whether the job exists, and its typed answer
    /// (<see cref="Protocols.ErrorKind.NotFound"/>) decides.</summary>
    public static async Task<IResult> LeaseAnswer(CoordinatorApi c, object? reply, long? bytes = null)
    {
        if (reply is Rejected { Kind: RejectKind.StaleLease } r && await IsUnknownJob(c, r.JobId))
        {
            var (status, code) = OperatorReplies.StatusOf(Protocols.ErrorKind.NotFound);
            return ApiJson.Error(status, code, $"no job '{r.JobId}' (give the full id the claim answered)", r.JobId, r.LeaseId);
        }
        return LeaseReply(reply, bytes);
    }

    private static async Task<bool> IsUnknownJob(CoordinatorApi c, string jobId)
    {
        var (reply, _) = await c.AskOperator(new OperatorQueries.ShowJob(jobId), $"job {jobId}");
        return reply switch
        {
            OperatorQueries.JobDetail d => d.Job.JobId != jobId, // a prefix of another job's id is not this job's id
            OperatorProtocol.OperatorError e => e.Kind is Protocols.ErrorKind.NotFound or Protocols.ErrorKind.Invalid, // Invalid: an ambiguous prefix
            _ => false, // no answer: keep the gateway's refusal
        };
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
