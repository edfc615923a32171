using System.Text.Json;
using Cis490.Protocols.Jobs;
using Cis490.Shell.Demo;
using Xunit;
using Xunit.Abstractions;

namespace Cis490.Cluster.Tests;

/// <summary>Honest capability with real processes: a worker whose XGBoost library really does not load (its path points nowhere)
/// and whose PATH has an nvidia-smi that lists a GPU its CPU libtorch cannot use advertises exactly that, is never leased the gbt
/// job, and the operator sees why in <c>jobs show</c>, <c>workers</c> and <c>/api/workers</c>; a worker that can run nothing exits.</summary>
[Collection(ClusterCollection.Name)]
[System.Runtime.Versioning.SupportedOSPlatform("linux")] // a shell script on PATH; the worker's libtorch is linux-x64
public sealed class SelfTestClusterTests(DataFixture data, ITestOutputHelper output)
{
    private const string Manifest = """
        [[jobs]]
        model = "gbt"
        mode = "realistic"
        priority = 9

        [[jobs]]
        model = "knn"
        mode = "realistic"
        hyper = { k = 3 }

        [[jobs]]
        model = "knn"
        mode = "oracle"
        hyper = { k = 3 }
        require_cuda = true
        """;

    /// <summary>A folder holding an <c>nvidia-smi</c> that lists one GPU, as the real one answers the probe's query.</summary>
    private static string FakeNvidiaSmi(string root)
    {
        var bin = Directory.CreateDirectory(Path.Combine(root, "fake-bin")).FullName;
        var script = Path.Combine(bin, "nvidia-smi");
        File.WriteAllText(script, "#!/bin/sh\n# Answers --query-gpu=name,memory.total --format=csv,noheader,nounits like a 24 GiB card.\necho 'Fake GPU 4090, 24576'\n");
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return bin;
    }

