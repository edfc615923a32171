namespace Cis490.Protocols.Workers;

/// <summary>What a worker machine can do, detected at start-up and advertised to the coordinator.</summary>
/// <param name="Cuda">Whether the worker's own training engine can use a GPU (not merely that one is present).</param>
/// <param name="Families">The model families the worker's self-test trained for real; null when it did not say (an older node, or an
/// HTTP <c>/v1</c> worker of the earlier fleet): then every family is assumed.</param>
/// <param name="Unavailable">Family → why this worker cannot train it (from its self-test).</param>
/// <param name="XgboostVersion">libxgboost's version as loaded by the self-test, or null when it did not load.</param>
/// <param name="CudaNote">Why <see cref="Cuda"/> is false (no GPU; or a GPU present that this build cannot use, and why), or null.</param>
public sealed record WorkerCapability(
    string Hostname,
    int Cores,
    double RamGib,
    bool Cuda,
    double VramGib,
    string? CudaDevice,
    string TorchVersion,
    string GitCommit,
    string Os,
    IReadOnlyList<string>? Families = null,
    IReadOnlyDictionary<string, string>? Unavailable = null,
    string? XgboostVersion = null,
    string? CudaNote = null) : ICis490Message
{
    /// <summary>Whether this worker can train <paramref name="family"/>: it said so, or it did not say (all families assumed).</summary>
    public bool CanTrain(string family) => Families is null || Families.Contains(family, StringComparer.Ordinal);

    /// <summary>Why this worker cannot train <paramref name="family"/>, or null when it can.</summary>
    public string? WhyNot(string family) => CanTrain(family)
        ? null
        : Unavailable?.GetValueOrDefault(family) is { Length: > 0 } why ? why : "its self-test did not list it";
}
