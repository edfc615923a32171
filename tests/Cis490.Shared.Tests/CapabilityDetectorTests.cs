using Cis490.Protocols.Workers;
using Cis490.Shared.Capability;

namespace Cis490.Shared.Tests;

/// <summary>The probe's plain record (Core, free of actors) and the advertised protocol record stay the same fields.</summary>
public class CapabilityDetectorTests
{
    [Fact]
    public void The_advertised_capability_carries_every_field_the_probe_detects_with_its_value()
    {
        var machine = new MachineCapability("gpu-box", 16, 62.5, true, 12, "RTX", "2.10.0", "abc123", "Linux");

        var worker = machine.ToWorkerCapability();

        var probed = typeof(MachineCapability).GetProperties().ToDictionary(p => p.Name, p => p.GetValue(machine));
        var advertised = typeof(WorkerCapability).GetProperties().ToDictionary(p => p.Name, p => p.GetValue(worker));
        Assert.Equal(probed.OrderBy(kv => kv.Key), advertised.OrderBy(kv => kv.Key));
    }

    [Fact]
    public void Detection_names_the_host_it_is_told_and_counts_this_machines_cores()
    {
        var capability = CapabilityDetector.Detect("2.10.0", hostnameOverride: "probe-test");

        Assert.Equal("probe-test", capability.Hostname);
        Assert.Equal(Environment.ProcessorCount, capability.Cores);
        Assert.Equal("2.10.0", capability.TorchVersion);
        Assert.True(capability.RamGib > 0);
    }
}
