using System.Text.Json;
using System.Text.Json.Nodes;

namespace Cis490.Coordinator.Http;

/// <summary>The OpenAPI 3 description of every route, served at <c>/api/openapi.json</c>. Written by hand (no generator package
/// here); a test enumerates the mapped endpoints and fails when one is missing, so it cannot drift.</summary>
public static class OpenApiDocument
{
    private sealed record Op(string Method, string Path, string Tag, string Summary, string? Request, bool Token, (int Code, string What, string? Schema)[] Responses);

    private const string Err = "Error";

    private static (int, string, string?) R(int code, string what, string? schema = Err) => (code, what, schema);

    private static readonly Op[] Ops =
    [
        new("get", "/api/health", "api", "Health of the HTTP server and whether the coordinator answers", null, false,
            [R(200, "coordinator reachable", "Health"), R(503, "coordinator unreachable", "Health")]),
        new("get", "/api/status", "api", "Cluster and queue at a glance", null, false, [R(200, "status", "Object"), R(504, "no answer")]),
        new("get", "/api/jobs", "api", "Jobs, filtered by ?status= and ?model=; paged by ?limit=N&after=CURSOR (next: the next page's cursor, null on the last)", null, false, [R(200, "the jobs", "JobList"), R(400, "unknown status"), R(504, "no answer")]),
        new("get", "/api/jobs/{id}", "api", "One job: spec, attempts, lease history", null, false, [R(200, "the job", "Object"), R(404, "unknown job"), R(504, "no answer")]),
        new("get", "/api/jobs/{id}/logs", "api", "A job's progress lines after ?after=N", null, false, [R(200, "lines", "Object"), R(400, "bad after"), R(404, "unknown job"), R(504, "no answer")]),
        new("post", "/api/jobs/{id}/cancel", "api", "Cancel a job (stops a running trainer)", "CancelRequest", true, OperatorOps),
        new("post", "/api/jobs/{id}/requeue", "api", "Put a failed or cancelled job back to pending", null, true, OperatorOps),
        new("post", "/api/manifest", "api", "Submit a manifest (body: TOML; ?file=NAME names it in errors)", "Toml", true, ManifestOps),
        new("get", "/api/workers", "api", "Registered workers", null, false, [R(200, "workers", "Object"), R(504, "no answer")]),
        new("get", "/api/artifacts", "api", "Stored artifacts", null, false, [R(200, "artifacts", "Object"), R(504, "no answer")]),
        new("get", "/api/artifacts/{sha}", "api", "Download a bundle (sha256 or a unique prefix of 8+)", null, false,
            [R(200, "the bundle (application/zstd)", "Binary"), R(400, "not a sha256"), R(404, "unknown artifact"), R(504, "no answer")]),
        new("get", "/api/cluster", "api", "Cluster members", null, false, [R(200, "members", "Object"), R(504, "no answer")]),
        new("get", "/api/openapi.json", "api", "This document", null, false, [R(200, "OpenAPI 3 document", "Object")]),
        new("get", "/v1/health", "v1", "Health (as /api/health)", null, false, [R(200, "ok", "Health"), R(503, "coordinator unreachable", "Health")]),
        new("post", "/v1/job/claim", "v1", "Claim a job: answers at once, or waits up to ?wait=N s (at most claim-wait); capability flat or nested (docs/http-api.md)", "ClaimRequest", false,
            [R(200, "a job and its lease, or job: null with reason and retry_after_s", "ClaimResponse"), R(400, "malformed body, worker_id, or a capability value out of range or not printable (field names it)"),
             R(401, "no worker token, or a wrong one"), R(415, "a browser's non-JSON body"), R(504, "no answer")]),
        new("post", "/v1/job/{id}/heartbeat", "v1", "Heartbeat a lease (the first one marks the job running)", "HeartbeatRequest", false, LeaseOps),
        new("post", "/v1/job/{id}/complete", "v1", "Report completion (after the model was uploaded)", "CompleteRequest", false, LeaseOps),
        new("post", "/v1/job/{id}/fail", "v1", "Report a failed attempt", "FailRequest", false, LeaseOps),
        new("put", "/v1/model/{id}", "v1", "Upload the model tarball (?worker_id=&lease_id=, optional X-Metrics header); completes the job once stored", "Binary", false,
            [.. LeaseOps.Where(r => r.Item1 != 415), R(413, "larger than max-upload-size"), R(503, "transfer failed; PUT again")]),
        new("get", "/v1/job/{id}", "v1", "One job (as /api/jobs/{id})", null, false, [R(200, "the job", "Object"), R(404, "unknown job"), R(504, "no answer")]),
        new("get", "/v1/jobs", "v1", "Jobs (as /api/jobs; status=claimed is leased)", null, false, [R(200, "the jobs", "JobList"), R(400, "unknown status"), R(504, "no answer")]),
        new("get", "/v1/workers", "v1", "Workers (as /api/workers)", null, false, [R(200, "workers", "Object"), R(504, "no answer")]),
        new("post", "/v1/job/{id}/cancel", "v1", "Cancel (as /api/jobs/{id}/cancel)", "CancelRequest", true, OperatorOps),
        new("post", "/v1/job/{id}/requeue", "v1", "Requeue (as /api/jobs/{id}/requeue)", null, true, OperatorOps),
        new("get", "/metrics", "metrics", "Prometheus metrics (text exposition format; docs/metrics.md lists them)", null, false,
            [R(200, "the metrics (text/plain or application/openmetrics-text)", null)]),
        new("get", "/", "dashboard", "The cluster dashboard page (HTML)", null, false, [R(200, "the page (text/html)", null)]),
        new("get", "/dashboard/{file}", "dashboard", "The dashboard's script, style and image files", null, false, [R(200, "the file", null), R(304, "unchanged (ETag)", null), R(404, "no such file")]),
        new("get", "/api/events", "dashboard", "Live feed (text/event-stream): snapshot, tick, curves, progress and coordinator events", null, false,
            [R(200, "an endless event stream", null)]),
        new("get", "/api/evaluation", "dashboard", "The evaluation comparison: macro F1 with its CI per model and mode", null, false,
            [R(200, "the comparison", "Object"), R(404, "no evaluation yet")]),
        new("get", "/api/replay", "dashboard", "The saved prediction runs an episode can be replayed with (eval's NAME_predictions.csv files)", null, false,
            [R(200, "the runs, and files that could not be read", "Object")]),
        new("get", "/api/replay/{name}/{episode}", "dashboard", "One test episode of a prediction run: true phase, predicted phase and class probabilities per window", null, false,
            [R(200, "the episode", "Object"), R(404, "no such run or episode, or a run that cannot be read")]),
        new("post", "/v1/manifest/reload", "v1", "Load a manifest: the body's TOML, or with an empty body the file the coordinator was started with (--manifest)", "Toml", true, ManifestOps),
    ];

