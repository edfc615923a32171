using Cis490.Protocols.Workers;

namespace Cis490.Shared.Capability;

/// <summary>The worker's view of <see cref="MachineProbe"/>: the same detection, as the <see cref="WorkerCapability"/> it advertises.</summary>
/// <remarks>The detection lives in Cis490.Core so that Training can use it without Akka; Protocols stays free of our projects.</remarks>
public static class CapabilityDetector
{
    /// <summary>Detects the capability; <paramref name="selfTest"/> is what the worker's own trainer said it can run.</summary>
    public static WorkerCapability Detect(SelfTestReport selfTest, string? hostnameOverride = null) =>
        MachineProbe.Detect(selfTest, hostnameOverride).ToWorkerCapability();

    /// <summary>The protocol record carrying the same fields, in the same order.</summary>
    public static WorkerCapability ToWorkerCapability(this MachineCapability m) =>
        new(m.Hostname, m.Cores, m.RamGib, m.Cuda, m.VramGib, m.CudaDevice, m.TorchVersion, m.GitCommit, m.Os,
            m.Families, m.Unavailable, m.XgboostVersion, m.CudaNote);
}
