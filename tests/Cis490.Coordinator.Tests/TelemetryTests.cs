using System.Diagnostics;
using System.Net;
using Cis490.Coordinator.Jobs;
using Cis490.Coordinator.Telemetry;
using Cis490.Protocols.Jobs;
using Cis490.Protocols.Operator;
using Cis490.Shared.Telemetry;
using Xunit;
using static Cis490.Protocols.Jobs.JobEvents;

namespace Cis490.Coordinator.Tests;

/// <summary>What the coordinator's persisted events mean for metrics and traces, as pure functions (no actor, no clock).</summary>
public sealed class TelemetryTests
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.Parse("2026-12-01T10:00:00Z");

    private static JobTable Table()
    {
        var policy = new CoordinatorPolicy(TimeSpan.FromSeconds(30), new RetryPolicy(TimeSpan.FromSeconds(10), TimeSpan.FromMinutes(5)), TimeSpan.FromMinutes(2));
        var outcome = CoordinatorState.Initial(policy).Decide(new OperatorProtocol.SubmitManifest("fleet.toml",
            "[[jobs]]\nmodel = \"mlp\"\nmode = \"realistic\"\n\n[[jobs]]\nmodel = \"knn\"\nmode = \"oracle\"\n"), T0);
        return outcome.State.Table;
    }

    [Fact]
    public void A_lease_is_counted_with_its_wait_and_its_end_by_outcome_and_family_and_no_label_is_a_job_id()
    {
        var table = Table();
        var mlp = table.Jobs.Values.Single(j => j.Spec.Model == "mlp").JobId;
        var granted = new LeaseGranted(mlp, 1, "w1", T0.AddSeconds(5));
        var g = JobMetrics.For(table, granted);
        Assert.Equal(5, g.Single(o => o.Metric == "cis490_lease_latency").Value);
        Assert.Equal("mlp", g.Single(o => o.Metric == "cis490_leases_granted").Label("family"));
        table = table.Apply(granted);
        table = table.Apply(new JobStarted(mlp, 1, T0.AddSeconds(6)));
        var done = JobMetrics.For(table, new JobCompleted(mlp, 1, new string('a', 64), 10, new Dictionary<string, double>(), T0.AddSeconds(9))).Single();
        Assert.Equal(("cis490_leases_ended", "completed", "mlp"), (done.Metric, done.Label("outcome"), done.Label("family")));
        foreach (var o in g.Append(done))
            Assert.DoesNotContain(o.Labels, l => (l.Value as string)?.Length == 64); // never a job id or a hash
    }

    /// <summary>The coordinator makes a written event's metrics and spans from <see cref="Outcome.JobsBefore"/> instead of folding
    /// the events into a second table: each entry must be the job as the fold had it just before that event, even when one
    /// decision touches a job twice (a failed attempt ended, and the same job leased again at once).</summary>
    [Fact]
    public void A_decision_gives_each_event_the_job_as_it_was_just_before_it_and_the_same_metrics_as_the_fold()
    {
        var policy = new CoordinatorPolicy(TimeSpan.FromSeconds(30), RetryPolicy.None, TimeSpan.FromMinutes(2));
        var state = CoordinatorState.Initial(policy).Decide(new OperatorProtocol.SubmitManifest("fleet.toml",
            "[[jobs]]\nmodel = \"mlp\"\nmode = \"realistic\"\nmax_attempts = 2\n"), T0).State;
        var capability = new Cis490.Protocols.Workers.WorkerCapability("h", 4, 16, false, 0, null, "2.10.0", "abc", "Linux");
        const string endpoint = "akka.tcp://cis490@h:1/user/worker#1";
        state = state.Decide(new CoordinatorCommands.Register(new Cis490.Protocols.Workers.WorkerProtocol.Register("w1", capability, 1, [], false),
            endpoint, "akka.tcp://cis490@h:1"), T0.AddSeconds(1)).State;
        var leased = state.Table.Jobs.Values.Single();
        Assert.Equal(JobStatus.Leased, leased.Status);

        var failed = state.Decide(new Cis490.Protocols.Jobs.TrainerProtocol.Failed(leased.JobId, leased.LeaseId, "boom"), T0.AddSeconds(4));
        Assert.Collection(failed.Events, e => Assert.IsType<LeaseEnded>(e), e => Assert.IsType<LeaseGranted>(e));
        Assert.Equal(failed.Events.Count, failed.JobsBefore.Count);
        var fold = state.Table;
        for (var i = 0; i < failed.Events.Count; i++)
        {
            var e = failed.Events[i];
            Assert.Equal(Summary(fold.Jobs[((IJobEvent)e).JobId]), Summary(failed.JobsBefore[i]!));
            Assert.Equal(JobMetrics.For(fold, e).Select(o => (o.Metric, o.Value)), JobMetrics.For(failed.JobsBefore[i], e).Select(o => (o.Metric, o.Value)));
            Assert.Equal(JobTraces.For(fold, e).Select(t => (t.Name, t.Start, t.End)), JobTraces.For(failed.JobsBefore[i], e).Select(t => (t.Name, t.Start, t.End)));
            fold = fold.Apply(e);
        }
        Assert.Equal(JobStatus.Pending, failed.JobsBefore[1]!.Status); // the re-grant waited from the failure, not from the first lease
        Assert.Equal(0, JobMetrics.For(failed.JobsBefore[1], failed.Events[1]).Single(o => o.Metric == "cis490_lease_latency").Value);
        Assert.Equal(Summary(fold.Jobs[leased.JobId]), Summary(failed.State.Table.Jobs[leased.JobId]));
    }

    /// <summary>A job's state as values (records compare their attempt lists by reference).</summary>
    private static string Summary(JobState j) =>
        $"{j.Status} lease {j.LeaseId} on {j.WorkerId} failed {j.FailedAttempts} leased {j.LeasedAt:O} pending since {JobTable.PendingSince(j):O} " +
        string.Join(";", j.History.Select(a => $"{a.LeaseId}:{a.Outcome}:{a.EndedAt:O}"));

    [Theory]
    [InlineData(true, "no heartbeat for 30 s from worker w1", "expired")]
    [InlineData(true, "trainer exited with code 1", "failed")]
    [InlineData(false, "declined by worker: all 1 slot(s) busy", "returned")]
    [InlineData(false, "worker w1 is unreachable (not counted as an attempt)", "lost")]
    public void A_lease_end_has_one_of_a_few_outcomes(bool counts, string reason, string outcome)
    {
        Assert.Equal(outcome, JobMetrics.Outcome(new LeaseEnded("j", 1, reason, counts, T0)));
        Assert.Contains(outcome, JobMetrics.Outcomes);
    }

    [Fact]
    public void An_unknown_model_is_labelled_other_and_every_status_is_reported_even_at_zero()
    {
        Assert.Equal("other", Cis490Metrics.Family("my-own-model"));
        Assert.Equal("gbt", Cis490Metrics.Family("gbt"));
        var counts = JobMetrics.ByStatus(Table()).ToDictionary(m => (string)m.Tags.ToArray().Single().Value!, m => m.Value);
        Assert.Equal(6, counts.Count);
        Assert.Equal(2, counts["pending"]);
        Assert.Equal(0, counts["completed"]);
    }

    [Fact]
    public void Every_span_of_a_job_lands_in_one_trace_derived_from_its_id_with_the_real_start_and_end_times()
    {
        var spans = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == JobTracing.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a => { lock (spans) spans.Add(a); },
        };
        ActivitySource.AddActivityListener(listener);
        var table = Table();
        var job = table.Jobs.Values.Single(j => j.Spec.Model == "knn");
        ICoordinatorEvent[] lifecycle =
        [
            new LeaseGranted(job.JobId, 7, "w1", T0.AddSeconds(2)), new JobStarted(job.JobId, 7, T0.AddSeconds(3)),
            new JobCompleted(job.JobId, 7, new string('b', 64), 99, new Dictionary<string, double>(), T0.AddSeconds(20)),
        ];
        var names = new List<string>();
        foreach (var e in lifecycle)
        {
            foreach (var s in JobTraces.For(table, e)) { names.Add(s.Name); JobTracing.Emit(s); }
            table = table.Apply(e);
        }
        Assert.Equal(["job.queued", "job.leased", "job.running", "job.completed"], names);
        List<Activity> mine;
        lock (spans) mine = spans.Where(a => a.GetTagItem("cis490.job_id") as string == job.JobId).ToList();
        Assert.Equal(4, mine.Count);
        Assert.All(mine, a => Assert.Equal(JobTracing.TraceIdOf(job.JobId), a.TraceId));
        Assert.All(mine, a => Assert.Equal(default, a.ParentSpanId));
        var queued = mine.Single(a => a.OperationName == "job.queued");
        Assert.Equal(T0.UtcDateTime, queued.StartTimeUtc);
        Assert.Equal(TimeSpan.FromSeconds(2), queued.Duration);
        Assert.Equal(TimeSpan.FromSeconds(20), mine.Single(a => a.OperationName == "job.completed").Duration);
        Assert.NotEqual(JobTracing.TraceIdOf(job.JobId), JobTracing.TraceIdOf(job.JobId + "x"));
    }

    [Fact]
    public async Task With_an_otlp_endpoint_configured_a_jobs_spans_are_exported_to_it_and_without_one_nothing_is_started()
    {
        Assert.Null(TelemetryExport.StartTracing(TelemetrySettings.From(Config("")), "test"));

        // A stand-in collector: OTLP over HTTP is a POST of a protobuf ExportTraceServiceRequest to /v1/traces.
        int port;
        using (var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        using var collector = new HttpListener();
        collector.Prefixes.Add($"http://127.0.0.1:{port}/");
        collector.Start();
        var settings = TelemetrySettings.From(Config($"otlp-endpoint = \"http://127.0.0.1:{port}\"\notlp-protocol = \"http/protobuf\""));
        Assert.Equal($"http://127.0.0.1:{port}/v1/traces", TelemetryExport.TracesEndpoint(settings).ToString());
        var jobId = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("otlp-test"u8));
        var received = collector.GetContextAsync();
        using (var provider = TelemetryExport.StartTracing(settings, "cis490-test"))
        {
            Assert.NotNull(provider);
            JobTracing.Emit(new SpanRecord("job.submitted", jobId, T0, T0, [new("cis490.family", "knn")]));
            // Disposing the provider shuts its batch processor down, which exports what it holds.
        }
        var done = await Task.WhenAny(received, Task.Delay(TimeSpan.FromSeconds(20)));
        Assert.True(done == received, "the collector got no export within 20 s");
        var ctx = await received;
        Assert.Equal("POST", ctx.Request.HttpMethod);
        Assert.Equal("/v1/traces", ctx.Request.Url!.AbsolutePath);
        Assert.Equal("application/x-protobuf", ctx.Request.ContentType);
        using var body = new MemoryStream();
        await ctx.Request.InputStream.CopyToAsync(body);
        var bytes = body.ToArray();
        ctx.Response.StatusCode = 200;
        ctx.Response.Close();
        // Strings travel as UTF-8 in protobuf: the span's name, its job id attribute and the trace id derived from it.
        Assert.True(Contains(bytes, "job.submitted"u8.ToArray()), "no span named job.submitted in the export");
        Assert.True(Contains(bytes, System.Text.Encoding.UTF8.GetBytes(jobId)), "the job id attribute is not in the export");
        var traceId = new byte[16];
        JobTracing.TraceIdOf(jobId).CopyTo(traceId);
        Assert.True(Contains(bytes, traceId), "the job's trace id is not in the export");
    }

    private static Akka.Configuration.Config Config(string telemetry) =>
        Akka.Configuration.ConfigurationFactory.ParseString($"cis490.telemetry {{\n{telemetry}\n}}");

    private static bool Contains(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle) >= 0;
}

