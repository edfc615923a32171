using Cis490.Training.Data;
using Cis490.Training.Episodes;
using Cis490.Training.Features;

namespace Cis490.Training.Tests;

/// <summary>One synthetic data set, generated and built once for every test that only reads it (generator structure,
/// build outputs, splits, training): 300 episodes take a few seconds and show all twelve samples.</summary>
public sealed class SyntheticBuild : IDisposable
{
    public const int Episodes = 300;
    public const int Seed = 490;

    /// <summary>Windows per 240 s episode with 30 s windows every 10 s: starts 0, 10, …, 210.</summary>
    public const int WindowsPerEpisode = 22;

    private readonly TempDir _tmp = new();

    public SyntheticBuild()
    {
        EpisodeFiles = SyntheticEpisodes.Generate(EpisodesDir, Episodes, Seed);
        Summary = DataBuilder.Build(new BuildOptions(EpisodesDir, DataDir, new WindowSettings()));
        Table = FeatureTable.Load(DataDir);
        Metas = EpisodeFiles.Select(f => EpisodeArchive.Read(f, ChannelRegistry.Default).Data!.Meta).ToList();
    }

    public string EpisodesDir => _tmp.Combine("episodes");
    public string DataDir => _tmp.Combine("data");
    public IReadOnlyList<string> EpisodeFiles { get; }
    public BuildSummary Summary { get; }
    public FeatureTable Table { get; }
    public IReadOnlyList<EpisodeMeta> Metas { get; }

    public void Dispose() => _tmp.Dispose();
}

[CollectionDefinition(Name)]
public sealed class SyntheticBuildCollection : ICollectionFixture<SyntheticBuild>
{
    public const string Name = "synthetic build";
}
