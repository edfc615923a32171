using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Cis490.Coordinator.Http;
using Xunit;

namespace Cis490.Coordinator.Tests;

/// <summary>The <c>/v1</c> worker endpoints' defences (issue 14): the worker credential, JSON bodies only, validated capability
/// values, JSON bodies on every error (the framework's too), 404 for unknown job ids.</summary>
public sealed class HttpSecurityTests : HttpTestBase
{
    /// <summary>A client with no credential at all, as a rogue program or a browser page is.</summary>
    private HttpClient Bare() => new() { BaseAddress = Host.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };

    private static async Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> SendWith(HttpClient client, HttpRequestMessage request)
    {
        var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.Content.Headers.ContentType?.MediaType == "application/json", $"{request.Method} {request.RequestUri}: {(int)response.StatusCode} not JSON: '{text}'");
        return (response.StatusCode, JsonDocument.Parse(text).RootElement.Clone(), response);
    }

    private async Task<int> WorkerCount()
    {
        var (status, body) = await Get("/api/workers");
        Assert.Equal(HttpStatusCode.OK, status);
        return body.GetProperty("workers").GetArrayLength();
    }

    [Fact]
    public async Task The_v1_worker_endpoints_are_401_without_the_worker_token_or_with_a_wrong_one_and_work_with_it_in_any_accepted_header()
    {
        var jobId = (await Submit(OneJob)).Single();
        using var bare = Bare();
        var lease = new { worker_id = "rogue", lease_id = 1 };
        (HttpMethod Method, string Path, HttpContent? Body)[] calls =
        [
            (HttpMethod.Post, "/v1/job/claim", Json(new { worker_id = "rogue", capability = new { cores = 4 } })),
            (HttpMethod.Post, $"/v1/job/{jobId}/heartbeat", Json(lease)),
            (HttpMethod.Post, $"/v1/job/{jobId}/complete", Json(lease)),
            (HttpMethod.Post, $"/v1/job/{jobId}/fail", Json(new { worker_id = "rogue", lease_id = 1, error = "x" })),
            (HttpMethod.Put, $"/v1/model/{jobId}?worker_id=rogue&lease_id=1", new ByteArrayContent([1, 2, 3])),
        ];
        foreach (var (method, path, body) in calls)
        {
            var missing = await SendWith(bare, new HttpRequestMessage(method, path) { Content = body });
            Assert.True(missing.Status == HttpStatusCode.Unauthorized, $"{method} {path} without a token: {(int)missing.Status} {missing.Body}");
            Assert.Equal("worker_token_required", missing.Body.GetProperty("code").GetString());
            Assert.Contains("Bearer", missing.Response.Headers.WwwAuthenticate.ToString());
        }
        var wrong = new HttpRequestMessage(HttpMethod.Post, "/v1/job/claim") { Content = Json(new { worker_id = "rogue" }) };
        wrong.Headers.Add("X-Worker-Token", WorkerTokenValue + "x");
        var refused = await SendWith(bare, wrong);
        var operatorTokenIsNotAWorkerTokenButOpensToo = new HttpRequestMessage(HttpMethod.Get, "/v1/health");

        Assert.Equal((HttpStatusCode.Unauthorized, "worker_token_wrong"), (refused.Status, refused.Body.GetProperty("code").GetString()));
        Assert.DoesNotContain(WorkerTokenValue, refused.Body.ToString());
        Assert.Equal(0, await WorkerCount());
        Assert.Equal("pending", (await Job(jobId)).GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.OK, (await bare.SendAsync(operatorTokenIsNotAWorkerTokenButOpensToo)).StatusCode); // health needs nothing

        // The same claim with the token in each accepted header: Bearer (HttpTestBase's client), X-Worker-Token, and X-Operator-Token
        // (what an earlier-fleet worker sends from CIS490_OPERATOR_TOKEN).
        var (claimed, _) = await Claim("py-bearer");
        foreach (var header in new[] { "X-Worker-Token", "X-Operator-Token" })
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/v1/job/claim") { Content = Json(new { worker_id = "py-" + header[2..8].ToLowerInvariant() }) };
            request.Headers.Add(header, WorkerTokenValue);
            var answer = await SendWith(bare, request);
            Assert.True(answer.Status == HttpStatusCode.OK, $"{header}: {(int)answer.Status} {answer.Body}");
        }
        Assert.Equal(jobId, claimed);
        Assert.Equal(3, await WorkerCount());
    }

    [Theory]
    [InlineData("text/plain", "{\"worker_id\":\"script\"}")]
    [InlineData("application/x-www-form-urlencoded", "worker_id=script")]
    [InlineData(null, "{\"worker_id\":\"script\"}")]
    public async Task A_body_that_is_not_labelled_json_is_read_when_it_carries_the_worker_token_which_no_page_can_send_unasked(string? contentType, string body)
    {
        // A credential header makes a browser ask first (CORS preflight, never approved), so with the token the label does not
        // matter: urllib labels JSON a form unless told otherwise.
        await Submit(OneJob);
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        if (contentType is not null) content.Headers.TryAddWithoutValidation("Content-Type", contentType);

        var answer = await Send(new HttpRequestMessage(HttpMethod.Post, "/v1/job/claim") { Content = content });

        Assert.True(answer.Status == HttpStatusCode.OK, answer.Body.ToString());
        Assert.Equal("script", answer.Body.GetProperty("worker_id").GetString());
        Assert.Equal(1, await WorkerCount());
    }

    public static TheoryData<string, string> HostileCapabilities => new()
    {
        { "{\"hostname\":\"pi\\u0000evil\"}", "capability.hostname" },
        { "{\"hostname\":\"gpu\\u202Egnp.exe\"}", "capability.hostname" },
        { "{\"hostname\":\"<script>alert(1)</script>\"}", "capability.hostname" },
        { "{\"hostname\":\"\\u001b]0;pwned\\u0007\"}", "capability.hostname" },
        { "{\"cores\":1000000000}", "capability.cores" },
        { "{\"cores\":1e9}", "capability.cores" },
        { "{\"cores\":0}", "capability.cores" },
        { "{\"vram_gib\":1e308}", "capability.vram_gib" },
        { "{\"ram_gib\":-1}", "capability.ram_gib" },
        { "{\"ram_gib\":\"NaN\"}", "capability.ram_gib" },
        { "{\"cuda_device\":\"RTX\\u001b[2J\"}", "capability.cuda_device" },
        { "{\"cuda_device\":\"<img src=x onerror=alert(1)>\"}", "capability.cuda_device" },
        { "{\"os\":\"Linux\\u2066x\"}", "capability.os" },
        { "{\"torch_version\":\"2.1 ; rm -rf /\"}", "capability.torch_version" },
        { "{\"git_commit\":\"" + "a" + "\"}", "" }, // fine: a control row, the claim is taken
    };

    [Theory]
    [MemberData(nameof(HostileCapabilities))]
    public async Task A_hostile_capability_value_is_a_400_naming_the_field_and_is_never_registered_or_served_back(string capability, string field)
    {
        var answer = await Send(new HttpRequestMessage(HttpMethod.Post, "/v1/job/claim") { Content = Json($"{{\"worker_id\":\"hostile-1\",\"capability\":{capability}}}") });
        var (_, workers) = await Get("/api/workers");
        var (_, v1Workers) = await Get("/v1/workers");

        if (field.Length == 0)
        {
            Assert.Equal(HttpStatusCode.OK, answer.Status);
            Assert.Contains("hostile-1", workers.ToString());
            return;
        }
        AssertError(HttpStatusCode.BadRequest, answer, "bad_request", field);
        Assert.Equal(field, answer.Body.GetProperty("field").GetString());
        foreach (var listed in new[] { workers, v1Workers })
        {
            Assert.Equal(0, listed.GetProperty("workers").GetArrayLength());
            Assert.DoesNotContain("script", listed.ToString());
        }
    }

    [Fact]
    public async Task A_progress_message_with_an_escape_sequence_is_a_400_and_a_failure_text_is_kept_with_its_controls_made_visible()
    {
        var jobId = (await Submit(OneJob)).Single();
        var (_, leaseId) = await Claim();

        var beat = await Post($"/v1/job/{jobId}/heartbeat", new { worker_id = "py-1", lease_id = leaseId, progress = new { epoch = 1, message = "\u001b[2Jgone" } });
        var fail = await Post($"/v1/job/{jobId}/fail", new { worker_id = "py-1", lease_id = leaseId, error = "Traceback:\n  \u001b[31mboom\u202e" });
        var job = await Job(jobId);

        AssertError(HttpStatusCode.BadRequest, beat, "bad_request", "progress.message");
        Assert.Equal(HttpStatusCode.OK, fail.Status);
        var error = job.GetProperty("last_error").GetString()!;
        Assert.Equal("Traceback:\n  \\x1b[31mboom\\u202e", error);
    }

    [Fact]
    public async Task Unknown_job_ids_on_the_worker_endpoints_are_404_and_a_known_job_with_a_stale_lease_stays_409()
    {
        var jobId = (await Submit(OneJob)).Single();
        var (_, leaseId) = await Claim();
        var unknown = new string('f', 64);
        var lease = new { worker_id = "py-1", lease_id = leaseId };

        var beat = await Post($"/v1/job/{unknown}/heartbeat", lease);
        var complete = await Post($"/v1/job/{unknown}/complete", lease);
        var fail = await Post($"/v1/job/{unknown}/fail", lease);
        var upload = await Upload(unknown, leaseId, [1, 2, 3]);
        var prefix = await Post($"/v1/job/{jobId[..12]}/heartbeat", lease); // a prefix names no job here: workers send full ids
        var stale = await Post($"/v1/job/{jobId}/heartbeat", new { worker_id = "py-1", lease_id = leaseId + 7 });

        foreach (var answer in new[] { beat, complete, fail, upload, prefix }) AssertError(HttpStatusCode.NotFound, answer, "not_found", "no job");
        AssertError(HttpStatusCode.Conflict, stale, "stale_lease");
    }

    /// <summary>Sends raw bytes (what no HTTP client library would send) and returns the status line and the body.</summary>
    private async Task<(int Status, string ContentType, string Body)> Raw(byte[] request)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(Host.BaseAddress.Host, Host.BaseAddress.Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(request);
        using var read = new MemoryStream();
        var buffer = new byte[16 * 1024];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        int n;
        while ((n = await stream.ReadAsync(buffer, timeout.Token)) > 0) read.Write(buffer, 0, n);
        var text = Encoding.Latin1.GetString(read.ToArray());
        var head = text[..text.IndexOf("\r\n\r\n", StringComparison.Ordinal)];
        var status = int.Parse(head.Split(' ')[1]);
        var type = head.Split("\r\n").FirstOrDefault(l => l.StartsWith("Content-Type:", StringComparison.OrdinalIgnoreCase))?[13..].Trim() ?? "";
        var body = text[(head.Length + 4)..];
        if (head.Contains("Transfer-Encoding: chunked", StringComparison.OrdinalIgnoreCase)) body = Dechunk(body);
        return (status, type, body);
    }

    private static string Dechunk(string chunked)
    {
        var sb = new StringBuilder();
        var at = 0;
        while (true)
        {
            var end = chunked.IndexOf("\r\n", at, StringComparison.Ordinal);
            var size = Convert.ToInt32(chunked[at..end], 16);
            if (size == 0) return sb.ToString();
            sb.Append(chunked, end + 2, size);
            at = end + 2 + size + 2;
        }
    }

    private static byte[] Request(string target, string extraHeaders = "") =>
        Encoding.Latin1.GetBytes($"GET {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n{extraHeaders}\r\n");

    [Fact]
    public async Task Requests_the_framework_would_refuse_with_an_empty_body_get_a_json_error_that_says_what_is_wrong()
    {
        var latin1 = Request("/v1/health", "X-Worker-Id: caf\u00e9\r\n");
        var hugeHeader = Request("/v1/health", $"X-Filler: {new string('a', 40 * 1024)}\r\n");
        var longLine = Request("/v1/jobs?status=" + new string('x', 10 * 1024));
        (string What, byte[] Bytes, int Status, string Mentions)[] cases =
        [
            ("NUL in the path", Request("/v1/job/ab%00cd/heartbeat"), 400, "NUL"),
            ("a raw NUL byte in the path", Request("/v1/job/ab\0cd/heartbeat"), 400, "NUL"),
            ("an ESC in the path", Request("/v1/job/ab%1Bcd/heartbeat"), 400, "\\x1b"),
            ("a 100 KB request line", Request("/v1/jobs?status=" + new string('x', 100 * 1024)), 414, "max-request-line"),
            ("an RTL override in the path", Request("/api/jobs/ab%E2%80%AEcd"), 400, "\\u202e"),
            ("a Latin-1 header", latin1, 400, "X-Worker-Id"),
            ("a 40 KB header", hugeHeader, 431, "max-header-bytes"),
            ("a 10 KB request line", longLine, 414, "max-request-line"),
        ];
        foreach (var (what, bytes, status, mentions) in cases)
        {
            var (got, type, body) = await Raw(bytes);
            Assert.True(got == status, $"{what}: expected {status}, got {got}: '{body}'");
            Assert.True(type.StartsWith("application/json", StringComparison.Ordinal), $"{what}: not JSON ({type}): '{body}'");
            var json = JsonDocument.Parse(body).RootElement;
            Assert.Equal(status, json.GetProperty("status").GetInt32());
            Assert.Contains(mentions, json.GetProperty("error").GetString());
        }
    }

    [Fact]
    public void Anonymous_v1_endpoints_are_refused_together_with_a_bind_beyond_loopback()
    {
        var settings = HttpSettings.From(Sys.Settings.Config) with { Port = 8080, V1Anonymous = true };

        Assert.Null((settings with { Bind = "127.0.0.1" }).Refusal());
        Assert.Null((settings with { Bind = "::1" }).Refusal());
        Assert.Contains("--v1-anonymous", (settings with { Bind = "0.0.0.0" }).Refusal());
        Assert.Contains("refused", (settings with { Bind = "192.168.1.20" }).Refusal());
        Assert.Null((settings with { Bind = "0.0.0.0", V1Anonymous = false }).Refusal());
    }

    [Fact]
    public void Settings_and_access_objects_never_print_a_token()
    {
        var settings = Jobs.CoordinatorSettings.From(Sys.Settings.Config);

        Assert.Equal(Token, settings.OperatorToken);
        Assert.DoesNotContain(Token, settings.ToString());
        Assert.Contains("OperatorToken = (not shown)", settings.ToString());
        Assert.DoesNotContain(WorkerTokenValue, Host.Api.V1.ToString());
        Assert.DoesNotContain(Token, new Operator.OperatorToken(Token).ToString());
    }
}