/// <summary><c>GET /metrics</c> on a real coordinator's HTTP host: Prometheus text with the product's metric names.</summary>
public sealed class MetricsEndpointTests : HttpTestBase
{
    [Fact]
    public async Task Metrics_are_served_in_prometheus_text_with_the_job_gauge_and_counters()
    {
        await Submit(TwoJobs);
        string text = "";
        for (var i = 0; i < 50 && !text.Contains("cis490_jobs_added_total"); i++)
        {
            using var response = await Http.GetAsync("/metrics");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType);
            text = await response.Content.ReadAsStringAsync();
            if (!text.Contains("cis490_jobs_added_total")) await Task.Delay(100);
        }
        Assert.Contains("cis490_jobs_added_total{", text);
        Assert.Contains("# TYPE cis490_jobs gauge", text);
        Assert.Contains("cis490_jobs{", text);
        Assert.Contains("status=\"pending\"", text);
    }

    [Fact]
    public async Task Metrics_include_the_gc_heap_size_so_an_operator_sees_what_the_memory_is_made_of()
    {
        GC.Collect(); // the gauge reports the heap as of the last collection: make sure there was one
        var text = await Http.GetStringAsync("/metrics");
        var line = text.Split('\n').FirstOrDefault(l => l.StartsWith("cis490_gc_heap_bytes", StringComparison.Ordinal));
        Assert.True(line is not null, "no cis490_gc_heap_bytes in /metrics:\n" + text);
        var bytes = double.Parse(line.Split(' ')[^1], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(bytes, 1e5, 64e9); // a real heap's size, in bytes
    }
}
