using Akka.TestKit.Xunit2;
using Cis490.Coordinator.Jobs;
using Cis490.Protocols.Operator;
using Xunit;

namespace Cis490.Coordinator.Tests;

/// <summary>After a write of at least <c>collect-after-write-of</c> events (a large manifest) the coordinator runs one full
/// collection and says so; smaller writes never do (issue 17: coordinator memory per job after a 100 000-job submit).</summary>
public sealed class CollectAfterLargeWriteTests : TestKit, IDisposable
{
    private readonly string _dir;

    public CollectAfterLargeWriteTests() : this(Directory.CreateTempSubdirectory("cis490-collect-").FullName) { }

    private CollectAfterLargeWriteTests(string dir) : base(TestConfig.Coordinator(dir, TestConfig.Token, """
        akka.loglevel = INFO
        # a "large" write here is 5 events: a 5-job manifest
        cis490.coordinator.collect-after-write-of = 5
        """), "collect-test") => _dir = dir;

    void IDisposable.Dispose()
    {
        Shutdown();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    private static string Manifest(int from, int count) =>
        string.Concat(Enumerable.Range(from, count).Select(i => $"[[jobs]]\nmodel = \"knn\"\nmode = \"realistic\"\nseed = {i}\n\n"));

    [Fact]
    public async Task A_write_of_at_least_the_threshold_is_followed_by_one_logged_collection_and_a_smaller_one_by_none()
    {
        var coordinator = Sys.ActorOf(JobCoordinator.Props(CoordinatorSettings.From(Sys.Settings.Config)), "coordinator");
        await EventFilter.Info(contains: "Collected after a write of").ExpectAsync(0, async () =>
        {
            coordinator.Tell(new OperatorProtocol.SubmitManifest("small.toml", Manifest(1, 4), TestConfig.Token), TestActor);
            await ExpectMsgAsync<OperatorProtocol.ManifestAccepted>(TimeSpan.FromSeconds(10));
            await Task.Delay(300);
        });
        await EventFilter.Info(contains: "Collected after a write of 5 events").ExpectOneAsync(async () =>
        {
            coordinator.Tell(new OperatorProtocol.SubmitManifest("large.toml", Manifest(100, 5), TestConfig.Token), TestActor);
            await ExpectMsgAsync<OperatorProtocol.ManifestAccepted>(TimeSpan.FromSeconds(10));
        });
    }

    [Fact]
    public void A_negative_threshold_is_refused_naming_the_key()
    {
        var config = TestConfig.Coordinator(_dir, TestConfig.Token, "cis490.coordinator.collect-after-write-of = -1");
        var e = Assert.Throws<InvalidOperationException>(() => CoordinatorSettings.From(config));
        Assert.Contains("cis490.coordinator.collect-after-write-of", e.Message);
    }
}
