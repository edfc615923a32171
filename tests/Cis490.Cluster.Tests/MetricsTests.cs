using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Cis490.Shell.Demo;
using Cis490.Testing;
using Xunit;
using Xunit.Abstractions;

namespace Cis490.Cluster.Tests;

/// <summary>Metrics end to end: Debian's real Prometheus, started on loopback by the test, scrapes a coordinator's <c>/metrics</c>
/// and a worker's own listener while a small manifest trains; the test reads the fleet's figures back through Prometheus's HTTP
/// API, and runs every query of the Grafana dashboard there (each must parse and return data of the right kind).</summary>
[Collection(ClusterCollection.Name)]
public sealed class MetricsTests(DataFixture data, ITestOutputHelper output)
{
    /// <summary>Debian's prometheus; CIS490_PROMETHEUS names another. <c>./cis490 test</c> installs the package.</summary>
    private static string Prometheus => Environment.GetEnvironmentVariable("CIS490_PROMETHEUS") is { Length: > 0 } p ? p : "/usr/bin/prometheus";

    private const string Manifest = """
        [[jobs]]
        model = "mlp"
        mode = "realistic"
        hyper = { max_epochs = 4 }

        [[jobs]]
        model = "knn"
        mode = "realistic"
        hyper = { k = 3 }
        """;

    [Fact]
    public async Task A_real_Prometheus_scrapes_the_coordinator_and_a_worker_and_finds_the_fleets_figures_after_a_manifest_trains()
    {
        Assert.True(File.Exists(Prometheus), $"{Prometheus} is missing: apt-get install prometheus (./cis490 test installs it), or set CIS490_PROMETHEUS");
        await using var h = new ClusterHarness(data.Small);
        var httpPort = NodeProcess.FreePort();
        var workerMetrics = NodeProcess.FreePort();
        await h.StartCoordinator("--http-port", httpPort.ToString());
        await h.StartWorker("worker-m", "--metrics-port", workerMetrics.ToString());

        var promPort = NodeProcess.FreePort();
        var promDir = Directory.CreateDirectory(Path.Combine(h.DataDir, "prometheus")).FullName;
        var config = Path.Combine(promDir, "prometheus.yml");
        // 1 s scrapes: the test waits for figures, not minutes (Prometheus's default is 1 m).
        await File.WriteAllTextAsync(config, $"""
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
            scrape_configs:
              - job_name: cis490-coordinator
                static_configs: [{"{"} targets: ["127.0.0.1:{httpPort}"] {"}"}]
              - job_name: cis490-worker
                static_configs: [{"{"} targets: ["127.0.0.1:{workerMetrics}"] {"}"}]
            """);
        using var prometheus = StartPrometheus(config, promDir, promPort);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{promPort}/"), Timeout = TimeSpan.FromSeconds(10) };
        try
        {
            // Both targets up.
            await Eventually(http, "up{job=\"cis490-coordinator\"}", v => v == 1, "the coordinator's /metrics scraped", TimeSpan.FromSeconds(60), prometheus);
            await Eventually(http, "up{job=\"cis490-worker\"}", v => v == 1, "the worker's listener scraped", TimeSpan.FromSeconds(60), prometheus);

            var submit = await h.RunShellAsOperator("manifest", "submit", Write(h, "m.toml", Manifest), "--coordinator", h.Address);
            Assert.True(submit.Exit == 0, submit.Stderr);
            await h.WaitFor(jobs => jobs.Count == 2 && jobs.All(j => j.Status == "completed"), TimeSpan.FromMinutes(4), "both jobs completed");

            var within = TimeSpan.FromSeconds(30);
            // The coordinator's figures.
            await Eventually(http, "sum(cis490_jobs{status=\"completed\"})", v => v == 2, "2 completed jobs in cis490_jobs", within, prometheus);
            await Eventually(http, "sum(cis490_jobs{status=\"pending\"})", v => v == 0, "no pending job", within, prometheus);
            await Eventually(http, "sum(cis490_jobs_added_total)", v => v == 2, "2 jobs added", within, prometheus);
            // A lease the one-slot worker declines (its slot not yet free) is granted again: at least 2.
            await Eventually(http, "sum(cis490_leases_granted_total)", v => v >= 2, "2 or more leases granted", within, prometheus);
            await Eventually(http, "sum(cis490_leases_ended_total{outcome=\"completed\",family=\"mlp\"})", v => v == 1, "the MLP's lease ended completed", within, prometheus);
            await Eventually(http, "sum(cis490_leases_ended_total{outcome=\"completed\",family=\"knn\"})", v => v == 1, "the KNN's lease ended completed", within, prometheus);
            await Eventually(http, "sum(cis490_lease_latency_seconds_count)", v => v >= 2, "a latency per lease", within, prometheus);
            await Eventually(http, "sum(cis490_artifacts_stored_total)", v => v == 2, "2 artifacts stored", within, prometheus);
            await Eventually(http, "sum(cis490_artifact_stored_bytes_total)", v => v > 0, "artifact bytes", within, prometheus);
            await Eventually(http, "sum(cis490_journal_write_seconds_count)", v => v >= 4, "journal writes timed (one per decision: the manifest, the grants, starts, completions)", within, prometheus);
            await Eventually(http, "sum(cis490_recovery_seconds_count)", v => v == 1, "one recovery timed", within, prometheus);
            await Eventually(http, "sum(cis490_heartbeats_received_total)", v => v >= 1, "heartbeats received", within, prometheus);
            await Eventually(http, "sum(cis490_cluster_members{job=\"cis490-coordinator\",status=\"up\",reachability=\"reachable\"})", v => v == 2,
                "2 up, reachable members seen by the coordinator", within, prometheus);
            // The worker's figures.
            await Eventually(http, "sum(cis490_worker_slots{worker=\"worker-m\"})", v => v == 1, "the worker's slot", within, prometheus);
            await Eventually(http, "sum(cis490_worker_slots_busy{worker=\"worker-m\"})", v => v == 0, "no slot busy after the jobs", within, prometheus);
            await Eventually(http, "sum(cis490_trainer_epochs_total{family=\"mlp\"})", v => v >= 1, "MLP epochs counted", within, prometheus);
            await Eventually(http, "sum(cis490_trainer_epoch_seconds_count{family=\"mlp\"})", v => v >= 1, "MLP epoch seconds", within, prometheus);
            await Eventually(http, "sum(cis490_heartbeats_sent_total{job=\"cis490-worker\"})", v => v >= 1, "heartbeats sent", within, prometheus);
            await Eventually(http, "sum(cis490_transfers_total{direction=\"upload\",outcome=\"ok\"})", v => v == 2, "2 uploads", within, prometheus);

            // No label carries a job id (bounded label sets): no series of ours has a 64-hex-digit label value.
            var series = await Get(http, "api/v1/series?match[]={__name__=~\"cis490_.*\"}");
            var values = series.GetProperty("data").EnumerateArray().SelectMany(s => s.EnumerateObject().Select(p => p.Value.GetString() ?? "")).ToList();
            Assert.NotEmpty(values);
            Assert.DoesNotContain(values, v => System.Text.RegularExpressions.Regex.IsMatch(v, "^[0-9a-f]{64}$"));

            // Every Grafana query runs on this Prometheus without an error, and those over gauges and counters return data.
            foreach (var expr in GrafanaDashboard.Queries(GrafanaDashboard.Load()))
            {
                var answer = await Get(http, "api/v1/query?query=" + Uri.EscapeDataString(expr));
                Assert.True(answer.GetProperty("status").GetString() == "success", $"dashboard query failed: {expr}: {answer}");
                output.WriteLine($"{expr} → {answer.GetProperty("data").GetProperty("result").GetArrayLength()} series");
            }
        }
        catch
        {
            output.WriteLine(h.LogTails());
            output.WriteLine(prometheus.Log());
            throw;
        }
    }

