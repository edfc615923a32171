using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Cis490.Coordinator.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Cis490.Coordinator.Tests;

/// <summary>The <c>/api</c> endpoints against a real coordinator: reads, the token-guarded operations, the OpenAPI document,
/// and that bad requests get a JSON 4xx and change nothing.</summary>
public sealed class HttpApiTests : HttpTestBase
{
    [Fact]
    public async Task Health_is_ok_and_a_manifest_submitted_over_http_shows_in_the_job_list_with_its_filters()
    {
        var (healthStatus, health) = await Get("/api/health");
        var added = await Submit(TwoJobs);
        var (_, all) = await Get("/api/jobs");
        var (_, oracle) = await Get("/api/jobs?status=pending&model=knn");
        var (_, none) = await Get("/api/jobs?status=completed");
        var (_, v1) = await Get("/v1/jobs");

        Assert.Equal(HttpStatusCode.OK, healthStatus);
        Assert.Equal("reachable", health.GetProperty("coordinator").GetString());
        Assert.True(health.GetProperty("detail").GetProperty("writes_in_flight").GetInt32() >= 0); // the singleton's own answer
        var (_, after) = await Get("/api/health");
        Assert.Equal(2, after.GetProperty("detail").GetProperty("jobs").GetInt32());
        Assert.True(after.GetProperty("detail").GetProperty("journal_sequence_nr").GetInt64() >= 1); // the manifest's events: one entry
        Assert.Equal(2, added.Count);
        Assert.Equal(added.Order(), all.GetProperty("jobs").EnumerateArray().Select(j => j.GetProperty("job_id").GetString()).Order());
        Assert.Equal(2, oracle.GetProperty("jobs").GetArrayLength());
        Assert.Equal(0, none.GetProperty("jobs").GetArrayLength());
        Assert.Equal(2, v1.GetProperty("jobs").GetArrayLength());
        Assert.Equal("pending", all.GetProperty("jobs")[0].GetProperty("status").GetString());
    }

    [Fact]
    public async Task Every_mapped_route_is_described_in_the_served_openapi_document()
    {
        var routes = Host.App.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"]).Select(m => (Method: m.ToLowerInvariant(), Path: "/" + e.RoutePattern.RawText!.TrimStart('/'))))
            .ToList();
        using var response = await Http.GetAsync("/api/openapi.json");
        var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        var paths = doc.GetProperty("paths");

        Assert.True(routes.Count >= 24, $"only {routes.Count} routes mapped");
        foreach (var (method, path) in routes)
            Assert.True(paths.TryGetProperty(path, out var item) && item.TryGetProperty(method, out _), $"{method.ToUpperInvariant()} {path} is mapped but not in the OpenAPI document");
        // And nothing described that is not served.
        Assert.Equal(routes.Order(), OpenApiDocument.Operations.Order());
        Assert.Equal("3.0.3", doc.GetProperty("openapi").GetString());
    }

    public static TheoryData<string, string> Guarded => new()
    {
        { "POST", "/api/jobs/{id}/cancel" },
        { "POST", "/api/jobs/{id}/requeue" },
        { "POST", "/api/manifest" },
        { "POST", "/v1/job/{id}/cancel" },
        { "POST", "/v1/job/{id}/requeue" },
        { "POST", "/v1/manifest/reload" },
    };

