namespace Cis490.Training.Features;

/// <summary>One window of one episode as the feature table stores it: identity, provenance, label, and its summary features
/// (in the order of the feature schema's full column list; NaN where a channel is missing).</summary>
public sealed record WindowRow(
    string WindowId,
    string EpisodeId,
    string Host,
    string Profile,
    string Sample,
    long TStartNs,
    long TEndNs,
    string Label,
    bool Degraded,
    float[] Features);