    private static string Write(ClusterHarness h, string name, string text)
    {
        var path = Path.Combine(h.DataDir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static PrometheusProcess StartPrometheus(string config, string dir, int port)
    {
        var psi = new ProcessStartInfo(Prometheus)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { $"--config.file={config}", $"--storage.tsdb.path={Path.Combine(dir, "data")}", $"--web.listen-address=127.0.0.1:{port}" })
            psi.ArgumentList.Add(a);
        return new PrometheusProcess(Process.Start(psi)!);
    }

    private static async Task<JsonElement> Get(HttpClient http, string path)
    {
        using var response = await http.GetAsync(path);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>Queries Prometheus until <paramref name="expr"/>'s single value passes <paramref name="ok"/>, or fails naming the last answer.</summary>
    private static async Task Eventually(HttpClient http, string expr, Func<double, bool> ok, string what, TimeSpan within, PrometheusProcess prometheus)
    {
        var clock = Stopwatch.StartNew();
        var last = "no answer";
        while (clock.Elapsed < within)
        {
            if (prometheus.HasExited) Assert.Fail($"prometheus exited: {prometheus.Log()}");
            try
            {
                var answer = await Get(http, "api/v1/query?query=" + Uri.EscapeDataString(expr));
                last = answer.ToString();
                var result = answer.GetProperty("data").GetProperty("result");
                if (result.GetArrayLength() == 1 && ok(double.Parse(result[0].GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture))) return;
            }
            catch (HttpRequestException e)
            {
                last = e.Message; // Prometheus still starting
            }
            await Task.Delay(500);
        }
        Assert.Fail($"{what}: Prometheus's answer to {expr} after {within.TotalSeconds:F0} s: {last}");
    }

    private sealed class PrometheusProcess(Process process) : IDisposable
    {
        private readonly System.Text.StringBuilder _log = Drain(process);

        public bool HasExited => process.HasExited;

        public string Log()
        {
            lock (_log) return "prometheus log (tail):\n" + string.Join('\n', _log.ToString().Split('\n').TakeLast(30));
        }

        private static System.Text.StringBuilder Drain(Process p)
        {
            var sb = new System.Text.StringBuilder();
            p.OutputDataReceived += (_, e) => { lock (sb) sb.AppendLine(e.Data); };
            p.ErrorDataReceived += (_, e) => { lock (sb) sb.AppendLine(e.Data); };
            p.BeginOutputReadLine();
            p.BeginErrorReadLine();
            return sb;
        }

        public void Dispose()
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            process.WaitForExit(10_000);
            process.Dispose();
        }
    }
}
