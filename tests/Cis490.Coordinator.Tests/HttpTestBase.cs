using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Akka.Actor;
using Akka.Configuration;
using Akka.Streams;
using Akka.TestKit.Xunit2;
using Cis490.Coordinator.Artifacts;
using Cis490.Coordinator.Http;
using Cis490.Coordinator.Jobs;
using Cis490.Coordinator.Operator;
using Cis490.Shared.Artifacts;
using Cis490.Shared.Config;
using Microsoft.Data.Sqlite;
using Xunit;

namespace Cis490.Coordinator.Tests;

/// <summary>A real JobCoordinator on a temporary SQLite journal, its operator endpoint, and the HTTP host on a free loopback port.</summary>
public abstract class HttpTestBase : TestKit, IAsyncLifetime
{
    protected const string Token = "http-test-token";
    /// <summary>The /v1 worker token of these tests; <see cref="Http"/> sends it on every request, as a configured worker does.</summary>
    protected const string WorkerTokenValue = "wk-9f3c1e7a5b2d4086c1e9a7f3";
    protected const string OneJob = "[[jobs]]\nmodel = \"knn\"\nmode = \"realistic\"\nhyper = { k = 3 }\n";
    protected const string TwoJobs = OneJob + "\n[[jobs]]\nmodel = \"knn\"\nmode = \"oracle\"\nhyper = { k = 5 }\n";

    protected readonly string Dir;

    /// <summary>Whether the /v1 worker endpoints take requests without a credential (<c>--v1-anonymous</c>), as the earlier fleet's
    /// unchanged workers need; <see cref="Http"/> then sends none.</summary>
    protected virtual bool Anonymous => false;
    protected HttpHost Host = null!;
    protected HttpClient Http = null!;

    protected HttpTestBase() : this(Directory.CreateTempSubdirectory("cis490-http-").FullName, "") { }

    /// <param name="extraConfig">HOCON over the tests' own (e.g. a longer claim-wait for a test that times claims).</param>
    protected HttpTestBase(string extraConfig) : this(Directory.CreateTempSubdirectory("cis490-http-").FullName, extraConfig) { }

    private HttpTestBase(string dir, string extraConfig) : base(ConfigurationFactory.ParseString(extraConfig).WithFallback(MakeConfig(dir)), "http-test") => Dir = dir;

    private static Config MakeConfig(string dir)
    {
        return TestConfig.Coordinator(dir, Token, """
            # Long enough that tests which heartbeat only now and then keep their lease on 2 busy cores; the expiry test waits it out.
            cis490.coordinator.heartbeat-deadline = 6s
            cis490.coordinator.lease-check-interval = 200ms
            # A query nobody answers must come back as a 504 quickly, not after production's 10 s.
            cis490.http.ask-timeout = 2s
            # The longest a claim may wait (?wait=N); short so the tests do not wait 20 s.
            cis490.http.claim-wait = 1500ms
            cis490.http.claim-poll-interval = 200ms
            cis490.http.retry-after = 2s
            # /v1 leases' own deadline, different from the worker nodes' 6 s so a test can tell which one ended a lease.
            cis490.http.legacy-heartbeat-deadline = 8s
            cis490.http.register-interval = 1s
            # Small limits, so the oversize tests send little.
            cis490.http.max-upload-size = 1MiB
            cis490.http.max-body-size = 64KiB
            """);
    }

    public async Task InitializeAsync()
    {
        var settings = CoordinatorSettings.From(Sys.Settings.Config);
        var coordinator = Sys.ActorOf(JobCoordinator.Props(settings), "coordinator");
        var endpoint = Sys.ActorOf(OperatorEndpoint.Props(coordinator, new OperatorToken(Token), settings.ManifestPath, settings.AskTimeout), OperatorEndpoint.Name);
        // The journal is created and recovered on first use, which can take seconds on a busy machine; the 2 s ask timeout
        // of the tests is for requests to a running coordinator.
        await coordinator.Ask<Protocols.Operator.OperatorProtocol.JobList>(new Protocols.Operator.OperatorProtocol.ListJobs(null, null), TimeSpan.FromSeconds(30));
        var workerToken = new Shared.Security.FleetToken(WorkerTokenValue, "worker token");
        Host = await HttpHost.StartAsync(Sys, coordinator, endpoint, HttpSettings.From(Sys.Settings.Config) with { Port = 0, V1Anonymous = Anonymous }, Token,
            Anonymous ? V1Access.Open() : V1Access.RequireToken(workerToken));
        Http = new HttpClient { BaseAddress = Host.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        if (!Anonymous) Http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", WorkerTokenValue);
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await Host.DisposeAsync();
        Shutdown();
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(Dir, true); } catch (IOException) { }
    }

