namespace Cis490.Protocols.Workers;

/// <summary>What a worker machine can do, detected at start-up and advertised to the coordinator.</summary>
public sealed record WorkerCapability(
    string Hostname,
    int Cores,
    double RamGib,
    bool Cuda,
    double VramGib,
    string? CudaDevice,
    string TorchVersion,
    string GitCommit,
    string Os) : ICis490Message;
