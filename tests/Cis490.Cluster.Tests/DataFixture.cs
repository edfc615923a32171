using Xunit;

namespace Cis490.Cluster.Tests;

/// <summary>The data sets the cluster tests train on, generated once per run by the real <c>data synth</c> command.</summary>
public sealed class DataFixture : IAsyncLifetime
{
    public string Root { get; } = Directory.CreateTempSubdirectory("cis490-data-").FullName;

    /// <summary>Small: KNN jobs take a second or two.</summary>
    public string Small => Path.Combine(Root, "small");

    /// <summary>Large: one KNN job takes tens of seconds on 2 cores, long enough to kill its worker in the middle.</summary>
    public string Large => Path.Combine(Root, "large");

    public async Task InitializeAsync()
    {
        await ClusterHarness.Synth(Small, 3000);
        await ClusterHarness.Synth(Large, 60_000);
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