    protected static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    protected static StringContent Json(object body) => new(JsonSerializer.Serialize(body, ApiJson.Options), Encoding.UTF8, "application/json");

    protected HttpRequestMessage WithToken(HttpMethod method, string path, HttpContent? content = null, string? token = Token)
    {
        var request = new HttpRequestMessage(method, path) { Content = content };
        if (token is not null) request.Headers.Add("X-Operator-Token", token);
        return request;
    }

    /// <summary>Sends and returns the status and the parsed JSON body (every answer of this API is JSON).</summary>
    protected async Task<(HttpStatusCode Status, JsonElement Body)> Send(HttpRequestMessage request)
    {
        using var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.Content.Headers.ContentType?.MediaType == "application/json", $"{request.Method} {request.RequestUri}: {(int)response.StatusCode} not JSON: {text}");
        Assert.True((int)response.StatusCode < 500 || response.StatusCode is HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout,
            $"{request.Method} {request.RequestUri}: {(int)response.StatusCode} {text}");
        return (response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    protected Task<(HttpStatusCode Status, JsonElement Body)> Get(string path) => Send(new HttpRequestMessage(HttpMethod.Get, path));

    protected Task<(HttpStatusCode Status, JsonElement Body)> Post(string path, object body) => Send(new HttpRequestMessage(HttpMethod.Post, path) { Content = Json(body) });

    protected async Task<IReadOnlyList<string>> Submit(string manifest)
    {
        var (status, body) = await Send(WithToken(HttpMethod.Post, "/api/manifest", new StringContent(manifest)));
        Assert.True(status == HttpStatusCode.OK, body.ToString());
        return body.GetProperty("added_job_ids").EnumerateArray().Select(e => e.GetString()!).ToList();
    }

    protected async Task<JsonElement> Job(string jobId)
    {
        var (status, body) = await Get("/api/jobs");
        Assert.Equal(HttpStatusCode.OK, status);
        return body.GetProperty("jobs").EnumerateArray().Single(j => j.GetProperty("job_id").GetString() == jobId);
    }

    /// <summary>Claims as <paramref name="workerId"/> and returns the job id and lease id (asserting a job came).</summary>
    protected async Task<(string JobId, long LeaseId)> Claim(string workerId = "py-1")
    {
        var (status, body) = await Post("/v1/job/claim", new { worker_id = workerId, capability = new { cores = 4, ram_gib = 8.0 } });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(body.GetProperty("job").ValueKind == JsonValueKind.Object, "no job came: " + body);
        return (body.GetProperty("job").GetProperty("job_id").GetString()!, body.GetProperty("lease_id").GetInt64());
    }

    protected (string Path, string Sha, long Bytes) MakeBundle(string name = "ckpt")
    {
        var src = Directory.CreateDirectory(Path.Combine(Dir, name)).FullName;
        File.WriteAllText(Path.Combine(src, "ckpt.json"), "{\"model\":\"knn\"}");
        File.WriteAllBytes(Path.Combine(src, "knn_sidecar.bin"), Enumerable.Range(0, 200_000).Select(i => (byte)(i * 13)).ToArray());
        var path = Path.Combine(Dir, name + ".tar.zst");
        var (sha, bytes) = ArtifactBundle.Create(src, path);
        return (path, sha, bytes);
    }

    protected Task<(HttpStatusCode Status, JsonElement Body)> Upload(string jobId, long leaseId, byte[] bytes, string workerId = "py-1", string? metrics = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Put, $"/v1/model/{jobId}?worker_id={workerId}&lease_id={leaseId}") { Content = new ByteArrayContent(bytes) };
        if (metrics is not null) request.Headers.Add("X-Metrics", metrics);
        return Send(request);
    }

    /// <summary>Uploads being spooled or left behind (none once every request has been answered).</summary>
    protected string[] SpooledFiles() => Directory.GetFiles(Path.Combine(Dir, "http-incoming"));

    protected IReadOnlyList<ArtifactIndexRow> IndexRows() => new ArtifactRepository(Path.Combine(Dir, "models")).ReadIndex();

    /// <summary>Events in the journal (a group-committed write is one row).</summary>
    protected long JournalEvents() => Cis490.Testing.JournalEvents.Count(new SqliteConnection($"Data Source={Path.Combine(Dir, "journal.db")}"));

    protected static void AssertError(HttpStatusCode expected, (HttpStatusCode Status, JsonElement Body) answer, string code, string? mentions = null)
    {
        Assert.True(expected == answer.Status, $"expected {(int)expected}, got {(int)answer.Status}: {answer.Body}");
        Assert.Equal(code, answer.Body.GetProperty("code").GetString());
        Assert.Equal((int)expected, answer.Body.GetProperty("status").GetInt32());
        if (mentions is not null) Assert.Contains(mentions, answer.Body.GetProperty("error").GetString());
    }
}