    private static (int, string, string?)[] OperatorOps =>
        [R(200, "done", "OperatorResult"), R(401, "no token"), R(403, "wrong token"), R(404, "unknown job"), R(409, "refused (e.g. already cancelled)"), R(504, "no answer")];

    private static (int, string, string?)[] ManifestOps =>
        [R(200, "accepted", "ManifestAccepted"), R(400, "invalid manifest, nothing changed: the first 50 errors with their lines (manifest-errors-shown), the total in the message"), R(401, "no token"), R(403, "wrong token"), R(413, "too large"), R(504, "no answer")];

    private static (int, string, string?)[] LeaseOps =>
        [R(200, "accepted", "LeaseResponse"), R(400, "malformed body, worker_id, lease_id or progress value"), R(401, "no worker token, or a wrong one"),
         R(404, "unknown job id"), R(409, "stale lease, or out of order (not uploaded, upload in progress)"), R(415, "a browser's non-JSON body"), R(504, "no answer")];

    /// <summary>The <c>/v1</c> worker endpoints: they need the worker token (<see cref="V1Access"/>).</summary>
    private static readonly string[] WorkerPaths = ["/v1/job/claim", "/v1/job/{id}/heartbeat", "/v1/job/{id}/complete", "/v1/job/{id}/fail", "/v1/model/{id}"];

