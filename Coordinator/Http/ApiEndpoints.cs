using System.Text;
using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Akka.Streams;
using Akka.Streams.Dsl;
using Cis490.Protocols.Jobs;
using Cis490.Protocols.Operator;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Cis490.Coordinator.Http;

/// <summary>The operator's JSON API under <c>/api</c>: reads for jobs, workers, artifacts, cluster and health, and the token-guarded
/// cancel, requeue and manifest. docs/http-api.md documents each; <see cref="OpenApiDocument"/> describes them.</summary>
public static class ApiEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api");
        api.MapGet("/health", Health);
        api.MapGet("/status", (CoordinatorApi c) => Query<OperatorQueries.StatusView>(c, OperatorQueries.GetStatus.Instance, "status"));
        api.MapGet("/jobs", Jobs);
        api.MapGet("/jobs/{id}", (string id, CoordinatorApi c) => Query<OperatorQueries.JobDetail>(c, new OperatorQueries.ShowJob(id), $"job {id}", id));
        api.MapGet("/jobs/{id}/logs", Logs);
        api.MapPost("/jobs/{id}/cancel", Cancel);
        api.MapPost("/jobs/{id}/requeue", Requeue);
        api.MapPost("/manifest", Manifest);
        api.MapGet("/workers", (CoordinatorApi c) => Query<OperatorQueries.WorkerList>(c, OperatorQueries.ListWorkers.Instance, "workers"));
        api.MapGet("/artifacts", (CoordinatorApi c) => Query<OperatorQueries.ArtifactList>(c, OperatorQueries.ListArtifacts.Instance, "artifacts"));
        api.MapGet("/artifacts/{sha}", Artifact);
        api.MapGet("/cluster", (CoordinatorApi c) => Query<OperatorQueries.ClusterView>(c, OperatorQueries.ShowCluster.Instance, "cluster"));
        api.MapGet("/openapi.json", () => Results.Text(OpenApiDocument.Json, "application/json; charset=utf-8"));
    }

    /// <summary>The body of <c>/api/health</c> and <c>/v1/health</c>. <paramref name="Detail"/> is the coordinator's own answer
    /// (journal position, writes in flight, jobs, live leases, workers) when it gave one.</summary>
    public sealed record HealthView(bool Ok, string Status, string Coordinator, string Node, string? MemberStatus, DateTimeOffset At,
        OperatorQueries.CoordinatorHealth? Detail = null, string? Problem = null);

    /// <summary>200 when the JobCoordinator singleton itself answers a health probe (it has recovered its job table and serves);
    /// 503 when it does not answer, or answers that it is restarting (the HTTP server itself is up either way).</summary>
    public static async Task<IResult> Health(CoordinatorApi c)
    {
        var (reply, _) = await c.AskOperator(OperatorQueries.GetHealth.Instance, "a health probe");
        var detail = reply as OperatorQueries.CoordinatorHealth;
        var problem = reply switch
        {
            OperatorQueries.CoordinatorHealth => null,
            OperatorProtocol.OperatorError e => e.Message,
            null => $"the coordinator did not answer within {c.Settings.AskTimeout.TotalSeconds:0.#} s",
            _ => $"the coordinator answered {reply.GetType().Name} (are all coordinator nodes the same version?)",
        };
        string node = c.System.Name;
        string? member = null;
        if (c.System is ExtendedActorSystem { Provider: Akka.Cluster.ClusterActorRefProvider })
        {
            var cluster = Cluster.Get(c.System);
            node = cluster.SelfAddress.ToString();
            member = cluster.SelfMember.Status.ToString().ToLowerInvariant();
        }
        if (detail is { Restarting: true } r)
        {
            // Stopped between two restarts on this node: say so, with the count and the cause, rather than "no answer".
            var why = $"the coordinator is restarting after a failure ({r.Restarts} restart(s) so far, {r.FailedStarts} failed start(s) in a row; " +
                      $"last failure: {r.LastFailure ?? "unknown"})";
            var restarting = new HealthView(false, "restarting", "restarting", node, member, DateTimeOffset.UtcNow, detail, why);
            return Results.Json(restarting, ApiJson.Options, statusCode: StatusCodes.Status503ServiceUnavailable);
        }
        var ok = detail is not null;
        var view = new HealthView(ok, ok ? "ok" : "degraded", ok ? "reachable" : "unreachable", node, member, DateTimeOffset.UtcNow, detail, problem);
        return Results.Json(view, ApiJson.Options, statusCode: ok ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
    }

    /// <summary>The job list, filtered by <c>status</c> and <c>model</c>; an unknown status is a 400 that lists the known ones. Paged with
    /// <c>?limit=N</c> (and <c>&amp;after=CURSOR</c>, the <c>next</c> of the previous page; <c>next</c> is null on the last page);
    /// without <c>limit</c>, every row in one answer (the shape older clients read).</summary>
    public static async Task<IResult> Jobs(HttpRequest request, CoordinatorApi c)
    {
        var status = NullIfEmpty(request.Query["status"]);
        // The earlier fleet's queue called a leased job "claimed"; its CLI may still ask for that.
        if (string.Equals(status, "claimed", StringComparison.OrdinalIgnoreCase)) status = JobStatus.Leased;
        var model = NullIfEmpty(request.Query["model"]);
        if (status is not null && !JobStatus.All.Contains(status))
            return ApiJson.BadRequest($"unknown status '{status}'; use one of {string.Join(", ", JobStatus.All)}", "status");
        int? limit = null;
        if (NullIfEmpty(request.Query["limit"]) is { } l)
        {
            if (!int.TryParse(l, out var n) || n < 1) return ApiJson.BadRequest($"limit must be a whole number of rows, at least 1, got '{l}'", "limit");
            limit = n;
        }
        long? after = null;
        if (NullIfEmpty(request.Query["after"]) is { } a)
        {
            if (!long.TryParse(a, out var cursor)) return ApiJson.BadRequest($"after must be the cursor a previous page gave as next (a number), got '{a}'", "after");
            after = cursor;
        }
        return await Query<OperatorProtocol.JobList>(c, new OperatorProtocol.ListJobs(status, model, limit, after), "the job list");
    }

    private static async Task<IResult> Logs(string id, HttpRequest request, CoordinatorApi c)
    {
        long after = 0;
        if (NullIfEmpty(request.Query["after"]) is { } a && (!long.TryParse(a, out after) || after < 0))
            return ApiJson.BadRequest($"after must be a line number (0 or more), got '{a}'", "after");
        return await Query<OperatorQueries.JobLogs>(c, new OperatorQueries.GetJobLogs(id, after), $"logs of job {id}", id);
    }

    /// <summary>Cancel; the body is optional: <c>{"reason": "..."}</c> (JSON only: 415 otherwise).</summary>
    public static async Task<IResult> Cancel(string id, HttpRequest request, CoordinatorApi c)
    {
        var (token, denied) = c.RequireToken(request, $"cancel {id}");
        if (denied is not null) return denied;
        var reason = "cancelled over HTTP";
        if (CoordinatorApi.RequireJson(request) is { } notJson) return notJson;
        if (request.ContentLength is > 0 || request.Headers.TransferEncoding.Count > 0)
        {
            var (body, bad) = await c.ReadJson<CancelBody>(request);
            if (bad is not null) return bad;
            if (!string.IsNullOrWhiteSpace(body!.Reason)) reason = body.Reason.Trim();
        }
        var (reply, failure) = await c.AskOperator(new OperatorProtocol.CancelJob(id, reason, token), $"cancel {id}");
        return failure ?? OperatorReplies.Operation(reply);
    }

    /// <summary>The optional body of a cancel.</summary>
    public sealed record CancelBody(string? Reason);

    public static async Task<IResult> Requeue(string id, HttpRequest request, CoordinatorApi c)
    {
        var (token, denied) = c.RequireToken(request, $"requeue {id}");
        if (denied is not null) return denied;
        var (reply, failure) = await c.AskOperator(new OperatorProtocol.RequeueJob(id, token), $"requeue {id}");
        return failure ?? OperatorReplies.Operation(reply);
    }

    /// <summary>Submits a manifest: the body is its TOML; <c>?file=NAME</c> names it in errors (default <c>http.toml</c>).</summary>
    public static async Task<IResult> Manifest(HttpRequest request, CoordinatorApi c) => await SubmitManifest(request, c, reloadWhenEmpty: false);

    /// <summary>Shared by <c>/api/manifest</c> and <c>/v1/manifest/reload</c>: TOML from the body, or (reload only) with an empty
    /// body the coordinator reads again the file it was started with (<c>--manifest</c>).</summary>
    public static async Task<IResult> SubmitManifest(HttpRequest request, CoordinatorApi c, bool reloadWhenEmpty)
    {
        var (token, denied) = c.RequireToken(request, "manifest submit");
        if (denied is not null) return denied;
        var (bytes, tooLarge) = await c.ReadBody(request);
        if (tooLarge is not null) return tooLarge;
        var name = NullIfEmpty(request.Query["file"]) ?? "http.toml";
        string text;
        if (bytes!.Length > 0) text = DecodeUtf8(bytes) ?? "";
        else if (reloadWhenEmpty)
        {
            var (reloaded, failed) = await c.AskOperator(new OperatorProtocol.ReloadManifest(token), "manifest reload");
            return failed ?? OperatorReplies.Manifest(reloaded);
        }
        else return ApiJson.BadRequest("send the manifest's TOML as the request body (Content-Type: application/toml)");
        if (text.Length == 0 && bytes.Length > 0) return ApiJson.BadRequest("the manifest is not valid UTF-8 text");
        var (reply, failure) = await c.AskOperator(new OperatorProtocol.SubmitManifest(name, text, token, AllIds: true), $"manifest {name}");
        return failure ?? OperatorReplies.Manifest(reply);
    }

    private static async Task<IResult> Artifact(string sha, CoordinatorApi c)
    {
        if (sha.Length < 8 || sha.Length > 64 || !sha.All(Uri.IsHexDigit))
            return ApiJson.BadRequest($"'{sha}' is not a sha256 (give the 64 hex digits or at least the first 8)", "sha");
        var (reply, failure) = await c.AskOperator(new OperatorQueries.GetArtifact(sha.ToLowerInvariant()), $"artifact {sha}");
        if (failure is not null) return failure;
        return reply is OperatorQueries.ArtifactDownload d ? new ArtifactStreamResult(d, c) : OperatorReplies.Read<OperatorQueries.ArtifactDownload>(reply, sha);
    }

    /// <summary>Asks the operator endpoint and maps the reply (<see cref="OperatorReplies.Read{T}"/>).</summary>
    public static async Task<IResult> Query<T>(CoordinatorApi c, object query, string what, string? id = null)
    {
        var (reply, failure) = await c.AskOperator(query, what);
        return failure ?? OperatorReplies.Read<T>(reply, id);
    }

    public static string? NullIfEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();

    private static string? DecodeUtf8(byte[] bytes)
    {
        try { return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes); }
        catch (DecoderFallbackException) { return null; }
    }

    /// <summary>Streams a bundle from the store's source ref to the response, chunk by chunk; a broken stream aborts the connection
    /// (the client sees fewer bytes than Content-Length) rather than ending as if complete.</summary>
    private sealed class ArtifactStreamResult(OperatorQueries.ArtifactDownload download, CoordinatorApi c) : IResult
    {
        public async Task ExecuteAsync(HttpContext ctx)
        {
            ctx.Response.ContentType = "application/zstd";
            ctx.Response.ContentLength = download.Bytes;
            ctx.Response.Headers.ContentDisposition = $"attachment; filename=\"{download.Model}_{download.Mode}_{download.Sha256[..12]}.tar.zst\"";
            ctx.Response.Headers["X-Sha256"] = download.Sha256;
            var body = ctx.Response.Body;
            try
            {
                await download.Source.Source
                    .SelectAsync(1, async chunk =>
                    {
                        await body.WriteAsync(chunk, ctx.RequestAborted);
                        return chunk.Length;
                    })
                    .RunWith(Sink.Ignore<int>(), c.System.Materializer());
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                c.Log.Warning("HTTP: download of artifact {0} broke off: {1}", download.Sha256, e.Message);
                ctx.Abort();
            }
        }
    }
}
