using Cis490.Protocols.Jobs;
using Cis490.Protocols.Workers;
using Cis490.Shared.Jobs;

namespace Cis490.Shared.Tests;

public class PlacementTests
{
    private static readonly WorkerCapability Laptop = new("laptop", 8, 16, false, 0, null, "2.10.0", "abc", "Linux");
    private static readonly WorkerCapability GpuBox = new("gpu-box", 16, 64, true, 12, "RTX", "2.10.0", "abc", "Linux");

    private static JobSpec Job(string model = "gru", string mode = "oracle", JobConstraints? needs = null) =>
        new(new string('a', 64), model, mode, "{}", "host", ["h"], 0, 0, 3, needs);

    private static JobConstraints Needs(bool cuda = false, bool prefer = false, double vram = 0, double ram = 0, params string[] hosts) =>
        new(cuda, prefer, vram, ram, hosts);

    [Fact]
    public void A_job_without_constraints_runs_anywhere()
    {
        Assert.Null(Placement.Refusal(Job(), Laptop, []));
        Assert.Null(Placement.Refusal(Job(), GpuBox, []));
    }

    [Theory]
    [InlineData("cuda", "needs CUDA")]
    [InlineData("ram", "needs 32 GiB of RAM; laptop has 16")]
    [InlineData("hosts", "runs only on gpu-box (allowed_hosts), not on laptop")]
    public void Each_constraint_refuses_a_worker_that_cannot_honour_it(string constraint, string reason)
    {
        var needs = constraint switch
        {
            "cuda" => Needs(cuda: true),
            "ram" => Needs(ram: 32),
            _ => Needs(hosts: "gpu-box"),
        };
        Assert.Contains(reason, Placement.Refusal(Job(needs: needs), Laptop, []));
        Assert.Null(Placement.Refusal(Job(needs: needs), GpuBox, []));
    }

    [Fact]
    public void A_worker_whose_self_test_did_not_list_a_family_is_refused_its_jobs_with_the_reason_and_one_that_did_not_say_runs_all()
    {
        var noXgboost = Laptop with
        {
            Families = ["cnn", "gru", "knn", "knn_semi", "lstm", "mlp", "transformer"],
            Unavailable = new Dictionary<string, string> { ["gbt"] = "XGBoost's C library (libxgboost.so.0) is not installed" },
        };

        Assert.Equal("cannot train gbt: XGBoost's C library (libxgboost.so.0) is not installed", Placement.Refusal(Job("gbt"), noXgboost, []));
        Assert.Null(Placement.Refusal(Job("knn"), noXgboost, []));
        Assert.Null(Placement.Refusal(Job("gbt"), Laptop, [])); // Families null: an older or /v1 worker, assumed to run every family
    }

    [Fact]
    public void A_require_cuda_refusal_says_why_the_workers_gpu_is_not_usable()
    {
        var fakeGpu = Laptop with { CudaNote = "GPU present (NVIDIA X, 24 GiB), not usable by this build: a CPU-only libtorch" };

        Assert.Equal("needs CUDA (require_cuda); laptop has none (GPU present (NVIDIA X, 24 GiB), not usable by this build: a CPU-only libtorch)",
            Placement.Refusal(Job(needs: Needs(cuda: true)), fakeGpu, []));
    }

    [Fact]
    public void Vram_counts_on_a_cuda_worker_and_prefer_cuda_alone_never_refuses()
    {
        Assert.Contains("needs 16 GiB of GPU memory; gpu-box has 12", Placement.Refusal(Job(needs: Needs(cuda: true, vram: 16)), GpuBox, []));
        Assert.Null(Placement.Refusal(Job(needs: Needs(prefer: true, vram: 16)), Laptop, [])); // prefers a GPU; the laptop is the fallback
        Assert.Null(Placement.Refusal(Job(needs: Needs(prefer: true)), Laptop, []));
    }

    [Fact]
    public void Deny_wins_over_allow_and_an_empty_allow_list_allows_the_rest()
    {
        var policy = new HostPolicy("laptop", null, null, null, ["gru", "*:oracle"], ["gru:realistic"]);
        Assert.True(Placement.Allows(policy, "gru", "oracle"));
        Assert.False(Placement.Allows(policy, "gru", "realistic"));  // allowed by "gru", denied by "gru:realistic"
        Assert.True(Placement.Allows(policy, "knn", "oracle"));      // "*:oracle"
        Assert.False(Placement.Allows(policy, "knn", "realistic"));  // not in allow
        var denyOnly = new HostPolicy("laptop", null, null, null, [], ["transformer"]);
        Assert.True(Placement.Allows(denyOnly, "knn", "realistic"));
        Assert.False(Placement.Allows(denyOnly, "transformer", "oracle"));
        Assert.Contains("policy does not allow transformer:oracle", Placement.Refusal(Job("transformer"), Laptop, [denyOnly]));
    }

    [Fact]
    public void A_declaration_can_lower_the_detected_capability_but_not_raise_it()
    {
        var keepGpuFree = new HostPolicy("GPU-BOX", false, null, 8, [], []); // host names match case-insensitively
        Assert.Contains("needs CUDA (require_cuda); gpu-box has none declared", Placement.Refusal(Job(needs: Needs(cuda: true)), GpuBox, [keepGpuFree]));
        Assert.Contains("needs 16 GiB of RAM; gpu-box has 8", Placement.Refusal(Job(needs: Needs(ram: 16)), GpuBox, [keepGpuFree]));
        var boasting = new HostPolicy("laptop", true, 48, 512, [], []);
        Assert.Contains("needs CUDA", Placement.Refusal(Job(needs: Needs(cuda: true)), Laptop, [boasting]));
        Assert.Contains("needs 32 GiB of RAM", Placement.Refusal(Job(needs: Needs(ram: 32)), Laptop, [boasting]));
    }
}
