using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Cis490.Protocols.Jobs;
using Cis490.Shell.Demo;
using Xunit;

namespace Cis490.Cluster.Tests;

/// <summary>The earlier fleet's worker, unmodified: a stdlib-Python daemon (<c>legacy/earlier_fleet_worker.py</c>, written from what
/// is known of that fleet alone: no lease ids, flat capability, no credential, a 30 s heartbeat, the tarball's sha256 with its
/// upload, a 10 s claim timeout) trains a manifest beside a native Akka worker against a real coordinator process started with
/// <c>--v1-anonymous</c>.</summary>
[Collection(ClusterCollection.Name)]
public sealed class LegacyFleetTests(DataFixture data)
{
    // Worker nodes here get a 6 s heartbeat deadline; /v1 leases keep their own 120 s one (the product's default), so the
    // Python worker's 30 s cadence over a job that trains longer than 6 s must not lose its lease.
    private const string Config = """
        cis490.coordinator.heartbeat-deadline = 6s
        cis490.coordinator.retry-backoff-base = 1s
        """;

    // Shared jobs either worker may take; then jobs only the legacy host may run (allowed_hosts): a long one (mlp, 150 epochs:
    // longer than the 6 s deadline) the test cancels and requeues under it, and one whose trainer fails (no such training host).
    private const string Manifest = """
        [[jobs]]
        model = "knn"
        mode = "realistic"
        hyper = { k = 3 }

        [[jobs]]
        model = "knn"
        mode = "oracle"
        hyper = { k = 3 }

        [[jobs]]
        model = "knn"
        mode = "realistic"
        hyper = { k = 5 }

        [[jobs]]
        model = "gbt"
        mode = "oracle"

        [[jobs]]
        model = "mlp"
        mode = "oracle"
        hyper = { max_epochs = 150, patience = 150 }
        allowed_hosts = ["legacy-box"]
        priority = -1

        [[jobs]]
        model = "knn"
        mode = "oracle"
        hyper = { k = 7 }
        train_hosts = ["no-such-host"]
        allowed_hosts = ["legacy-box"]
        max_attempts = 2
        priority = -2
        """;

    [Fact]
    public async Task The_earlier_fleets_python_worker_trains_a_manifest_beside_a_native_worker_with_fencing_retries_and_byte_identical_artifacts()
    {
        await using var h = new ClusterHarness(data.Small);
        var config = Path.Combine(h.DataDir, "legacy.conf");
        await File.WriteAllTextAsync(config, Config);
        var httpPort = NodeProcess.FreePort();
        await h.StartCoordinator("--http-port", httpPort.ToString(), "--v1-anonymous", "--config", config);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}"), Timeout = TimeSpan.FromSeconds(30) };
        var manifest = Path.Combine(h.DataDir, "jobs.toml");
        await File.WriteAllTextAsync(manifest, Manifest);
        // The earlier fleet's operator CLI, unmodified too: it loads the manifest with the operator token from its environment.
        var cli = new LegacyCli(httpPort, h.Token);
        var (exit, loaded) = await cli.Run("reload", manifest);
        Assert.True(exit == 0, loaded);
        Assert.Equal(6, JsonDocument.Parse(loaded).RootElement.GetProperty("added_job_ids").GetArrayLength());

        // The native worker first: it takes a shared job the moment it registers, so both kinds of worker train side by side
        // however fast the Python worker is.
        await h.StartWorker("native-1");
        await using var legacy = LegacyWorker.Start(httpPort, data.Small, Path.Combine(h.DataDir, "legacy-work"));

        // The long legacy-only job: once it runs on the legacy worker, an operator cancels and requeues it under it.
        var jobs = await h.WaitFor(j => j.Any(x => x.Model == "mlp" && x.Status == JobStatus.Running), TimeSpan.FromSeconds(120), "the mlp job running");
        var mlp = jobs.Single(x => x.Model == "mlp");
        Assert.Equal("legacy-1", mlp.WorkerId);
        var (_, claimed) = await cli.Run("list", "--status", "claimed");
        var (_, shown) = await cli.Run("show", mlp.JobId[..12]);
        var (cancelExit, cancelled) = await cli.Run("cancel", mlp.JobId, "--reason", "wrong epochs");
        var (requeueExit, requeued) = await cli.Run("requeue", mlp.JobId);
        Assert.Equal("running", JsonDocument.Parse(shown).RootElement.GetProperty("job").GetProperty("status").GetString());
        Assert.DoesNotContain(mlp.JobId, claimed); // running, not leased
        Assert.True(cancelExit == 0, cancelled);
        Assert.True(requeueExit == 0, requeued);
        Assert.Contains("worker legacy-1 was told to stop", cancelled);

        var failing = jobs.Single(x => x.HyperJson.Contains("\"k\":7")).JobId;
        jobs = await h.WaitFor(j => j.All(x => x.JobId == failing ? x.Status == JobStatus.Failed : x.Status == JobStatus.Completed),
            TimeSpan.FromSeconds(150), "every job completed, the failing one failed\n" + legacy.Output);

        // Its stale call after the requeue was refused (409); the requeued job was claimed again and completed by it.
        var events = legacy.Events;
        Assert.Contains(events, e => e.Kind == "refused" && e.JobId == mlp.JobId && e.Status == 409);
        var completed = events.Where(e => e.Kind == "completed").ToList();
        Assert.Contains(completed, e => e.JobId == mlp.JobId);
        Assert.True(completed.Count >= 2, "the legacy worker completed only " + completed.Count + " job(s)\n" + legacy.Output);

