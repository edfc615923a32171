using System.Net;
using Cis490.Coordinator.Http.Workers;
using Cis490.Protocols.Jobs;
using Cis490.Protocols.Workers;
using Xunit;

namespace Cis490.Coordinator.Tests;

/// <summary>HTTP workers through <c>/v1</c> against a real coordinator: the gateway gives them leases with fencing and expiry like any worker.</summary>
public sealed class HttpWorkerTests : HttpTestBase
{
    [Fact]
    public async Task An_http_worker_claims_heartbeats_uploads_and_completes_a_job_whose_artifact_is_stored_once()
    {
        var jobId = (await Submit(OneJob)).Single();

        var (claimed, leaseId) = await Claim();
        var first = await Post($"/v1/job/{jobId}/heartbeat", new { worker_id = "py-1", lease_id = leaseId, progress = new { epoch = 1, total_epochs = 4, val_macro_f1 = 0.4 } });
        var running = await Job(jobId);
        var second = await Post($"/v1/job/{jobId}/heartbeat", new { worker_id = "py-1", lease_id = leaseId });
        var (path, sha, bytes) = MakeBundle();
        var upload = await Upload(jobId, leaseId, await File.ReadAllBytesAsync(path), metrics: "{\"val_macro_f1\": 0.61}");
        var complete = await Post($"/v1/job/{jobId}/complete", new { worker_id = "py-1", lease_id = leaseId });
        var done = await Job(jobId);

        Assert.Equal(jobId, claimed);
        Assert.Equal((HttpStatusCode.OK, "running"), (first.Status, first.Body.GetProperty("status").GetString()));
        Assert.Equal(("running", "py-1"), (running.GetProperty("status").GetString(), running.GetProperty("worker_id").GetString()));
        Assert.Equal(HttpStatusCode.OK, second.Status);
        Assert.Equal(HttpStatusCode.OK, upload.Status);
        Assert.Equal((sha, bytes, false), (upload.Body.GetProperty("sha256").GetString(), upload.Body.GetProperty("bytes").GetInt64(), upload.Body.GetProperty("deduplicated").GetBoolean()));
        Assert.Equal((HttpStatusCode.OK, "completed", sha), (complete.Status, complete.Body.GetProperty("status").GetString(), complete.Body.GetProperty("sha256").GetString()));
        Assert.Equal(("completed", sha, leaseId), (done.GetProperty("status").GetString(), done.GetProperty("artifact_sha256").GetString(), done.GetProperty("lease_id").GetInt64()));
        Assert.Equal(0.61, done.GetProperty("metrics").GetProperty("val_macro_f1").GetDouble());
        var row = Assert.Single(IndexRows());
        Assert.Equal((sha, jobId, bytes), (row.Sha256, row.JobId, row.Bytes));
        Assert.Empty(SpooledFiles());
    }

