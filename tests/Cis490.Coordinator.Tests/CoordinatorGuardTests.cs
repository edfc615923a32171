using Akka.Actor;
using Akka.Configuration;
using Akka.Streams;
using Akka.TestKit.Xunit2;
using Cis490.Coordinator.Jobs;
using Cis490.Protocols.Jobs;
using Cis490.Protocols.Operator;
using Cis490.Shared.Config;
using Xunit;

namespace Cis490.Coordinator.Tests;

/// <summary>The singleton's guard: a JobCoordinator that stops unexpectedly (as Akka.Persistence stops it on a failed journal
/// write) is started again and recovers; a hand-over stops both.</summary>
public sealed class CoordinatorGuardTests : TestKit, IDisposable
{
    private const string Token = "guard-token";
    private readonly string _dir;

    public CoordinatorGuardTests() : this(Directory.CreateTempSubdirectory("cis490-guard-").FullName) { }

    private CoordinatorGuardTests(string dir) : base(MakeConfig(dir), "guard-test") => _dir = dir;

    private static Config MakeConfig(string dir)
    {
        return TestConfig.Coordinator(dir, Token);
    }

    public new void Dispose()
    {
        base.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    private IActorRef StartGuard() =>
        Sys.ActorOf(CoordinatorGuard.Props(JobCoordinator.Props(CoordinatorSettings.From(Sys.Settings.Config)),
            TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(5)), "guard");

    [Fact]
    public async Task A_coordinator_that_stops_unexpectedly_is_started_again_with_its_state_and_requests_meanwhile_are_answered()
    {
        var guard = StartGuard();
        guard.Tell(new OperatorProtocol.SubmitManifest("m.toml", "[[jobs]]\nmodel = \"knn\"\nmode = \"oracle\"\n", Token), TestActor);
        var jobId = Assert.Single((await ExpectMsgAsync<OperatorProtocol.ManifestAccepted>(TimeSpan.FromSeconds(10))).AddedJobIds);
        var first = await Sys.ActorSelection(guard.Path / "coordinator-0").ResolveOne(TimeSpan.FromSeconds(5));
        Watch(first);

        first.Tell(Kill.Instance); // stops it, as a failed persist would
        await ExpectTerminatedAsync(first);
        guard.Tell(new OperatorProtocol.ListJobs(null, null), TestActor); // arrives during the restart pause

        var jobs = (await ExpectMsgAsync<OperatorProtocol.JobList>(TimeSpan.FromSeconds(10))).Jobs;
        Assert.Equal((jobId, JobStatus.Pending), (jobs.Single().JobId, jobs.Single().Status));
        Assert.NotNull(await Sys.ActorSelection(guard.Path / "coordinator-1").ResolveOne(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task A_hand_over_stops_the_coordinator_and_the_guard_without_a_restart()
    {
        var guard = StartGuard();
        Watch(guard);
        guard.Tell(new OperatorProtocol.ListJobs(null, null), TestActor);
        await ExpectMsgAsync<OperatorProtocol.JobList>(TimeSpan.FromSeconds(10));

        guard.Tell(JobCoordinator.HandOver.Instance);
        await ExpectTerminatedAsync(guard, TimeSpan.FromSeconds(10));
    }
}