        // Every job completed exactly once; the failing one was tried max_attempts (2) times and failed.
        foreach (var job in jobs.Where(j => j.JobId != failing))
        {
            var (_, detail) = await Get(http, $"/api/jobs/{job.JobId}");
            var outcomes = detail.GetProperty("attempts").EnumerateArray().Select(a => a.GetProperty("outcome").GetString()).ToList();
            Assert.True(outcomes.Count(o => o == "completed") == 1, $"{job.Model} {job.JobId}: {string.Join(", ", outcomes)}");
        }
        var failed = jobs.Single(j => j.JobId == failing);
        Assert.Equal(2, failed.FailedAttempts);
        Assert.Contains("no training windows", failed.LastError);
        Assert.Equal(2, events.Count(e => e.Kind == "failed" && e.JobId == failing));
        Assert.Equal(jobs.Count - 1, File.ReadAllLines(Path.Combine(h.DataDir, "models", "index.jsonl")).Length);

        // What the legacy worker uploaded is stored byte for byte: its own sha256, and the same bytes back from the store.
        foreach (var c in completed)
        {
            var tarball = await File.ReadAllBytesAsync(c.Tarball!);
            var stored = await http.GetByteArrayAsync($"/api/artifacts/{c.Sha256}");
            Assert.Equal(c.Sha256, c.Stored);
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(tarball)), c.Sha256);
            Assert.True(tarball.AsSpan().SequenceEqual(stored), $"artifact {c.Sha256} differs from the uploaded tarball");
            Assert.Equal(c.Sha256, jobs.Single(j => j.JobId == c.JobId).ArtifactSha256);
        }

        // It registered with its flat capability understood, and its leases had the /v1 deadline it can keep.
        var (workersExit, listed) = await cli.Run("workers");
        var (statusExit, health) = await cli.Run("status");
        Assert.Equal((0, 0), (workersExit, statusExit));
        Assert.True(JsonDocument.Parse(health).RootElement.GetProperty("ok").GetBoolean(), health);
        var workers = JsonDocument.Parse(listed).RootElement;
        var legacyWorker = workers.GetProperty("workers").EnumerateArray().Single(w => w.GetProperty("worker_id").GetString() == "legacy-1");
        Assert.Equal(("legacy-box", Environment.ProcessorCount), (legacyWorker.GetProperty("capability").GetProperty("hostname").GetString(),
            legacyWorker.GetProperty("capability").GetProperty("cores").GetInt32()));
        Assert.True(legacyWorker.GetProperty("capability").GetProperty("ram_gib").GetDouble() > 0.5);
        Assert.DoesNotContain(jobs, j => j.LastError?.Contains("no heartbeat") == true);
        Assert.Contains(jobs, j => j.WorkerId == "native-1");
    }

    /// <summary>The earlier fleet's operator CLI (<c>legacy/earlier_fleet_cli.py</c>) as a process, its token in its environment.</summary>
    private sealed record LegacyCli(int HttpPort, string Token)
    {
        public async Task<(int Exit, string Output)> Run(params string[] args)
        {
            var psi = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "legacy", "earlier_fleet_cli.py"), "--api", $"http://127.0.0.1:{HttpPort}" }.Concat(args))
                psi.ArgumentList.Add(a);
            psi.Environment["CIS490_OPERATOR_TOKEN"] = Token;
            using var p = Process.Start(psi)!;
            var output = await p.StandardOutput.ReadToEndAsync();
            var error = await p.StandardError.ReadToEndAsync();
            await p.WaitForExitAsync();
            return (p.ExitCode, output + error);
        }
    }

    private static async Task<(HttpStatusCode, JsonElement)> Get(HttpClient http, string path)
    {
        using var response = await http.GetAsync(path);
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    /// <summary>One line the Python worker printed.</summary>
    private sealed record Event(string Kind, string? JobId, int? Status, string? Sha256, string? Tarball, string? Stored);

    /// <summary>The Python worker as a process: <c>python3 earlier_fleet_worker.py</c>, its JSON lines collected.</summary>
    private sealed class LegacyWorker : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly ConcurrentQueue<string> _lines = new();

        private LegacyWorker(Process process)
        {
            _process = process;
            process.OutputDataReceived += (_, e) => { if (e.Data is not null) _lines.Enqueue(e.Data); };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) _lines.Enqueue("stderr: " + e.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public static LegacyWorker Start(int httpPort, string data, string work)
        {
            var script = Path.Combine(AppContext.BaseDirectory, "legacy", "earlier_fleet_worker.py");
            var psi = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in new[] { script, "--api", $"http://127.0.0.1:{httpPort}", "--worker-id", "legacy-1", "--hostname", "legacy-box",
                         "--trainer", $"dotnet {NodeProcess.ProgramPath("Cis490.WorkerNode")} train", "--data", data, "--work", work })
                psi.ArgumentList.Add(a);
            return new LegacyWorker(Process.Start(psi) ?? throw new InvalidOperationException("python3 did not start (is it installed? ./cis490 test installs it)"));
        }

        public string Output => string.Join("\n", _lines);

        public IReadOnlyList<Event> Events => _lines.Where(l => l.StartsWith('{')).Select(l =>
        {
            var e = JsonDocument.Parse(l).RootElement;
            string? S(string n) => e.TryGetProperty(n, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            int? I(string n) => e.TryGetProperty(n, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : null;
            return new Event(S("event")!, S("job_id"), I("status"), S("sha256"), S("tarball"), S("stored"));
        }).ToList();

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
            _process.Dispose();
        }
    }
}
