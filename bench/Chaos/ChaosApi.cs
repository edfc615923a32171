using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Cis490.Bench.Chaos;

/// <summary>The coordinator's HTTP API (docs/http-api.md) as the bench reads it: the job table, one job's lease history, the
/// workers, health, and manifest submission. Every call is bounded; a coordinator that is down answers null or false.</summary>
public sealed class ChaosApi(int httpPort, string token) : IDisposable
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
    private readonly HttpClient _http = new() { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}"), Timeout = TimeSpan.FromSeconds(5) };

    public sealed record JobRow(string JobId, string Model, string Status, int FailedAttempts, int MaxAttempts, long LeaseId,
        string? WorkerId, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt, string? LastError);

    public sealed record Attempt(long LeaseId, string WorkerId, DateTimeOffset LeasedAt, DateTimeOffset? StartedAt, DateTimeOffset? EndedAt,
        string Outcome, string? Error);

    public sealed record JobDetail(JobRow Job, IReadOnlyList<Attempt> Attempts);

    public sealed record WorkerRow(string WorkerId, IReadOnlyList<string> RunningJobIds, DateTimeOffset LastSeen);

    private sealed record JobList(IReadOnlyList<JobRow> Jobs);
    private sealed record WorkerList(IReadOnlyList<WorkerRow> Workers);
    private sealed record ManifestReply(IReadOnlyList<string> AddedJobIds, IReadOnlyList<string> KnownJobIds);

    public async Task<IReadOnlyList<JobRow>?> Jobs(CancellationToken ct) => (await Get<JobList>("/api/jobs", ct))?.Jobs;

    public Task<JobDetail?> Job(string jobId, CancellationToken ct) => Get<JobDetail>($"/api/jobs/{jobId}", ct);

    public async Task<IReadOnlyList<WorkerRow>?> Workers(CancellationToken ct) => (await Get<WorkerList>("/api/workers", ct))?.Workers;

    /// <summary>True when the JobCoordinator itself answers (200 from /api/health).</summary>
    public async Task<bool> Healthy(CancellationToken ct)
    {
        try
        {
            using var r = await _http.GetAsync("/api/health", ct);
            return r.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested) { return false; }
    }

    /// <summary>Submits a manifest; the ids it added and knew, or null when the coordinator did not accept it (down, restarting).</summary>
    public async Task<IReadOnlyList<string>?> SubmitManifest(string fileName, string toml, CancellationToken ct)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/manifest?file={Uri.EscapeDataString(fileName)}")
            {
                Content = new StringContent(toml, Encoding.UTF8, "application/toml"),
            };
            request.Headers.Add("X-Operator-Token", token);
            using var r = await _http.SendAsync(request, ct);
            if (!r.IsSuccessStatusCode) return null;
            var reply = await r.Content.ReadFromJsonAsync<ManifestReply>(Json, ct);
            return reply is null ? null : [.. reply.AddedJobIds, .. reply.KnownJobIds];
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException && !ct.IsCancellationRequested) { return null; }
    }

    private async Task<T?> Get<T>(string path, CancellationToken ct) where T : class
    {
        try
        {
            using var r = await _http.GetAsync(path, ct);
            return r.IsSuccessStatusCode ? await r.Content.ReadFromJsonAsync<T>(Json, ct) : null;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException && !ct.IsCancellationRequested) { return null; }
    }

    public void Dispose() => _http.Dispose();
}