    [Fact]
    public async Task A_worker_without_libxgboost_never_gets_the_gbt_job_and_a_gpu_its_libtorch_cannot_use_is_not_cuda_and_operators_see_why()
    {
        await using var h = new ClusterHarness(data.Small);
        var httpPort = NodeProcess.FreePort();
        var coordinator = await h.StartCoordinator("--http-port", httpPort.ToString());
        var env = new Dictionary<string, string>
        {
            ["CIS490_XGBOOST_LIBRARY"] = "/nonexistent/libxgboost.so.0",
            ["PATH"] = FakeNvidiaSmi(h.DataDir) + ":" + Environment.GetEnvironmentVariable("PATH"),
        };
        var worker = await h.StartWorker("no-xgb", env);
        var manifest = Path.Combine(h.DataDir, "jobs.toml");
        File.WriteAllText(manifest, Manifest);
        var submit = await h.RunShellAsOperator("manifest", "submit", manifest, "--coordinator", h.Address);
        Assert.True(submit.Exit == 0, submit.Stderr + submit.Stdout);

        var jobs = await h.WaitFor(j => j.Any(x => x.Model == "knn" && x.Status == JobStatus.Completed), TimeSpan.FromMinutes(2), "the knn job completed");
        var gbt = jobs.Single(j => j.Model == "gbt");
        var cuda = jobs.Single(j => j.Mode == "oracle");
        Assert.Equal((JobStatus.Pending, (string?)null, 0L), (gbt.Status, gbt.WorkerId, gbt.LeaseId));
        Assert.Equal((JobStatus.Pending, 0L), (cuda.Status, cuda.LeaseId));
        Assert.DoesNotContain(File.ReadAllLines(coordinator.LogPath), l => l.Contains($"Leased job {gbt.JobId}", StringComparison.Ordinal));

        var showGbt = await ClusterHarness.RunShell("shell", "--coordinator", h.Address, "jobs", "show", gbt.JobId);
        var showCuda = await ClusterHarness.RunShell("shell", "--coordinator", h.Address, "jobs", "show", cuda.JobId);
        var workers = await ClusterHarness.RunShell("shell", "--coordinator", h.Address, "workers");
        output.WriteLine(showGbt.Stdout + showCuda.Stdout + workers.Stdout);
        Assert.Contains("no connected worker can train gbt", showGbt.Stdout);
        Assert.Contains("no-xgb: cannot train gbt: XGBoost's C library could not be loaded from /nonexistent/libxgboost.so.0", showGbt.Stdout);
        Assert.Contains("needs CUDA (require_cuda)", showCuda.Stdout);
        Assert.Contains("GPU present (Fake GPU 4090, 24 GiB), not usable by this build", showCuda.Stdout);
        Assert.Contains("7/8 (no gbt)", workers.Stdout);
        Assert.Contains("xgboost none", workers.Stdout);
        Assert.Contains("no-xgb: cannot train gbt: XGBoost's C library could not be loaded from /nonexistent/libxgboost.so.0", workers.Stdout);
        Assert.Contains("no-xgb: cuda: false (GPU present (Fake GPU 4090, 24 GiB), not usable by this build: torch.cuda.is_available() is false", workers.Stdout);

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}"), Timeout = TimeSpan.FromSeconds(30) };
        var api = JsonDocument.Parse(await http.GetStringAsync("/api/workers")).RootElement;
        var capability = api.GetProperty("workers").EnumerateArray().Single().GetProperty("capability");
        var families = capability.GetProperty("families").EnumerateArray().Select(f => f.GetString()).ToList();
        Assert.Equal(["cnn", "gru", "knn", "knn_semi", "lstm", "mlp", "transformer"], families);
        Assert.StartsWith("XGBoost's C library could not be loaded", capability.GetProperty("unavailable").GetProperty("gbt").GetString());
        Assert.False(capability.GetProperty("cuda").GetBoolean());
        Assert.Contains("not usable by this build", capability.GetProperty("cuda_note").GetString());
        Assert.StartsWith("2.10", capability.GetProperty("torch_version").GetString());
        Assert.Contains(File.ReadAllLines(worker.LogPath), l => l.Contains("worker: self-test: can train cnn, gru, knn, knn_semi, lstm, mlp, transformer; cannot train gbt"));
    }

    [Fact]
    public async Task A_worker_that_can_run_no_family_exits_with_code_5_saying_why_and_never_registers()
    {
        // A temporary folder that cannot be written: the self-test cannot make even its data, so no family trains for real.
        var (exit, stdout, stderr) = await ClusterHarness.RunProgram("Cis490.WorkerNode", new Dictionary<string, string?> { ["TMPDIR"] = "/proc" },
            "worker", "--seed", "akka.tcp://cis490@127.0.0.1:1", "--data", data.Small);

        output.WriteLine(stderr);
        Assert.Equal(5, exit);
        Assert.Contains("self-test: this machine can run NO model family, so it does not register", stderr);
        Assert.Contains("cnn, gbt, gru, knn, knn_semi, lstm, mlp, transformer: the self-test could not make its data in /proc/", stderr);
        Assert.DoesNotContain("READY", stdout + stderr);
    }

    [Fact]
    public async Task A_self_test_that_does_not_report_within_its_timeout_is_killed_and_the_worker_exits_saying_so()
    {
        var config = Path.Combine(data.Root, "short-self-test.conf");
        // Far shorter than the trainer's own start-up: the bound is what is tested, not a slow machine.
        File.WriteAllText(config, "cis490.worker.self-test-timeout = 200ms\n");

        var (exit, _, stderr) = await ClusterHarness.RunProgram("Cis490.WorkerNode",
            "worker", "--seed", "akka.tcp://cis490@127.0.0.1:1", "--data", data.Small, "--config", config);

        output.WriteLine(stderr);
        Assert.Equal(5, exit);
        Assert.Contains("self-test: the trainer did not finish within 0.2 s (cis490.worker.self-test-timeout) and was killed; not registering", stderr);
    }
}
