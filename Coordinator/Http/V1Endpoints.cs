using System.Text.RegularExpressions;
using Akka.Actor;
using Akka.Event;
using Cis490.Coordinator.Http.Workers;
using Cis490.Protocols.Jobs;
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
        // The worker endpoints: the worker credential first (401). Their bodies are read leniently (V1Body): JSON of any
        // declared type from a client that is not a browser, a form, or none.
        v1.MapPost("/job/claim", Claim).AddEndpointFilter(WorkerOnly);
        v1.MapPost("/job/{id}/heartbeat", Heartbeat).AddEndpointFilter(WorkerOnly);
        v1.MapPost("/job/{id}/complete", Complete).AddEndpointFilter(WorkerOnly);
        v1.MapPost("/job/{id}/fail", Fail).AddEndpointFilter(WorkerOnly);
        // The upload's body is the tarball, of whatever Content-Type the worker's HTTP library gives it (urllib says form, requests
        // none): it is protected by the credential, and by being a PUT, which no browser sends cross-site without a CORS preflight.
        v1.MapPut("/model/{id}", (string id, HttpRequest r, CoordinatorApi c) => V1Upload.Put(id, r, c)).AddEndpointFilter(WorkerOnly);
        v1.MapGet("/jobs", ApiEndpoints.Jobs);
        v1.MapGet("/job/{id}", (string id, CoordinatorApi c) => ApiEndpoints.Query<OperatorQueries.JobDetail>(c, new OperatorQueries.ShowJob(id), $"job {id}", id));
        v1.MapGet("/workers", (CoordinatorApi c) => ApiEndpoints.Query<OperatorQueries.WorkerList>(c, OperatorQueries.ListWorkers.Instance, "workers"));
        v1.MapPost("/job/{id}/cancel", Cancel);
        v1.MapPost("/job/{id}/requeue", ApiEndpoints.Requeue);
        v1.MapPost("/manifest/reload", (HttpRequest r, CoordinatorApi c) => ApiEndpoints.SubmitManifest(r, c, reloadWhenEmpty: true));
    }

    /// <summary>Refuses a request without the worker credential (<see cref="CoordinatorApi.RequireWorker"/>) before its body is read.</summary>
    public static async ValueTask<object?> WorkerOnly(EndpointFilterInvocationContext ctx, EndpointFilterDelegate next) =>
        ctx.HttpContext.RequestServices.GetRequiredService<CoordinatorApi>().RequireWorker(ctx.HttpContext.Request) ?? await next(ctx);

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex WorkerIdPattern();

    /// <summary>Null when <paramref name="workerId"/> is usable; the 400 otherwise.</summary>
    public static IResult? CheckWorkerId(string? workerId) =>
        string.IsNullOrWhiteSpace(workerId) ? ApiJson.BadRequest("worker_id is required", "worker_id")
        : WorkerIdPattern().IsMatch(workerId) ? null
        : ApiJson.BadRequest($"worker_id '{Shared.Text.SafeText.Escape(workerId)}' must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit", "worker_id");

    private static IResult Bad(FieldProblem p, string what) => ApiJson.BadRequest($"{p.Field}: {p.Message}; {what}", p.Field);

    /// <summary>The client's address, for requests that name no worker (<see cref="HttpWorkerGateway"/>).</summary>
    public static string ClientAddress(HttpRequest r) => r.HttpContext.Connection.RemoteIpAddress?.MapToIPv4().ToString() ?? "unknown";

    /// <summary>Who a lease request is from and which lease it names: worker id and lease id are both optional (the job id in the
    /// path is the handle), but one that is given must be valid.</summary>
    private static (string? WorkerId, long? LeaseId, IResult? Failure) Identify(V1Fields body, HttpRequest request, string what)
    {
        var worker = V1Shapes.WorkerId(body, request, out var p);
        if (p is not null) return (null, null, Bad(p, what));
        if (worker is not null && CheckWorkerId(worker) is { } bad) return (null, null, bad);
        var lease = V1Shapes.LeaseId(body, request, out p);
        return p is not null ? (null, null, Bad(p, what)) : (worker, lease, null);
    }

    private static async Task<IResult> Claim(HttpRequest request, CoordinatorApi c)
    {
        var (read, bad) = await V1Body.Read(request, c);
        if (bad is not null) return bad;
        var body = read!.Fields;
        var offered = V1Shapes.Capability(body, out var problem);
        if (problem is not null)
        {
            c.Log.Warning("HTTP: refused a claim from {0}: {1}", ClientAddress(request), problem.Field);
            return Bad(problem, "nothing was registered");
        }
        if (offered.Problem() is { } range)
            return ApiJson.BadRequest($"capability.{range.Field}: {range.Message}; nothing was registered", $"capability.{range.Field}");
        var workerId = V1Shapes.WorkerId(body, request, out problem) ?? V1Shapes.DefaultWorkerId(offered.Hostname, ClientAddress(request));
        if (problem is not null) return Bad(problem, "nothing was registered");
        if (CheckWorkerId(workerId) is { } invalid) return invalid;
        var (wait, badWait) = Wait(body, request, c.Settings.ClaimWait);
        if (badWait is not null) return badWait;
        body.Ignore(V1Shapes.LeaseIdNames); // a claim's lease id means nothing: it asks for a new one
        var ignored = body.Unused.ToList();
        var capability = offered.ToCapability(workerId);

        // The gateway answers within the wait; the ask waits that long plus the usual ask timeout. A client that gives up
        // first must not be handed a lease it will never see: its lease is handed back, not counted as an attempt.
        var aborted = request.HttpContext.RequestAborted;
        object? reply;
        IResult? failure;
        using (aborted.Register(() => c.Workers.Tell(new AbandonClaim(workerId), ActorRefs.NoSender)))
            (reply, failure) = await c.Ask(c.Workers, new Claim(workerId, capability, wait, ClientAddress(request)), $"a claim of worker {workerId}",
                wait + c.Settings.AskTimeout);
        if (failure is not null) return failure;
        if (reply is Granted lost && aborted.IsCancellationRequested)
        {
            c.Workers.Tell(new HandBack(workerId, lost.Job.JobId, lost.LeaseId), ActorRefs.NoSender);
            return Results.Empty;
        }
        var deadline = c.Settings.LegacyHeartbeatDeadline.TotalSeconds;
        var understood = CapabilityView.Of(capability);
        return reply switch
        {
            Granted g => ApiJson.Ok(new ClaimResponse(JobBody.From(g.Job), g.Job.JobId, g.LeaseId, workerId, JobStatus.Leased, "claimed",
                deadline, Math.Round(deadline / 4), 0, null, understood, ignored)),
            NoWork n => ApiJson.Ok(new ClaimResponse(null, null, null, workerId, null, null, deadline, Math.Round(deadline / 4),
                Math.Max(0, Math.Round(n.RetryAfter.TotalSeconds, 1)), n.Reason, understood, ignored)),
            _ => LeaseReply(reply),
        };
    }

    /// <summary>How long a claim may wait for a job: <c>?wait=N</c> (or a body field <c>wait</c>, <c>wait_s</c>), seconds, cut to
    /// claim-wait; none: it answers at once.</summary>
    private static (TimeSpan Wait, IResult? Failure) Wait(V1Fields body, HttpRequest request, TimeSpan max)
    {
        double? seconds = body.Number(out var p, "wait", "wait_s", "wait_seconds", "long_poll");
        if (p is not null) return (TimeSpan.Zero, Bad(p, "nothing was registered"));
        if (seconds is null && ApiEndpoints.NullIfEmpty(request.Query["wait"]) is { } q)
        {
            if (!double.TryParse(q, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var parsed))
                return (TimeSpan.Zero, ApiJson.BadRequest($"wait must be a number of seconds, got '{Shared.Text.SafeText.Escape(q)}'", "wait"));
            seconds = parsed;
        }
        if (seconds is { } s && !(s >= 0)) return (TimeSpan.Zero, ApiJson.BadRequest($"wait must be 0 or more seconds, got {s}", "wait"));
        var wait = TimeSpan.FromSeconds(Math.Min(seconds ?? 0, max.TotalSeconds));
        return (wait, null);
    }

    private static async Task<IResult> Heartbeat(string id, HttpRequest request, CoordinatorApi c)
    {
        var (read, bad) = await V1Body.Read(request, c);
        if (bad is not null) return bad;
        var (worker, lease, invalid) = Identify(read!.Fields, request, "the heartbeat was not taken");
        if (invalid is not null) return invalid;
        var progress = V1Shapes.Progress(read.Fields, out var problem);
        if (problem is not null) return Bad(problem, "the heartbeat was not taken");
        if (progress?.Problem() is { } range)
            return ApiJson.BadRequest($"progress.{range.Field}: {range.Message}; the heartbeat was not taken", $"progress.{range.Field}");
        return await AskGateway(c, new Beat(worker, id, lease, progress?.ToProgress(), ClientAddress(request)), $"a heartbeat for job {id}");
    }

    private static async Task<IResult> Complete(string id, HttpRequest request, CoordinatorApi c)
    {
        var (read, bad) = await V1Body.Read(request, c);
        if (bad is not null) return bad;
        var body = read!.Fields;
        var (worker, lease, invalid) = Identify(body, request, "nothing changed");
        if (invalid is not null) return invalid;
        string? sha = null;
        if (body.Text(out var p, V1Shapes.Sha256Names) is { } declared) sha = V1Shapes.Sha256("sha256", declared, out p);
        sha ??= p is null ? V1Shapes.DeclaredSha256(request, out p) : null;
        if (p is not null) return Bad(p, "nothing changed");
        var metrics = V1Shapes.Metrics(body, out p);
        if (p is not null) return Bad(p, "nothing changed");
        return await AskGateway(c, new HttpWorkerCommands.Complete(worker, id, lease, metrics, sha, ClientAddress(request)), $"complete of job {id}");
    }

    private static async Task<IResult> Fail(string id, HttpRequest request, CoordinatorApi c)
    {
        var (read, bad) = await V1Body.Read(request, c);
        if (bad is not null) return bad;
        var (worker, lease, invalid) = Identify(read!.Fields, request, "the failure was not taken");
        if (invalid is not null) return invalid;
        // The error is kept (a traceback may well hold a terminal colour code): control characters are escaped into visible text
        // and its length is capped, rather than the failure refused and lost. A body that is plain text is the error itself.
        var text = V1Shapes.FailText(read.Fields) ?? read.PlainText;
        var error = string.IsNullOrWhiteSpace(text) ? "failed (the HTTP worker gave no error)" : V1Contracts.FailError(text);
        return await AskGateway(c, new HttpWorkerCommands.Fail(worker, id, lease, error, ClientAddress(request)), $"fail of job {id}");
    }

    /// <summary>The earlier CLI's cancel: the operator token as on <c>/api</c>, and its optional body read as leniently as the worker
    /// endpoints' (urllib labels JSON a form): a reason under <c>reason</c>, <c>message</c> or <c>why</c>, or a plain-text body. The
    /// token header is what keeps web pages out: a browser sends no custom header cross-site without a preflight.</summary>
    private static async Task<IResult> Cancel(string id, HttpRequest request, CoordinatorApi c)
    {
        var (token, denied) = c.RequireToken(request, $"cancel {id}");
        if (denied is not null) return denied;
        var (read, bad) = await V1Body.Read(request, c);
        if (bad is not null) return bad;
        var reason = read!.Fields.Text(out var p, "reason", "message", "why", "comment") ?? read.PlainText;
        if (p is not null) return Bad(p, "nothing changed");
        reason = string.IsNullOrWhiteSpace(reason) ? "cancelled over HTTP" : reason.Trim();
        var (reply, failure) = await c.AskOperator(new OperatorProtocol.CancelJob(id, reason, token), $"cancel {id}");
        return failure ?? OperatorReplies.Operation(reply);
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
        Rejected { Kind: RejectKind.Conflict } r => ApiJson.Error(StatusCodes.Status409Conflict, "conflict", r.Reason, r.JobId, r.LeaseId),
        Rejected { Kind: RejectKind.Invalid } r => ApiJson.Error(StatusCodes.Status400BadRequest, "bad_request", r.Reason, r.JobId, r.LeaseId),
        Rejected { Kind: RejectKind.UploadFailed } r => ApiJson.Error(StatusCodes.Status503ServiceUnavailable, "upload_failed", r.Reason, r.JobId, r.LeaseId),
        _ => ApiJson.Error(StatusCodes.Status502BadGateway, "unexpected_reply", $"the HTTP worker gateway answered {reply?.GetType().Name ?? "nothing"}"),
    };
}
