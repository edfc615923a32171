using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Akka.Actor;
using Cis490.Coordinator.Http.Workers;
using Xunit;

namespace Cis490.Coordinator.Tests;

/// <summary>The earlier fleet's workers as they are, against <c>/v1</c> opened with <c>--v1-anonymous</c>: no credential, no lease
/// ids, flat capability, bodies of whatever type urllib gives them. The job id is the handle; fencing still holds.</summary>
public sealed class HttpLegacyWorkerTests() : HttpTestBase(
    // A claim may wait up to 10 s here, so "answered at once" and "answered when the job came" are told from "waited it out"
    // by seconds, not by milliseconds a busy machine could eat.
    "cis490.http.claim-wait = 10s")
{
    protected override bool Anonymous => true;

    /// <summary>A POST with a raw body and an optional Content-Type, as a hand-written urllib client sends it.</summary>
    private Task<(HttpStatusCode Status, JsonElement Body)> Raw(string path, string body, string? contentType = "application/x-www-form-urlencoded",
        params (string Name, string Value)[] headers)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        if (contentType is not null) content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        foreach (var (name, value) in headers) request.Headers.TryAddWithoutValidation(name, value);
        return Send(request);
    }

    private async Task<(string JobId, JsonElement Answer)> LegacyClaim(string body = """{"worker_id":"old-1","hostname":"old-box","cores":4,"ram_gb":16}""")
    {
        var (status, answer) = await Raw("/v1/job/claim", body);
        Assert.True(status == HttpStatusCode.OK && answer.GetProperty("job").ValueKind == JsonValueKind.Object, $"{(int)status} {answer}");
        return (answer.GetProperty("job_id").GetString()!, answer);
    }

    private Task<(HttpStatusCode Status, JsonElement Body)> Put(string jobId, byte[] bytes, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Put, $"/v1/model/{jobId}") { Content = new ByteArrayContent(bytes) };
        foreach (var (name, value) in headers) request.Headers.TryAddWithoutValidation(name, value);
        return Send(request);
    }

    [Fact]
    public async Task An_unchanged_worker_claims_with_flat_capability_and_trains_a_job_naming_only_its_id_through_to_completion()
    {
        var jobId = (await Submit(OneJob)).Single();

        var (claimed, answer) = await LegacyClaim();

        Assert.Equal(jobId, claimed);
        Assert.Equal(jobId, answer.GetProperty("job").GetProperty("job_id").GetString()); // nested too
        Assert.Equal(("old-1", "claimed", 8.0), (answer.GetProperty("worker_id").GetString(), answer.GetProperty("legacy_status").GetString(),
            answer.GetProperty("heartbeat_deadline_s").GetDouble()));
        Assert.Equal((4, 16.0), (answer.GetProperty("capability").GetProperty("cores").GetInt32(), answer.GetProperty("capability").GetProperty("ram_gib").GetDouble()));
        var (_, workers) = await Get("/v1/workers");
        var worker = workers.GetProperty("workers").EnumerateArray().Single();
        Assert.Equal(("old-box", 4), (worker.GetProperty("capability").GetProperty("hostname").GetString(), worker.GetProperty("capability").GetProperty("cores").GetInt32()));
        Assert.Equal(jobId, (await Get("/v1/jobs?status=claimed")).Body.GetProperty("jobs").EnumerateArray().Single().GetProperty("job_id").GetString());

        // Heartbeat with a bare number and no ids, labelled a form (urllib's default); then the tarball with its declared sha256.
        var beat = await Raw($"/v1/job/{jobId}/heartbeat", """{"progress": 0.5}""");
        Assert.True(beat.Status == HttpStatusCode.OK, beat.Body.ToString());
        Assert.Equal((50, 100), ((await Job(jobId)).GetProperty("progress").GetProperty("epoch").GetInt32(), (await Job(jobId)).GetProperty("progress").GetProperty("total_epochs").GetInt32()));
        var (path, sha, _) = MakeBundle();
        var bytes = await File.ReadAllBytesAsync(path);
        var put = await Put(jobId, bytes, ("X-Sha256", sha));
        Assert.True(put.Status == HttpStatusCode.OK, put.Body.ToString());

        // complete after the PUT: accepted (and again), its metrics merged; a complete naming another sha256 is refused.
        var complete = await Raw($"/v1/job/{jobId}/complete", $$"""{"sha256":"{{sha}}","metrics":{"val_macro_f1":0.61},"test_accuracy":"0.7"}""");
        var again = await Raw($"/v1/job/{jobId}/complete", "");
        var wrong = await Raw($"/v1/job/{jobId}/complete", $$"""{"sha256":"{{new string('0', 64)}}"}""");

        Assert.True(complete.Status == HttpStatusCode.OK, complete.Body.ToString());
        Assert.Equal((sha, "completed"), (complete.Body.GetProperty("sha256").GetString(), complete.Body.GetProperty("status").GetString()));
        Assert.Equal(HttpStatusCode.OK, again.Status);
        AssertError(HttpStatusCode.Conflict, wrong, "conflict", "not the declared");
        var job = await Job(jobId);
        Assert.Equal((0.61, 0.7), (job.GetProperty("metrics").GetProperty("val_macro_f1").GetDouble(), job.GetProperty("metrics").GetProperty("test_accuracy").GetDouble()));
        Assert.Equal(sha, IndexRows().Single().Sha256);
    }

    [Fact]
    public async Task A_claim_with_no_work_answers_at_once_with_a_reason_and_waits_only_when_asked_and_nothing_is_pushed_meanwhile()
    {
        var clock = Stopwatch.StartNew();
        var (status, none) = await Raw("/v1/job/claim", """{"worker_id":"old-1"}""");
        var immediate = clock.Elapsed;

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(JsonValueKind.Null, none.GetProperty("job").ValueKind);
        Assert.Equal(JsonValueKind.Null, none.GetProperty("job_id").ValueKind);
        Assert.Equal(("no job is pending", 2.0), (none.GetProperty("reason").GetString(), none.GetProperty("retry_after_s").GetDouble()));
        Assert.True(immediate < TimeSpan.FromSeconds(5), $"an idle claim took {immediate.TotalMilliseconds:F0} ms (claim-wait is 10 s)");

        // A job that comes while nobody waits stays pending: nothing is pushed to the idle HTTP worker.
        var jobId = (await Submit(OneJob)).Single();
        await Task.Delay(1500);
        Assert.Equal("pending", (await Job(jobId)).GetProperty("status").GetString());

        // A claim that asks to wait gets a job that comes during its wait.
        var (_, other) = await Raw("/v1/job/claim", """{"worker_id":"old-2"}""");
        Assert.Equal(jobId, other.GetProperty("job_id").GetString()); // the pending one, at once
        clock.Restart();
        var waiting = Raw("/v1/job/claim?wait=60", """{"worker_id":"old-1"}"""); // cut to claim-wait, 10 s
        await Task.Delay(500);
        var second = (await Submit("[[jobs]]\nmodel = \"knn\"\nmode = \"oracle\"\nhyper = { k = 9 }\n")).Single();
        var (_, waited) = await waiting;
        Assert.Equal(second, waited.GetProperty("job_id").GetString());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(7), $"the waiting claim took {clock.Elapsed.TotalMilliseconds:F0} ms (claim-wait is 10 s)");
    }

    [Fact]
    public async Task Without_ids_after_a_cancel_and_requeue_the_old_holder_is_refused_and_the_new_lease_untouched()
    {
        var jobId = (await Submit(OneJob)).Single();
        await LegacyClaim();
        Assert.Equal(HttpStatusCode.OK, (await Raw($"/v1/job/{jobId}/heartbeat", "")).Status);

        Assert.Equal(HttpStatusCode.OK, (await Send(WithToken(HttpMethod.Post, $"/v1/job/{jobId}/cancel"))).Status);
        Assert.Equal(HttpStatusCode.OK, (await Send(WithToken(HttpMethod.Post, $"/v1/job/{jobId}/requeue"))).Status);
        var stale = await Raw($"/v1/job/{jobId}/heartbeat", """{"progress":"epoch 2/10"}""");
        var staleFail = await Raw($"/v1/job/{jobId}/fail", "Traceback: boom", "text/plain");
        var stalePut = await Put(jobId, [1, 2, 3]);

        AssertError(HttpStatusCode.Conflict, stale, "stale_lease", "cancelled");
        AssertError(HttpStatusCode.Conflict, staleFail, "stale_lease");
        AssertError(HttpStatusCode.Conflict, stalePut, "stale_lease");
        Assert.Equal(0, (await Job(jobId)).GetProperty("failed_attempts").GetInt32());

        // Claimed again (a new lease): the same worker's calls by job id now speak for the new lease; a client at another
        // address naming no worker cannot.
        var (again, answer) = await LegacyClaim();
        var newLease = answer.GetProperty("lease_id").GetInt64();
        var gateway = await Sys.ActorSelection("/user/" + HttpWorkerGateway.Name).ResolveOne(TimeSpan.FromSeconds(3));
        var elsewhere = await gateway.Ask<object>(new HttpWorkerCommands.Beat(null, again, null, null, "10.9.9.9"), TimeSpan.FromSeconds(3));
        Assert.Contains("not from 10.9.9.9", Assert.IsType<HttpWorkerCommands.Rejected>(elsewhere).Reason);

        var beat = await Raw($"/v1/job/{again}/heartbeat", "worker_id=old-1&progress=45%25");
        Assert.True(beat.Status == HttpStatusCode.OK, beat.Body.ToString());
        Assert.Equal(newLease, beat.Body.GetProperty("lease_id").GetInt64());
        Assert.Equal("running", (await Job(jobId)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task An_upload_whose_bytes_are_not_the_declared_sha256_is_refused_nothing_stored_and_the_lease_kept_for_the_retry()
    {
        var jobId = (await Submit(OneJob)).Single();
        await LegacyClaim();
        var (path, sha, _) = MakeBundle();
        var bytes = await File.ReadAllBytesAsync(path);
        var corrupt = bytes.ToArray();
        corrupt[^10] ^= 0xFF;
        var digest = "sha-256=:" + Convert.ToBase64String(Convert.FromHexString(sha)) + ":";

        var viaHeader = await Put(jobId, corrupt, ("X-Sha256", sha));
        var viaDigest = await Put(jobId, corrupt, ("Content-Digest", digest));
        var viaQuery = await Send(new HttpRequestMessage(HttpMethod.Put, $"/v1/model/{jobId}?sha256={sha}") { Content = new ByteArrayContent(corrupt) });

        foreach (var refused in new[] { viaHeader, viaDigest, viaQuery })
        {
            AssertError(HttpStatusCode.BadRequest, refused, "sha256_mismatch", "still yours");
            Assert.Equal("sha256", refused.Body.GetProperty("field").GetString());
        }
        Assert.Empty(IndexRows());
        Assert.Empty(SpooledFiles());
        Assert.Equal("running", (await Job(jobId)).GetProperty("status").GetString()); // the upload started it; the lease is kept

        var retried = await Put(jobId, bytes, ("Content-Digest", digest));
        Assert.True(retried.Status == HttpStatusCode.OK, retried.Body.ToString());
        Assert.Equal(sha, retried.Body.GetProperty("sha256").GetString());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), IndexRows().Single().Sha256);
    }

    [Fact]
    public async Task A_failure_as_plain_text_or_under_any_common_field_ends_the_attempt_with_its_text()
    {
        var ids = await Submit(TwoJobs);
        var (first, _) = await LegacyClaim();
        var (second, _) = await LegacyClaim("""{"worker":"old-2","capabilities":{"host":"old-box-2","num_cpus":2}}""");

        var plain = await Raw($"/v1/job/{first}/fail", "Traceback (most recent call last):\n  File \"train.py\"\nValueError: k", "text/plain");
        var json = await Raw($"/v1/job/{second}/fail", """{"message":"CUDA out of memory","traceback":"at line 3"}""", null);

        Assert.True(plain.Status == HttpStatusCode.OK, plain.Body.ToString());
        Assert.True(json.Status == HttpStatusCode.OK, json.Body.ToString());
        Assert.Equal("pending", plain.Body.GetProperty("status").GetString());
        Assert.Contains("ValueError: k", (await Job(first)).GetProperty("last_error").GetString());
        Assert.Equal("CUDA out of memory\nat line 3", (await Job(second)).GetProperty("last_error").GetString());
        Assert.Equal(2, ids.Count);
    }

    [Fact]
    public async Task A_browser_page_cannot_post_a_simple_body_to_the_open_endpoints_but_a_script_can()
    {
        await Submit(OneJob);

        var fromPage = await Raw("/v1/job/claim", """{"worker_id":"page"}""", "text/plain", ("Origin", "http://evil.example"));
        var fromFetch = await Raw("/v1/job/claim", "worker_id=page", "application/x-www-form-urlencoded", ("Sec-Fetch-Site", "cross-site"));
        var fromScript = await Raw("/v1/job/claim", """{"worker_id":"script"}""", "text/plain");

        AssertError(HttpStatusCode.UnsupportedMediaType, fromPage, "unsupported_media_type", "web browser");
        AssertError(HttpStatusCode.UnsupportedMediaType, fromFetch, "unsupported_media_type");
        Assert.True(fromScript.Status == HttpStatusCode.OK, fromScript.Body.ToString());
        var (_, workers) = await Get("/v1/workers");
        Assert.Equal(["script"], workers.GetProperty("workers").EnumerateArray().Select(w => w.GetProperty("worker_id").GetString()));
    }
}