    [Fact]
    public async Task A_claim_with_nothing_pending_answers_no_job_and_a_later_job_is_not_pushed_to_the_idle_worker()
    {
        var (status, body) = await Post("/v1/job/claim", new { worker_id = "idle-1" });
        var jobId = (await Submit(OneJob)).Single();
        await Task.Delay(1500); // a register tick of the idle worker passes

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, body.GetProperty("job").ValueKind);
        Assert.True(body.GetProperty("retry_after_s").GetDouble() > 0);
        var job = await Job(jobId);
        Assert.Equal(("pending", 0), (job.GetProperty("status").GetString(), job.GetProperty("failed_attempts").GetInt32()));
        Assert.Equal((await Claim("idle-1")).JobId, jobId); // and it is there for the next claim
    }

    [Fact]
    public async Task A_claim_whose_client_gives_up_stops_waiting_so_a_later_job_is_not_leased_to_nobody()
    {
        using var giveUp = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            Http.PostAsync("/v1/job/claim?wait=20", Json(new { worker_id = "gone-1" }), giveUp.Token));
        await Task.Delay(300); // the server notices the closed connection

        var jobId = (await Submit(OneJob)).Single();
        await Task.Delay(1500); // longer than the claim could have waited (claim-wait 1.5 s) and several poll intervals
        var job = await Job(jobId);

        Assert.Equal(("pending", 0), (job.GetProperty("status").GetString(), job.GetProperty("failed_attempts").GetInt32()));
    }

    [Fact]
    public async Task After_a_cancel_and_requeue_the_old_lease_is_refused_with_409_and_the_new_lease_is_untouched()
    {
        var jobId = (await Submit(OneJob)).Single();
        var (_, oldLease) = await Claim();
        await Post($"/v1/job/{jobId}/heartbeat", new { worker_id = "py-1", lease_id = oldLease });
        Assert.Equal(HttpStatusCode.OK, (await Send(WithToken(HttpMethod.Post, $"/api/jobs/{jobId}/cancel"))).Status);
        Assert.Equal(HttpStatusCode.OK, (await Send(WithToken(HttpMethod.Post, $"/api/jobs/{jobId}/requeue"))).Status);
        var (_, newLease) = await Claim("py-2");
        var before = await Job(jobId);
        var rows = JournalEvents();

        var heartbeat = await Post($"/v1/job/{jobId}/heartbeat", new { worker_id = "py-1", lease_id = oldLease });
        var complete = await Post($"/v1/job/{jobId}/complete", new { worker_id = "py-1", lease_id = oldLease });
        var fail = await Post($"/v1/job/{jobId}/fail", new { worker_id = "py-1", lease_id = oldLease, error = "zombie" });
        var upload = await Upload(jobId, oldLease, await File.ReadAllBytesAsync(MakeBundle().Path));
        var otherWorker = await Post($"/v1/job/{jobId}/complete", new { worker_id = "py-1", lease_id = newLease });

        Assert.True(newLease > oldLease);
        AssertError(HttpStatusCode.Conflict, heartbeat, "stale_lease", "revoked");
        AssertError(HttpStatusCode.Conflict, complete, "stale_lease", $"lease {oldLease}");
        AssertError(HttpStatusCode.Conflict, fail, "stale_lease");
        AssertError(HttpStatusCode.Conflict, upload, "stale_lease");
        AssertError(HttpStatusCode.Conflict, otherWorker, "stale_lease", "py-1");
        Assert.Equal(oldLease, complete.Body.GetProperty("lease_id").GetInt64());
        var after = await Job(jobId);
        Assert.Equal((before.GetProperty("status").GetString(), newLease, "py-2"),
            (after.GetProperty("status").GetString(), after.GetProperty("lease_id").GetInt64(), after.GetProperty("worker_id").GetString()));
        Assert.Equal(rows, JournalEvents());
        Assert.Empty(IndexRows());
        Assert.Empty(SpooledFiles());
    }

    [Fact]
    public async Task A_lease_without_heartbeats_expires_and_its_late_heartbeat_and_complete_get_409()
    {
        var jobId = (await Submit(OneJob)).Single();
        var (_, leaseId) = await Claim();

        // No heartbeat: past the /v1 leases' own 8 s deadline (worker nodes have 6 s) the coordinator ends the lease and revokes it
        // at the gateway.
        await AwaitAssertAsync(async () => Assert.Equal("pending", (await Job(jobId)).GetProperty("status").GetString()),
            TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(300));
        var heartbeat = await Post($"/v1/job/{jobId}/heartbeat", new { worker_id = "py-1", lease_id = leaseId });
        var complete = await Post($"/v1/job/{jobId}/complete", new { worker_id = "py-1", lease_id = leaseId });

        AssertError(HttpStatusCode.Conflict, heartbeat, "stale_lease", "heartbeat");
        AssertError(HttpStatusCode.Conflict, complete, "stale_lease");
        var job = await Job(jobId);
        Assert.Equal(1, job.GetProperty("failed_attempts").GetInt32());
        Assert.Contains("no heartbeat for 8 s", job.GetProperty("last_error").GetString());
    }

    [Fact]
    public async Task Complete_before_the_upload_is_a_409_and_a_reported_failure_ends_the_attempt()
    {
        var jobId = (await Submit(OneJob)).Single();
        var (_, leaseId) = await Claim();
        await Post($"/v1/job/{jobId}/heartbeat", new { worker_id = "py-1", lease_id = leaseId });

        var early = await Post($"/v1/job/{jobId}/complete", new { worker_id = "py-1", lease_id = leaseId });
        var fail = await Post($"/v1/job/{jobId}/fail", new { worker_id = "py-1", lease_id = leaseId, error = "CUDA out of memory" });
        var again = await Post($"/v1/job/{jobId}/fail", new { worker_id = "py-1", lease_id = leaseId, error = "twice" });

        AssertError(HttpStatusCode.Conflict, early, "not_uploaded", "PUT /v1/model");
        Assert.Equal((HttpStatusCode.OK, "pending"), (fail.Status, fail.Body.GetProperty("status").GetString()));
        AssertError(HttpStatusCode.Conflict, again, "stale_lease", "failed");
        var job = await Job(jobId);
        Assert.Equal(1, job.GetProperty("failed_attempts").GetInt32());
        Assert.Equal("CUDA out of memory", job.GetProperty("last_error").GetString());
    }

    [Fact]
    public async Task An_upload_over_max_upload_size_is_a_413_whether_or_not_it_declares_its_length_and_changes_nothing()
    {
        var jobId = (await Submit(OneJob)).Single();
        var (_, leaseId) = await Claim();
        await Post($"/v1/job/{jobId}/heartbeat", new { worker_id = "py-1", lease_id = leaseId });
        var rows = JournalEvents();
        var big = new byte[1024 * 1024 + 1];

        // Expect: 100-continue, as curl sends for large bodies: the declared length is refused before any of the body is sent,
        // and the chunked one once the limit is crossed (without it the client may see the connection close while still writing).
        var declaredRequest = new HttpRequestMessage(HttpMethod.Put, $"/v1/model/{jobId}?worker_id=py-1&lease_id={leaseId}") { Content = new ByteArrayContent(big) };
        declaredRequest.Headers.ExpectContinue = true;
        var declared = await Send(declaredRequest);
        var chunkedRequest = new HttpRequestMessage(HttpMethod.Put, $"/v1/model/{jobId}?worker_id=py-1&lease_id={leaseId}")
        {
            Content = new StreamContent(new UnknownLengthStream(big)),
        };
        chunkedRequest.Headers.ExpectContinue = true;
        var chunked = await Send(chunkedRequest);
        var heartbeat = await Post($"/v1/job/{jobId}/heartbeat", new { worker_id = "py-1", lease_id = leaseId });

        AssertError(HttpStatusCode.RequestEntityTooLarge, declared, "too_large", "max-upload-size");
        AssertError(HttpStatusCode.RequestEntityTooLarge, chunked, "too_large", "max-upload-size");
        Assert.Equal(HttpStatusCode.OK, heartbeat.Status); // the lease is still the worker's, and no upload is stuck "in progress"
        Assert.Equal("running", (await Job(jobId)).GetProperty("status").GetString());
        Assert.Equal(rows, JournalEvents());
        Assert.Empty(IndexRows());
        Assert.Empty(SpooledFiles());
    }

    [Fact]
    public void The_lease_book_fences_stale_and_foreign_leases_and_remembers_how_a_lease_ended()
    {
        var book = new HttpWorkerLeases("w1", rememberEnded: 2);
        var spec = new JobSpec("job-a", "knn", "realistic", "{}", "host", [], 0, 0, 3);
        book.Add(new WorkerProtocol.Lease(spec, 5));

        Assert.Null(book.Refusal("job-a", 5));
        Assert.Contains("holds lease 5", book.Refusal("job-a", 4));
        Assert.True(book.MarkStarted("job-a", 5, null));
        Assert.False(book.MarkStarted("job-a", 5, null));
        Assert.True(book.SetUploading("job-a", 5, true));
        Assert.False(book.SetUploading("job-a", 5, true));
        book.End("job-a", 5, HttpWorkerLeases.Completed, "stored", "abc");
        Assert.Equal("abc", book.EndedOf("job-a", 5)?.Sha256);
        Assert.Contains("completed", book.Refusal("job-a", 5));
        Assert.Empty(book.Held);
        book.End("x", 1, HttpWorkerLeases.Lost, "a");
        book.End("y", 1, HttpWorkerLeases.Lost, "b");
        Assert.Null(book.EndedOf("job-a", 5)); // only the last two are remembered
        Assert.Contains("claim again", book.Refusal("job-a", 5));
    }

    /// <summary>A stream that does not tell its length, so the client sends the body chunked (no Content-Length to refuse up front).</summary>
    private sealed class UnknownLengthStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }
}
