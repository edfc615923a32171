using System.Security.Cryptography;
using System.Text.Json;
using Akka.Actor;
using Akka.Event;
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
        // Worker and lease are optional (the job id is the handle); given, they must be valid.
        var workerId = ApiEndpoints.NullIfEmpty(request.Query["worker_id"]) ?? ApiEndpoints.NullIfEmpty(request.Headers["X-Worker-Id"]);
        if (workerId is not null && V1Endpoints.CheckWorkerId(workerId) is { } badWorker) return badWorker;
        var lease = V1Shapes.LeaseId(V1Fields.Empty, request, out var problem);
        if (problem is not null) return ApiJson.BadRequest($"{problem.Field}: {problem.Message}; nothing was stored", problem.Field);
        var declared = V1Shapes.DeclaredSha256(request, out problem);
        if (problem is not null) return ApiJson.BadRequest($"{problem.Field}: {problem.Message}; nothing was stored", problem.Field);
        var (metrics, badMetrics) = ParseMetrics(request.Headers["X-Metrics"].ToString());
        if (badMetrics is not null) return badMetrics;
        if (request.ContentLength > c.Settings.MaxUploadBytes) return TooLarge(request, c);
        if (request.ContentLength == 0) return ApiJson.BadRequest("the request body is empty; send the model's tarball");

        var (begun, beginFailure) = await c.Ask(c.Workers, new BeginUpload(workerId, jobId, lease, V1Endpoints.ClientAddress(request)), $"an upload for job {jobId}");
        if (beginFailure is not null) return beginFailure;
        if (begun is not UploadBegun ok) return await V1Endpoints.LeaseAnswer(c, begun);
        var (worker, leaseId) = (ok.WorkerId, ok.LeaseId);

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
            c.Workers.Tell(new AbortUpload(worker, jobId, leaseId), ActorRefs.NoSender);
            TryDelete(path);
            if (e is TooLargeException or BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge }) return TooLarge(request, c);
            if (e is BadHttpRequestException b) return ApiJson.Error(b.StatusCode, "bad_request", $"the upload's body could not be read: {b.Message}", jobId, leaseId);
            throw;
        }
        if (bytes == 0 || (declared is not null && declared != sha))
        {
            // Nothing is stored and the lease stays the worker's: it may PUT again.
            c.Workers.Tell(new AbortUpload(worker, jobId, leaseId), ActorRefs.NoSender);
            TryDelete(path);
            if (bytes == 0) return ApiJson.BadRequest("the request body is empty; send the model's tarball");
            c.Log.Warning("HTTP: upload for job {0} lease {1} refused: {2} bytes with sha256 {3}, declared {4}", jobId, leaseId, bytes, sha, declared);
            return ApiJson.Error(StatusCodes.Status400BadRequest, "sha256_mismatch",
                $"the {bytes} bytes received have sha256 {sha}, not the declared {declared}: nothing was stored, lease {leaseId} is still yours; PUT again",
                jobId, leaseId, "sha256");
        }
        // The gateway owns the spooled file from here: it deletes it once the store has answered (or the lease is gone).
        var (reply, failure) = await c.Ask(c.Workers, new Upload(worker, jobId, leaseId, path, sha, bytes, metrics), $"the upload for job {jobId}",
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