    /// <summary>The (method, path) pairs the document describes.</summary>
    public static IEnumerable<(string Method, string Path)> Operations => Ops.Select(o => (o.Method, o.Path));

    public static string Json { get; } = Build().ToJsonString(new JsonSerializerOptions { WriteIndented = true });

    private static JsonObject Build()
    {
        var paths = new JsonObject();
        foreach (var op in Ops)
        {
            if (paths[op.Path] is not JsonObject item) paths[op.Path] = item = new JsonObject();
            var responses = new JsonObject();
            foreach (var (code, what, schema) in op.Responses)
                responses[code.ToString()] = schema is null
                    ? new JsonObject { ["description"] = what }
                    : new JsonObject { ["description"] = what, ["content"] = Content(schema) };
            var operation = new JsonObject { ["tags"] = new JsonArray(op.Tag), ["summary"] = op.Summary, ["responses"] = responses };
            var parameters = new JsonArray();
            foreach (var name in new[] { "id", "sha", "file" }.Where(n => op.Path.Contains($"{{{n}}}")))
                parameters.Add(new JsonObject { ["name"] = name, ["in"] = "path", ["required"] = true, ["schema"] = new JsonObject { ["type"] = "string" } });
            if (parameters.Count > 0) operation["parameters"] = parameters;
            if (op.Token) operation["security"] = new JsonArray(new JsonObject { ["operatorToken"] = new JsonArray() });
            if (WorkerPaths.Contains(op.Path))
                operation["security"] = new JsonArray(new JsonObject { ["workerToken"] = new JsonArray() }, new JsonObject { ["workerTokenHeader"] = new JsonArray() },
                    new JsonObject { ["operatorToken"] = new JsonArray() });
            if (op.Request is not null) operation["requestBody"] = new JsonObject { ["required"] = op.Request is not "CancelRequest", ["content"] = Content(op.Request) };
            item[op.Method] = operation;
        }
        return new JsonObject
        {
            ["openapi"] = "3.0.3",
            ["info"] = new JsonObject { ["title"] = "Cis490 coordinator HTTP API", ["version"] = "1", ["description"] = "See docs/http-api.md for examples." },
            ["paths"] = paths,
            ["components"] = new JsonObject
            {
                ["securitySchemes"] = new JsonObject
                {
                    ["operatorToken"] = new JsonObject { ["type"] = "apiKey", ["in"] = "header", ["name"] = "X-Operator-Token",
                        ["description"] = "The operator token; on /v1 worker endpoints it also carries the worker token (what an earlier-fleet worker sends)" },
                    ["workerToken"] = new JsonObject { ["type"] = "http", ["scheme"] = "bearer", ["description"] = "The /v1 worker token (<data-dir>/worker.token)" },
                    ["workerTokenHeader"] = new JsonObject { ["type"] = "apiKey", ["in"] = "header", ["name"] = "X-Worker-Token" },
                },
                ["schemas"] = Schemas(),
            },
        };
    }

    private static JsonObject Content(string schema) => schema switch
    {
        "Binary" => new JsonObject { ["application/octet-stream"] = new JsonObject { ["schema"] = new JsonObject { ["type"] = "string", ["format"] = "binary" } } },
        "Toml" => new JsonObject { ["application/toml"] = new JsonObject { ["schema"] = new JsonObject { ["type"] = "string" } } },
        _ => new JsonObject { ["application/json"] = new JsonObject { ["schema"] = new JsonObject { ["$ref"] = $"#/components/schemas/{schema}" } } },
    };

