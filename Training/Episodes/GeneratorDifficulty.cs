using System.Globalization;

namespace Cis490.Training.Episodes;

/// <summary>How hard the synthetic set is: each knob is one way real recordings differ from an ideal one
/// (Training/EPISODES.md, "Difficulty"). <see cref="Default"/> is what <c>data generate</c> and the demo use;
/// <see cref="Legacy"/> writes exactly the bytes of the generator before these knobs existed.</summary>
/// <param name="HostShift">How far the gaming PC's baseline sits from the laptop's, in log space: 0 = the same baseline,
/// 1 = the full 2.7–6.7× of the legacy generator.</param>
/// <param name="EpisodeSpread">Standard deviation (log space) of a per-episode, per-field factor on the baseline: how much one
/// machine's background load differs from one recording to the next. 0 = every episode of a host has the same baseline.</param>
/// <param name="LabelNoise">Seconds: each recorded phase boundary (the label) is off from the moment the behaviour changes by a
/// uniform offset in ±this (the recorder's phase markers are written by a script, not by the sample).</param>
/// <param name="PhaseOverlap">Seconds: after a boundary the channels move from the previous phase's effect to the new one's
/// linearly over this long, so the first windows of a phase look like the one before.</param>
/// <param name="OracleSignal">0–1: how clearly the oracle-only <c>sample_tree</c> channel tracks the sample. 1 = the legacy
/// channel (exactly 0 while clean, a perfect proxy for the label); lower values scale the sample's own footprint down and add
/// the tracker's mis-attributed background processes, which are there in every phase.</param>
public sealed record GeneratorDifficulty(double HostShift, double EpisodeSpread, double LabelNoise, double PhaseOverlap, double OracleSignal)
{
    /// <summary>The generator's defaults: hosts differ but overlap, labels are a little late or early, phases blend, and
    /// the oracle channel helps without giving the label away (chosen so the demo's families separate; README "Evaluation").</summary>
    public static readonly GeneratorDifficulty Default = new(HostShift: 0.35, EpisodeSpread: 0.35, LabelNoise: 4, PhaseOverlap: 8, OracleSignal: 0.4);

    /// <summary>The generator as it was before these knobs: byte-identical files for the same (count, seed).</summary>
    public static readonly GeneratorDifficulty Legacy = new(HostShift: 1, EpisodeSpread: 0, LabelNoise: 0, PhaseOverlap: 0, OracleSignal: 1);

    /// <summary>Refuses values outside their ranges, naming the knob.</summary>
    public GeneratorDifficulty Validated()
    {
        Check(nameof(HostShift), HostShift, 0, 2);
        Check(nameof(EpisodeSpread), EpisodeSpread, 0, 2);
        Check(nameof(LabelNoise), LabelNoise, 0, 5); // armed and infecting last at least 6 s: a larger offset could reorder them
        Check(nameof(PhaseOverlap), PhaseOverlap, 0, 30);
        Check(nameof(OracleSignal), OracleSignal, 0, 1);
        return this;
    }

    /// <summary>True when every knob is at its legacy value (no extra random draws are made then).</summary>
    public bool IsLegacy => this == Legacy;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"host_shift {HostShift}, episode_spread {EpisodeSpread}, label_noise {LabelNoise} s, phase_overlap {PhaseOverlap} s, oracle_signal {OracleSignal}");

    private static void Check(string name, double value, double min, double max)
    {
        if (double.IsNaN(value) || value < min || value > max)
            throw new ArgumentOutOfRangeException(name, value, $"generator difficulty {name} must be within [{min}, {max}]");
    }
}