    [Theory]
    [MemberData(nameof(Guarded))]
    public async Task A_mutating_request_without_the_token_is_401_with_a_wrong_one_403_and_nothing_changes(string method, string route)
    {
        var jobId = (await Submit(OneJob)).Single();
        var rows = JournalEvents();
        var path = route.Replace("{id}", jobId);
        HttpContent Body() => new StringContent(route.Contains("manifest") ? TwoJobs : "{\"reason\":\"x\"}");

        var missing = await Send(WithToken(new HttpMethod(method), path, Body(), token: null));
        var wrong = await Send(WithToken(new HttpMethod(method), path, Body(), token: Token + "x"));

        AssertError(HttpStatusCode.Unauthorized, missing, "token_required", "X-Operator-Token");
        AssertError(HttpStatusCode.Forbidden, wrong, "token_wrong", "wrong operator token");
        Assert.Equal(rows, JournalEvents());
        Assert.Equal("pending", (await Job(jobId)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Cancel_and_requeue_over_http_change_the_job_and_an_unknown_or_repeated_one_is_a_4xx()
    {
        var jobId = (await Submit(OneJob)).Single();

        var cancel = await Send(WithToken(HttpMethod.Post, $"/api/jobs/{jobId[..10]}/cancel", Json(new { reason = "wrong data" })));
        var again = await Send(WithToken(HttpMethod.Post, $"/api/jobs/{jobId}/cancel"));
        var unknown = await Send(WithToken(HttpMethod.Post, "/api/jobs/ffffffffffff/cancel"));
        var tooShort = await Send(WithToken(HttpMethod.Post, "/v1/job/abc/requeue"));
        var rows = JournalEvents();
        var requeue = await Send(WithToken(HttpMethod.Post, $"/v1/job/{jobId}/requeue"));

        Assert.Equal(HttpStatusCode.OK, cancel.Status);
        Assert.Equal("cancelled", cancel.Body.GetProperty("status").GetString());
        AssertError(HttpStatusCode.Conflict, again, "conflict", "already cancelled");
        AssertError(HttpStatusCode.NotFound, unknown, "not_found", "ffffffffffff");
        AssertError(HttpStatusCode.NotFound, tooShort, "not_found", "abc");
        Assert.Equal(HttpStatusCode.OK, requeue.Status);
        Assert.Equal(rows + 1, JournalEvents());
        Assert.Equal("pending", (await Job(jobId)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task An_invalid_manifest_is_a_400_with_each_error_and_its_line_and_adds_nothing()
    {
        await Submit(OneJob);
        var rows = JournalEvents();

        var invalid = await Send(WithToken(HttpMethod.Post, "/api/manifest?file=bad.toml", new StringContent("[[jobs]]\nmodel = \"knn\"\nmode = \"oracle\"\n\n[[jobs]]\nmodel = \"gpt-9\"\nmode = \"oracle\"\n")));
        var syntax = await Send(WithToken(HttpMethod.Post, "/v1/manifest/reload", new StringContent("[[jobs]]\nmodel = \"knn\nmode = 1\n")));
        var empty = await Send(WithToken(HttpMethod.Post, "/v1/manifest/reload"));
        var notText = await Send(WithToken(HttpMethod.Post, "/api/manifest", new ByteArrayContent([0xff, 0xfe, 0x00, 0x80])));

        AssertError(HttpStatusCode.BadRequest, invalid, "manifest_invalid", "gpt-9");
        var detail = invalid.Body.GetProperty("details")[0];
        Assert.Equal(("bad.toml", 6), (detail.GetProperty("file").GetString(), detail.GetProperty("line").GetInt32()));
        AssertError(HttpStatusCode.BadRequest, syntax, "manifest_invalid", "http.toml:2");
        AssertError(HttpStatusCode.BadRequest, empty, "bad_request", "--manifest"); // started without one: nothing to reload
        AssertError(HttpStatusCode.BadRequest, notText, "bad_request", "UTF-8");
        Assert.Equal(rows, JournalEvents());
    }

    public static TheoryData<string, string, string, string> BadRequests => new()
    {
        // method, path, body, what the error must mention
        { "POST", "/v1/job/claim", "{\"worker_id\": \"py-1\",", "malformed JSON" },
        { "POST", "/v1/job/claim", "[1, 2]", "must be an object" },
        { "POST", "/v1/job/claim", "{\"worker_id\": {\"name\": 7}}", "worker_id: must be text" },
        { "POST", "/v1/job/claim", "{\"worker_id\": \"../etc\"}", "worker_id '../etc'" },
        { "POST", "/v1/job/claim", "{\"worker_id\": \"w\", \"capability\": {\"cores\": \"many\"}}", "capability.cores" },
        { "POST", "/v1/job/claim", "{\"worker_id\": \"w\", \"cpu_count\": 2.5}", "cpu_count: must be a whole number" },
        { "POST", "/v1/job/claim", "{\"worker_id\": \"w\", \"cuda\": \"maybe\"}", "cuda: must be true or false" },
        { "POST", "/v1/job/claim", "{\"worker_id\": \"w\", \"ram\": \"lots\"}", "ram: must be a number" },
        { "POST", "/v1/job/claim?wait=soon", "{\"worker_id\": \"w\"}", "wait must be a number of seconds" },
        { "POST", "/v1/job/{id}/heartbeat", "{\"worker_id\": \"py-1\", \"lease_id\": \"one\"}", "lease_id: must be a number" },
        { "POST", "/v1/job/{id}/heartbeat", "{\"worker_id\": \"py-1\", \"progress\": 250}", "progress: as a number must be a fraction" },
        { "POST", "/v1/job/{id}/heartbeat", "{\"worker_id\": \"py-1\", \"progress\": [1]}", "progress: must be a number, text or an object" },
        { "POST", "/v1/job/{id}/heartbeat", "{\"progress\": {\"epoch\": \"three\"}}", "progress.epoch: must be a number" },
        { "POST", "/v1/job/{id}/complete", "{\"worker_id\": \"py-1\", \"lease_id\": -4}", "lease_id: must be positive" },
        { "POST", "/v1/job/{id}/complete", "{\"sha256\": \"abc\"}", "sha256: must be a sha256" },
        { "POST", "/v1/job/{id}/complete", "{\"metrics\": {\"val_macro_f1\": \"good\"}}", "metrics.val_macro_f1: must be a number" },
        { "POST", "/v1/job/{id}/fail", "null", "null" },
        { "PUT", "/v1/model/{id}?worker_id=py-1&lease_id=0", "xx", "lease_id: must be positive" },
        { "PUT", "/v1/model/{id}?worker_id=py-1&lease_id=x1", "xx", "lease_id: must be a whole number" },
        { "PUT", "/v1/model/{id}?worker_id=bad%20id&lease_id=1", "xx", "worker_id 'bad id'" },
        { "PUT", "/v1/model/{id}?sha256=xyz", "xx", "sha256: must be a sha256" },
        { "PUT", "/v1/model/{id}?worker_id=py-1&lease_id=1", "", "empty" },
        { "GET", "/api/jobs?status=done", "", "unknown status 'done'" },
        { "GET", "/api/jobs/{id}/logs?after=-1", "", "after must be a line number" },
        { "GET", "/api/artifacts/xyz", "", "not a sha256" },
        { "POST", "/api/jobs/{id}/cancel", "{\"reason\": ", "malformed JSON" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task A_malformed_request_is_a_400_naming_what_is_wrong_and_changes_nothing(string method, string path, string body, string mentions)
    {
        var jobId = (await Submit(OneJob)).Single();
        var rows = JournalEvents();
        var request = new HttpRequestMessage(new HttpMethod(method), path.Replace("{id}", jobId));
        if (method != "GET") request.Content = Json(body);
        if (path.Contains("cancel")) request.Headers.Add("X-Operator-Token", Token);

        var answer = await Send(request);

        AssertError(HttpStatusCode.BadRequest, answer, "bad_request", mentions);
        Assert.Equal(rows, JournalEvents());
        Assert.Equal("pending", (await Job(jobId)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_bad_metrics_header_on_an_upload_is_a_400_before_the_body_is_read()
    {
        var jobId = (await Submit(OneJob)).Single();
        var answer = await Upload(jobId, 1, [1, 2, 3], metrics: "{\"f1\": \"high\"}");

        AssertError(HttpStatusCode.BadRequest, answer, "bad_request", "X-Metrics");
        Assert.Equal("X-Metrics", answer.Body.GetProperty("field").GetString());
    }

    [Fact]
    public async Task A_json_body_over_max_body_size_is_a_413_and_an_unknown_route_or_method_a_json_404_or_405()
    {
        var big = "{\"worker_id\": \"py-1\", \"pad\": \"" + new string('x', 70 * 1024) + "\"}";
        var tooLarge = await Send(new HttpRequestMessage(HttpMethod.Post, "/v1/job/claim") { Content = Json(big) });
        var unknown = await Get("/api/nothing-here");
        var wrongMethod = await Send(new HttpRequestMessage(HttpMethod.Delete, "/api/jobs"));

        AssertError(HttpStatusCode.RequestEntityTooLarge, tooLarge, "too_large", "max-body-size");
        AssertError(HttpStatusCode.NotFound, unknown, "not_found", "/api/nothing-here");
        AssertError(HttpStatusCode.MethodNotAllowed, wrongMethod, "method_not_allowed");
    }

    public static TheoryData<string> Queries => new()
    {
        "/api/status", "/api/workers", "/api/artifacts", "/api/cluster", "/v1/workers",
        "/api/jobs/0123456789abcdef", "/api/jobs/0123456789abcdef/logs?after=3", "/api/artifacts/0123456789abcdef",
    };

    [Theory]
    [MemberData(nameof(Queries))]
    public async Task A_read_query_answers_json_within_the_ask_timeout_whether_or_not_the_coordinator_serves_it(string path)
    {
        var clock = Stopwatch.StartNew();
        var (status, body) = await Get(path);

        // 504 where the coordinator does not answer this query yet (on this branch the shell's handlers are missing); once it
        // does, 200 or, for the made-up ids, 404. Never a 500 and never a hang.
        Assert.Contains(status, new[] { HttpStatusCode.OK, HttpStatusCode.NotFound, HttpStatusCode.GatewayTimeout });
        if (status == HttpStatusCode.GatewayTimeout) AssertError(HttpStatusCode.GatewayTimeout, (status, body), "coordinator_timeout", "did not answer");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"{path} took {clock.Elapsed}");
    }

    [Fact]
    public void The_http_status_of_a_refusal_comes_from_its_kind_so_rewording_it_changes_nothing()
    {
        static int Code(IResult r) => ((IStatusCodeHttpResult)r).StatusCode ?? 200;
        var t0 = DateTimeOffset.Parse("2026-12-01T00:00:00Z");
        var state = Jobs.CoordinatorState.Initial(new Jobs.CoordinatorPolicy(TimeSpan.FromSeconds(30), Jobs.RetryPolicy.None, TimeSpan.Zero));
        state = state.Decide(new Protocols.Operator.OperatorProtocol.SubmitManifest("m.toml", TestConfig.OneKnnJob), t0).State;
        var jobId = state.Table.Jobs.Keys.Single();
        state = state.Decide(new Protocols.Operator.OperatorProtocol.CancelJob(jobId, "x"), t0).State;

        // Refusals as the coordinator really makes them: an unknown id, a job already finished, one too short to be an id.
        var cases = new (object Request, int Status)[]
        {
            (new Protocols.Operator.OperatorProtocol.CancelJob("ffffffffffff", "x"), 404),
            (new Protocols.Operator.OperatorProtocol.CancelJob(jobId, "again"), 409),
            (new Protocols.Operator.OperatorProtocol.RequeueJob("abc"), 404),
        };
        foreach (var (request, expected) in cases)
        {
            var reply = (Protocols.Operator.OperatorProtocol.OperatorResult)state.Decide(request, t0).Replies.Single();
            Assert.Equal(expected, Code(OperatorReplies.Operation(reply)));
            // Wording that once decided the status ("operator token", "no job") now decides nothing.
            foreach (var wording in new[] { "refused: wrong operator token", "no job id starts with 'x'", "c'est refusé" })
                Assert.Equal(expected, Code(OperatorReplies.Operation(reply with { Message = wording })));
        }

        var unknown = (Protocols.Operator.OperatorProtocol.OperatorError)state.Decide(new Protocols.Operator.OperatorQueries.ShowJob("ffffffffffff"), t0).Replies.Single();
        Assert.Equal(404, Code(OperatorReplies.Read<Protocols.Operator.OperatorQueries.JobDetail>(unknown with { Message = "wrong operator token" }, "ffffffffffff")));
        Assert.Equal(502, Code(OperatorReplies.Read<Protocols.Operator.OperatorProtocol.JobList>("something else")));
    }

    [Fact]
    public void Every_kind_of_refusal_has_its_own_status_code()
    {
        var codes = Enum.GetValues<Protocols.ErrorKind>().ToDictionary(k => k, k => OperatorReplies.StatusOf(k));
        Assert.Equal(400, codes[Protocols.ErrorKind.Invalid].Status);
        Assert.Equal(404, codes[Protocols.ErrorKind.NotFound].Status);
        Assert.Equal(409, codes[Protocols.ErrorKind.Conflict].Status);
        Assert.Equal(409, codes[Protocols.ErrorKind.StaleLease].Status);
        Assert.Equal(401, codes[Protocols.ErrorKind.Unauthorized].Status);
        Assert.Equal(403, codes[Protocols.ErrorKind.Forbidden].Status);
        Assert.Equal(413, codes[Protocols.ErrorKind.TooLarge].Status);
        Assert.Equal(503, codes[Protocols.ErrorKind.Unavailable].Status);
        Assert.All(codes.Values, c => Assert.NotEqual(500, c.Status)); // no kind falls through to "unknown"
    }
}
