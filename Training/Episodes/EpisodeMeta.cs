using System.Text.Json.Serialization;

namespace Cis490.Training.Episodes;

/// <summary>One phase of an episode's timeline, from <see cref="StartNs"/> (wall clock) to the next phase's start.</summary>
public sealed record PhaseSpan(string Phase, long StartNs);

/// <summary><c>meta.json</c> of an episode (Training/EPISODES.md).</summary>
public sealed record EpisodeMeta(
    string Format,
    string EpisodeId,
    string HostId,
    string Profile,
    string Sample,
    long StartNs,
    long EndNs,
    IReadOnlyList<PhaseSpan> Phases,
    IReadOnlyList<string> Channels)
{
    public const string CurrentFormat = "cis490.episode/v1";
    public const string FileName = "meta.json";

    /// <summary>The phase in force at wall-clock time <paramref name="tNs"/> (the last phase that started at or before it).</summary>
    public string PhaseAt(long tNs)
    {
        var phase = Phases[0].Phase;
        foreach (var p in Phases)
        {
            if (p.StartNs > tNs) break;
            phase = p.Phase;
        }
        return phase;
    }

    [JsonIgnore]
    public double DurationSeconds => (EndNs - StartNs) / 1e9;
}