    private static JsonObject Obj(params (string Name, string Type)[] props)
    {
        var p = new JsonObject();
        foreach (var (name, type) in props)
            p[name] = type.StartsWith('#') ? new JsonObject { ["$ref"] = $"#/components/schemas/{type[1..]}" }
                : type.EndsWith('?') ? new JsonObject { ["type"] = type[..^1], ["nullable"] = true }
                : new JsonObject { ["type"] = type };
        return new JsonObject { ["type"] = "object", ["properties"] = p };
    }

    private static JsonObject Schemas() => new()
    {
        ["Error"] = Obj(("error", "string"), ("code", "string"), ("status", "integer"), ("job_id", "string"), ("lease_id", "integer"), ("field", "string"), ("details", "array")),
        ["Object"] = new JsonObject { ["type"] = "object", ["description"] = "See docs/http-api.md for the fields." },
        ["Health"] = Obj(("ok", "boolean"), ("status", "string"), ("coordinator", "string"), ("node", "string"), ("member_status", "string?"), ("at", "string"),
            ("detail", "object?"), ("problem", "string?")),
        ["JobList"] = Obj(("jobs", "array"), ("at", "string"), ("next", "integer?"), ("total", "integer?")),
        ["OperatorResult"] = Obj(("ok", "boolean"), ("job_id", "string"), ("status", "string"), ("message", "string")),
        ["ManifestAccepted"] = Obj(("file_name", "string"), ("added_job_ids", "array"), ("known_job_ids", "array"), ("added", "integer?"), ("known", "integer?")),
        ["CancelRequest"] = Obj(("reason", "string")),
        ["Capability"] = Obj(("hostname", "string"), ("cores", "integer"), ("ram_gib", "number"), ("cuda", "boolean"), ("vram_gib", "number"),
            ("cuda_device", "string?"), ("torch_version", "string"), ("git_commit", "string"), ("os", "string"), ("families", "array?"),
            ("unavailable", "object?"), ("xgboost_version", "string?"), ("cuda_note", "string?")),
        ["ClaimRequest"] = Obj(("worker_id", "string"), ("capability", "#Capability")),
        ["Job"] = Obj(("job_id", "string"), ("model", "string"), ("mode", "string"), ("hyper", "object"), ("hyper_json", "string"), ("split_recipe", "string"),
            ("train_hosts", "array"), ("seed", "integer"), ("priority", "integer"), ("max_attempts", "integer")),
        ["ClaimResponse"] = Obj(("job", "#Job"), ("job_id", "string?"), ("lease_id", "integer?"), ("worker_id", "string"), ("status", "string?"),
            ("legacy_status", "string?"), ("heartbeat_deadline_s", "number"), ("heartbeat_interval_s", "number"), ("retry_after_s", "number"),
            ("reason", "string?"), ("capability", "#Capability"), ("ignored_fields", "array")),
        ["Progress"] = Obj(("epoch", "integer"), ("total_epochs", "integer"), ("loss", "number?"), ("val_macro_f1", "number?"), ("elapsed_seconds", "number"), ("message", "string")),
        ["HeartbeatRequest"] = Obj(("worker_id", "string"), ("lease_id", "integer"), ("progress", "#Progress")),
        ["CompleteRequest"] = Obj(("worker_id", "string"), ("lease_id", "integer"), ("sha256", "string"), ("metrics", "object")),
        ["FailRequest"] = Obj(("worker_id", "string"), ("lease_id", "integer"), ("error", "string")),
        ["LeaseResponse"] = Obj(("ok", "boolean"), ("job_id", "string"), ("lease_id", "integer"), ("status", "string"), ("sha256", "string?"), ("bytes", "integer?"), ("deduplicated", "boolean?")),
    };
}
