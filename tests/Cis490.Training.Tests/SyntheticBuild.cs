using Cis490.Training.Data;
using Cis490.Training.Episodes;
using Cis490.Training.Features;

namespace Cis490.Training.Tests;

/// <summary>A synthetic data set generated and built once for the tests that only read it.</summary>
public abstract class BuiltData : IDisposable
{
    /// <summary>Windows per 240 s episode with 30 s windows every 10 s: starts 0, 10, …, 210.</summary>
    public const int WindowsPerEpisode = 22;

    private readonly TempDir _tmp = new();

    protected BuiltData(int episodes, int seed)
    {
        Episodes = episodes;
        EpisodeFiles = SyntheticEpisodes.Generate(EpisodesDir, episodes, seed);
        Summary = DataBuilder.Build(new BuildOptions(EpisodesDir, DataDir, new WindowSettings()));
        Table = FeatureTable.Load(DataDir);
        Metas = EpisodeFiles.Select(f => EpisodeArchive.Read(f, ChannelRegistry.Default).Data!.Meta).ToList();
    }

    public int Episodes { get; }
    public string EpisodesDir => _tmp.Combine("episodes");
    public string DataDir => _tmp.Combine("data");
    public IReadOnlyList<string> EpisodeFiles { get; }
    public BuildSummary Summary { get; }
    public FeatureTable Table { get; }
    public IReadOnlyList<EpisodeMeta> Metas { get; }

    public void Dispose()
    {
        _tmp.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>300 episodes: enough for the generator's structure (all twelve samples) and for stable split shares.</summary>
public sealed class SyntheticBuild() : BuiltData(300, 490);

/// <summary>80 episodes: enough to train and score a KNN in about a second.</summary>
public sealed class SmallBuild() : BuiltData(80, 7);

[CollectionDefinition(Name)]
public sealed class SyntheticBuildCollection : ICollectionFixture<SyntheticBuild>
{
    public const string Name = "synthetic build";
}
