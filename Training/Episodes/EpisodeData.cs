namespace Cis490.Training.Episodes;

/// <summary>The records of one channel, column-wise: wall-clock times, the optional monotonic clock, and one array per field (NaN where a record lacks it).
/// Doubles, not floats: a counter since boot (10¹² bytes and more) keeps its last digits, so a rate of a few bytes per second survives.</summary>
public sealed record ChannelSeries(long[] TWallNs, long[]? TMonoNs, double[][] Fields)
{
    public int Count => TWallNs.Length;
}

/// <summary>A decoded episode: its metadata and the series of each channel it holds (a degraded episode lacks some).</summary>
public sealed record EpisodeData(EpisodeMeta Meta, IReadOnlyDictionary<string, ChannelSeries> Channels);

/// <summary>What decoding an episode file gave: the data, or the problems that make it unusable (never both).</summary>
public sealed record EpisodeReadResult(string Path, EpisodeData? Data, IReadOnlyList<string> Problems, IReadOnlyList<string> Warnings)
{
    public bool Ok => Data is not null;

    /// <summary>The kind of the first problem (corrupt_zstd, truncated_tar, missing_meta, …), for the build summary's counts.</summary>
    public string? ProblemKind => Problems.Count == 0 ? null : Problems[0].Split(':')[0];
}
