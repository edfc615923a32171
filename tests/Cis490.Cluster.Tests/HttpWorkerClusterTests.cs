using System.Net;
using System.Text;
using System.Text.Json;
using Cis490.Protocols.Jobs;
using Cis490.Shared.Artifacts;
using Cis490.Shell.Demo;
using Xunit;

namespace Cis490.Cluster.Tests;

/// <summary>A real coordinator process serving HTTP (<c>--http-port</c>), driven by an HTTP worker the way the earlier fleet's Python
/// workers do: claim → heartbeat → upload → complete, and a stale lease refused.</summary>
[Collection(ClusterCollection.Name)]
public sealed class HttpWorkerClusterTests
{
    private const string Jobs = "[[jobs]]\nmodel = \"knn\"\nmode = \"realistic\"\nhyper = { k = 3 }\n\n[[jobs]]\nmodel = \"knn\"\nmode = \"oracle\"\nhyper = { k = 3 }\n";

    private static async Task<(HttpStatusCode Status, JsonElement Body)> Send(HttpClient http, HttpMethod method, string path, HttpContent? content = null, string? token = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        if (token is not null) request.Headers.Add("X-Operator-Token", token);
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return (response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    private static StringContent Json(object body) =>
        new(JsonSerializer.Serialize(body, new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower }), Encoding.UTF8, "application/json");

    private static async Task<(string JobId, long LeaseId)> Claim(HttpClient http, string worker)
    {
        var (status, body) = await Send(http, HttpMethod.Post, "/v1/job/claim", Json(new { worker_id = worker, capability = new { hostname = "py-box", cores = 2 } }));
        Assert.True(status == HttpStatusCode.OK && body.GetProperty("job").ValueKind == JsonValueKind.Object, $"{(int)status} {body}");
        return (body.GetProperty("job").GetProperty("job_id").GetString()!, body.GetProperty("lease_id").GetInt64());
    }

    private static async Task<JsonElement> Job(HttpClient http, string jobId)
    {
        var (_, body) = await Send(http, HttpMethod.Get, "/v1/jobs");
        return body.GetProperty("jobs").EnumerateArray().Single(j => j.GetProperty("job_id").GetString() == jobId);
    }

    [Fact]
    public async Task An_http_worker_trains_a_job_through_v1_on_a_real_coordinator_process_and_a_stale_lease_is_refused()
    {
        await using var h = new ClusterHarness(features: "");
        var httpPort = NodeProcess.FreePort();
        await h.StartCoordinator("--http-port", httpPort.ToString());
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}"), Timeout = TimeSpan.FromSeconds(60) };
        Assert.Equal(HttpStatusCode.OK, (await Send(http, HttpMethod.Get, "/v1/health")).Status);
        // Without the worker token the coordinator made on its first start, a claim is a 401; with it (as an upgraded worker
        // sends it), the earlier fleet's flow below works unchanged.
        Assert.Equal(HttpStatusCode.Unauthorized, (await Send(http, HttpMethod.Post, "/v1/job/claim", Json(new { worker_id = "py-1" }))).Status);
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", h.WorkerToken);
        var (submitted, added) = await Send(http, HttpMethod.Post, "/api/manifest?file=jobs.toml", new StringContent(Jobs), h.Token);
        Assert.True(submitted == HttpStatusCode.OK, added.ToString());

        // A real bundle, as a worker makes it (tar + zstd), of a small checkpoint folder.
        var ckpt = Directory.CreateDirectory(Path.Combine(h.DataDir, "py-ckpt")).FullName;
        await File.WriteAllTextAsync(Path.Combine(ckpt, "ckpt.json"), "{\"model\":\"knn\",\"mode\":\"realistic\"}");
        await File.WriteAllBytesAsync(Path.Combine(ckpt, "knn_sidecar.bin"), Enumerable.Range(0, 400_000).Select(i => (byte)(i % 251)).ToArray());
        var bundle = Path.Combine(h.DataDir, "py-bundle.tar.zst");
        var (sha, bytes) = ArtifactBundle.Create(ckpt, bundle);

        var (jobId, leaseId) = await Claim(http, "py-1");
        var beat = await Send(http, HttpMethod.Post, $"/v1/job/{jobId}/heartbeat", Json(new { worker_id = "py-1", lease_id = leaseId, progress = new { epoch = 1, total_epochs = 1 } }));
        var upload = await Send(http, HttpMethod.Put, $"/v1/model/{jobId}?worker_id=py-1&lease_id={leaseId}", new ByteArrayContent(await File.ReadAllBytesAsync(bundle)));
        var complete = await Send(http, HttpMethod.Post, $"/v1/job/{jobId}/complete", Json(new { worker_id = "py-1", lease_id = leaseId }));

        Assert.Equal((HttpStatusCode.OK, "running"), (beat.Status, beat.Body.GetProperty("status").GetString()));
        Assert.True(upload.Status == HttpStatusCode.OK, upload.Body + "\n" + h.LogTails());
        Assert.Equal((HttpStatusCode.OK, sha), (complete.Status, complete.Body.GetProperty("sha256").GetString()));
        var done = (await h.Jobs()).Single(j => j.JobId == jobId); // as the shell sees it, over Akka
        Assert.Equal((JobStatus.Completed, sha, "py-1"), (done.Status, done.ArtifactSha256, done.WorkerId));
        var row = JsonDocument.Parse(Assert.Single(File.ReadAllLines(Path.Combine(h.DataDir, "models", "index.jsonl")))).RootElement;
        Assert.Equal((sha, jobId, bytes), (row.GetProperty("sha256").GetString(), row.GetProperty("job_id").GetString(), row.GetProperty("bytes").GetInt64()));
        Assert.Equal(sha, ArtifactBundle.HashFile(Path.Combine(h.DataDir, "models", "knn_realistic", sha, "bundle.tar.zst")));

        // Stale lease: the second job is claimed, cancelled and requeued, and claimed again by another worker; the first lease is fenced off.
        var (second, oldLease) = await Claim(http, "py-1");
        await Send(http, HttpMethod.Post, $"/v1/job/{second}/heartbeat", Json(new { worker_id = "py-1", lease_id = oldLease }));
        Assert.Equal(HttpStatusCode.OK, (await Send(http, HttpMethod.Post, $"/api/jobs/{second}/cancel", Json(new { reason = "test" }), h.Token)).Status);
        Assert.Equal(HttpStatusCode.OK, (await Send(http, HttpMethod.Post, $"/v1/job/{second}/requeue", null, h.Token)).Status);
        var (again, newLease) = await Claim(http, "py-2");
        var before = await Job(http, second);

        var staleComplete = await Send(http, HttpMethod.Post, $"/v1/job/{second}/complete", Json(new { worker_id = "py-1", lease_id = oldLease }));
        var staleUpload = await Send(http, HttpMethod.Put, $"/v1/model/{second}?worker_id=py-1&lease_id={oldLease}", new ByteArrayContent(await File.ReadAllBytesAsync(bundle)));

        Assert.Equal(second, again);
        Assert.True(newLease > oldLease);
        Assert.Equal((HttpStatusCode.Conflict, "stale_lease"), (staleComplete.Status, staleComplete.Body.GetProperty("code").GetString()));
        Assert.Equal((HttpStatusCode.Conflict, "stale_lease"), (staleUpload.Status, staleUpload.Body.GetProperty("code").GetString()));
        var after = await Job(http, second);
        Assert.Equal(before.ToString(), after.ToString());
        Assert.Equal((JobStatus.Leased, newLease, "py-2"), (after.GetProperty("status").GetString(), after.GetProperty("lease_id").GetInt64(), after.GetProperty("worker_id").GetString()));
        Assert.Single(File.ReadAllLines(Path.Combine(h.DataDir, "models", "index.jsonl")));
    }

    [Fact]
    public async Task The_coordinator_serves_http_only_on_loopback_unless_told_otherwise_and_refuses_a_bad_bind_address()
    {
        await using var h = new ClusterHarness(features: "");
        var httpPort = NodeProcess.FreePort();
        var node = await h.StartCoordinator("--http-port", httpPort.ToString());
        var log = "";
        for (var i = 0; i < 100 && !log.Contains("HTTP API at"); i++, await Task.Delay(100)) log = await File.ReadAllTextAsync(node.LogPath);

        var bad = await ClusterHarness.RunProgram("Cis490.Coordinator", "--port", NodeProcess.FreePort().ToString(), "--data-dir", Path.Combine(h.DataDir, "b"),
            "--http-port", "8", "--http-bind", "example.org");

        Assert.Contains($"HTTP API at http://127.0.0.1:{httpPort}/api", log);
        Assert.Equal(2, bad.Exit);
        Assert.Contains("example.org", bad.Stderr);
    }
}
