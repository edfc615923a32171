using Xunit;

namespace Cis490.Cluster.Tests;

/// <summary>The data sets the cluster tests train on, generated once per run by the real <c>data synth</c> command.</summary>
public sealed class DataFixture : IAsyncLifetime
{
    public string Root { get; } = Directory.CreateTempSubdirectory("cis490-data-").FullName;

    /// <summary>Small: KNN jobs take a second or two.</summary>
    public string Small => Path.Combine(Root, "small", "features");

    /// <summary>Large (windows every 3 s): one KNN job takes tens of seconds on 2 cores, long enough to kill its worker in the middle.</summary>
    public string Large => Path.Combine(Root, "large", "features");

    public async Task InitializeAsync()
    {
        await ClusterHarness.MakeFeatures(Path.Combine(Root, "small"), 120, stride: 10);
        await ClusterHarness.MakeFeatures(Path.Combine(Root, "large"), 300, stride: 3);
    }

    public Task DisposeAsync()
    {
        try { Directory.Delete(Root, true); } catch (IOException) { }
        return Task.CompletedTask;
    }
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<DataFixture>
{
    /// <summary>One collection: the process tests run one after another (2 cores; each starts several .NET processes).</summary>
    public const string Name = "cluster";
}
