using Cis490.Protocols.Workers;
using Cis490.Shared.Capability;

namespace Cis490.Shared.Tests;

/// <summary>The probe's plain record (Core, free of actors) and the advertised protocol record stay the same fields.</summary>
public class CapabilityDetectorTests
{
    [Fact]
    public void The_advertised_capability_carries_every_field_the_probe_detects_with_its_value()
    {
        var machine = new MachineCapability("gpu-box", 16, 62.5, true, 12, "RTX", "2.10.0", "abc123", "Linux",
            ["knn", "mlp"], new Dictionary<string, string> { ["gbt"] = "no libxgboost" }, "1.7.4", null);

        var worker = machine.ToWorkerCapability();

        var probed = typeof(MachineCapability).GetProperties().ToDictionary(p => p.Name, p => p.GetValue(machine));
        // DataSets is not probed: only an HTTP /v1 worker declares the data sets it has; a worker node pulls any (null).
        var advertised = typeof(WorkerCapability).GetProperties().Where(p => p.Name != nameof(WorkerCapability.DataSets))
            .ToDictionary(p => p.Name, p => p.GetValue(worker));
        Assert.Equal(probed.OrderBy(kv => kv.Key), advertised.OrderBy(kv => kv.Key));
        Assert.Null(worker.DataSets);
    }

    private static SelfTestReport Report(bool torchCuda, string? cudaProblem = null) => new(
        new Dictionary<string, FamilyCheck> { ["knn"] = new(true, null, 0.1), ["gbt"] = new(false, "XGBoost's C library could not be loaded", 0) },
        "2.10.0", null, torchCuda, cudaProblem, 1.5);

    [Fact]
    public void Detection_names_the_host_it_is_told_counts_this_machines_cores_and_advertises_what_the_self_test_ran()
    {
        var capability = CapabilityDetector.Detect(Report(false, "a CPU-only build"), hostnameOverride: "probe-test");

        Assert.Equal("probe-test", capability.Hostname);
        Assert.Equal(Environment.ProcessorCount, capability.Cores);
        Assert.Equal("2.10.0", capability.TorchVersion);
        Assert.True(capability.RamGib > 0);
        Assert.Equal(["knn"], capability.Families);
        Assert.Equal("XGBoost's C library could not be loaded", capability.WhyNot("gbt"));
        Assert.Null(capability.XgboostVersion);
    }

    [Fact]
    public void A_gpu_the_engine_cannot_use_is_not_advertised_as_cuda_and_the_note_says_why()
    {
        var c = MachineProbe.Combine(Report(false, "torch.cuda.is_available() is false: this build ships the CPU-only libtorch"), new MachineProbe.Gpu("NVIDIA RTX 4090", 24));

        Assert.False(c.Cuda);
        Assert.Equal(0, c.VramGib);
        Assert.Null(c.CudaDevice);
        Assert.Equal("GPU present (NVIDIA RTX 4090, 24 GiB), not usable by this build: torch.cuda.is_available() is false: this build ships the CPU-only libtorch", c.CudaNote);
    }

    [Fact]
    public void Cuda_is_advertised_only_when_the_engine_can_use_it_with_the_memory_nvidia_smi_lists()
    {
        var usable = MachineProbe.Combine(Report(true), new MachineProbe.Gpu("NVIDIA RTX 4090", 24));
        var none = MachineProbe.Combine(Report(false, "CPU-only"), null);

        Assert.Equal((true, 24.0, "NVIDIA RTX 4090", (string?)null), (usable.Cuda, usable.VramGib, usable.CudaDevice, usable.CudaNote));
        Assert.Equal((false, "no GPU (nvidia-smi lists none)"), (none.Cuda, none.CudaNote));
    }
}
