using System.Security.Cryptography;
using System.Text.Json;
using Akka.Actor;
using Microsoft.AspNetCore.Http;
using static Cis490.Coordinator.Http.Workers.HttpWorkerCommands;

namespace Cis490.Coordinator.Http;

/// <summary><c>PUT /v1/model/{id}</c>: the worker's tarball. The body is spooled to disk and hashed as it arrives (the store is offered
/// a bundle by its sha256 and size, and verifies both), then the gateway streams it to the artifact store in 64 KiB chunks.
/// The lease is heartbeated on the worker's behalf meanwhile.</summary>
public static class V1Upload
{
    public static async Task<IResult> Put(string jobId, HttpRequest request, CoordinatorApi c)
    {
        var workerId = ApiEndpoints.NullIfEmpty(request.Query["worker_id"]) ?? ApiEndpoints.NullIfEmpty(request.Headers["X-Worker-Id"]);
        var leaseText = ApiEndpoints.NullIfEmpty(request.Query["lease_id"]) ?? ApiEndpoints.NullIfEmpty(request.Headers["X-Lease-Id"]);
        if (V1Endpoints.CheckWorkerId(workerId) is { } badWorker) return badWorker;
        if (leaseText is null) return ApiJson.BadRequest("lease_id is required (query ?lease_id=N or header X-Lease-Id)", "lease_id");
        if (!long.TryParse(leaseText, out var leaseId)) return ApiJson.BadRequest($"lease_id must be an integer, got '{leaseText}'", "lease_id");
        if (V1Endpoints.CheckLease(leaseId) is { } badLease) return badLease;
        var (metrics, badMetrics) = ParseMetrics(request.Headers["X-Metrics"].ToString());
        if (badMetrics is not null) return badMetrics;
        if (request.ContentLength > c.Settings.MaxUploadBytes) return TooLarge(request, c);
        if (request.ContentLength == 0) return ApiJson.BadRequest("the request body is empty; send the model's tarball");

        var (begun, beginFailure) = await c.Ask(c.Workers, new BeginUpload(workerId!, jobId, leaseId), $"an upload for job {jobId}");
        if (beginFailure is not null) return beginFailure;
        if (begun is not Accepted) return await V1Endpoints.LeaseAnswer(c, begun);

        Directory.CreateDirectory(c.Settings.SpoolDir);
        var path = Path.Combine(c.Settings.SpoolDir, $"{jobId}-{leaseId}-{Guid.NewGuid():N}.part");
        string sha;
        long bytes;
        try
        {
            (sha, bytes) = await Spool(request, path, c.Settings.MaxUploadBytes);
        }
        catch (Exception e) when (e is TooLargeException or IOException or OperationCanceledException or BadHttpRequestException)
        {
            c.Workers.Tell(new AbortUpload(workerId!, jobId, leaseId), ActorRefs.NoSender);
            TryDelete(path);
            if (e is TooLargeException or BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge }) return TooLarge(request, c);
            if (e is BadHttpRequestException b) return ApiJson.Error(b.StatusCode, "bad_request", $"the upload's body could not be read: {b.Message}", jobId, leaseId);
            throw;
        }
        if (bytes == 0)
        {
            c.Workers.Tell(new AbortUpload(workerId!, jobId, leaseId), ActorRefs.NoSender);
            TryDelete(path);
            return ApiJson.BadRequest("the request body is empty; send the model's tarball");
        }
        // The gateway owns the spooled file from here: it deletes it once the store has answered (or the lease is gone).
        var (reply, failure) = await c.Ask(c.Workers, new Upload(workerId!, jobId, leaseId, path, sha, bytes, metrics), $"the upload for job {jobId}",
            c.Settings.UploadAckTimeout + c.Settings.AskTimeout);
        return failure ?? await V1Endpoints.LeaseAnswer(c, reply, bytes);
    }

    /// <summary>413, and the connection closes after it: draining the rest of a body this large would only waste the link.
    /// A client that sends <c>Expect: 100-continue</c> (curl does for large bodies) never sends a body that a declared length refuses.</summary>
    private static IResult TooLarge(HttpRequest request, CoordinatorApi c)
    {
        request.HttpContext.Response.Headers.Connection = "close";
        return CoordinatorApi.TooLarge(c.Settings.MaxUploadBytes, "max-upload-size");
    }

    /// <summary>Copies the body to <paramref name="path"/>, hashing it; throws <see cref="TooLargeException"/> past <paramref name="limit"/> bytes.</summary>
    public static async Task<(string Sha256, long Bytes)> Spool(HttpRequest request, string path, long limit)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, 64 * 1024, useAsync: true);
        var buffer = new byte[64 * 1024];
        long total = 0;
        int n;
        while ((n = await request.Body.ReadAsync(buffer, request.HttpContext.RequestAborted)) > 0)
        {
            total += n;
            if (total > limit) throw new TooLargeException();
            hash.AppendData(buffer, 0, n);
            await file.WriteAsync(buffer.AsMemory(0, n), request.HttpContext.RequestAborted);
        }
        await file.FlushAsync();
        return (Convert.ToHexStringLower(hash.GetHashAndReset()), total);
    }

    /// <summary>The optional <c>X-Metrics</c> header: a JSON object of numbers (e.g. <c>{"val_macro_f1": 0.61}</c>), stored with the job.</summary>
    public static (IReadOnlyDictionary<string, double> Metrics, IResult? Failure) ParseMetrics(string header)
    {
        if (string.IsNullOrWhiteSpace(header)) return (new Dictionary<string, double>(), null);
        try
        {
            var metrics = JsonSerializer.Deserialize<Dictionary<string, double>>(header, ApiJson.Options);
            return (metrics ?? new Dictionary<string, double>(), null);
        }
        catch (JsonException e)
        {
            return (new Dictionary<string, double>(), ApiJson.BadRequest(
                $"X-Metrics must be a JSON object of numbers like {{\"val_macro_f1\": 0.61}}: {e.Message.Split(" Path:")[0]}", "X-Metrics"));
        }
    }

    private sealed class TooLargeException : Exception;

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { }
    }
}
