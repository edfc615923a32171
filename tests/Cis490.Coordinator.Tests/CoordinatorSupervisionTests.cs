using Akka.Actor;
using Akka.Configuration;
using Akka.Pattern;
using Akka.TestKit.Xunit2;
using Cis490.Coordinator.Jobs;
using Cis490.Protocols;
using Cis490.Protocols.Jobs;
using Cis490.Protocols.Operator;
using Xunit;

namespace Cis490.Coordinator.Tests;

/// <summary>The singleton's Props (<see cref="JobCoordinator.SupervisedProps"/>): Akka's BackoffSupervisor starts a JobCoordinator
/// that stops unexpectedly (as Akka.Persistence stops it on a failed journal write) again, with its state; a hand-over stops both.</summary>
public sealed class CoordinatorSupervisionTests : TestKit, IDisposable
{
    private readonly string _dir;

    public CoordinatorSupervisionTests() : this(Directory.CreateTempSubdirectory("cis490-supervision-").FullName) { }

    private CoordinatorSupervisionTests(string dir) : base(MakeConfig(dir), "supervision-test") => _dir = dir;

    private static Config MakeConfig(string dir) => TestConfig.Coordinator(dir, TestConfig.Token);

    public new void Dispose()
    {
        base.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    // A 2 s first pause: long enough for the test to ask during it, short enough to wait out.
    private IActorRef StartSupervised() =>
        Sys.ActorOf(JobCoordinator.SupervisedProps(CoordinatorSettings.From(Sys.Settings.Config) with
        {
            RestartBackoffMin = TimeSpan.FromSeconds(2), RestartBackoffMax = TimeSpan.FromSeconds(5),
        }), "singleton");

    private async Task<IActorRef?> CurrentChild(IActorRef supervisor) =>
        (await supervisor.Ask<BackoffSupervisor.CurrentChild>(BackoffSupervisor.GetCurrentChild.Instance, TimeSpan.FromSeconds(5))).Ref;

    [Fact]
    public async Task A_coordinator_that_stops_unexpectedly_is_started_again_with_its_state_and_requests_in_the_pause_hear_unavailable()
    {
        var singleton = StartSupervised();
        singleton.Tell(new OperatorProtocol.SubmitManifest("m.toml", "[[jobs]]\nmodel = \"knn\"\nmode = \"oracle\"\n"), TestActor);
        var jobId = Assert.Single((await ExpectMsgAsync<OperatorProtocol.ManifestAccepted>(TimeSpan.FromSeconds(10))).AddedJobIds);
        var first = (await CurrentChild(singleton))!;
        Watch(first);

        first.Tell(Kill.Instance); // stops it, as a failed persist would
        await ExpectTerminatedAsync(first);
        await AwaitAssertAsync(async () => Assert.Null(await CurrentChild(singleton)), TimeSpan.FromSeconds(5));
        singleton.Tell(new OperatorProtocol.ListJobs(null, null), TestActor);
        Assert.Equal(ErrorKind.Unavailable, (await ExpectMsgAsync<OperatorProtocol.OperatorError>(TimeSpan.FromSeconds(5))).Kind);

        await AwaitAssertAsync(async () => Assert.NotNull(await CurrentChild(singleton)), TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(200));
        singleton.Tell(new OperatorProtocol.ListJobs(null, null), TestActor);
        var jobs = (await ExpectMsgAsync<OperatorProtocol.JobList>(TimeSpan.FromSeconds(10))).Jobs;
        Assert.Equal((jobId, JobStatus.Pending), (jobs.Single().JobId, jobs.Single().Status));
    }

    [Fact]
    public async Task A_hand_over_stops_the_coordinator_and_its_supervisor_without_a_restart()
    {
        var singleton = StartSupervised();
        Watch(singleton);
        singleton.Tell(new OperatorProtocol.ListJobs(null, null), TestActor);
        await ExpectMsgAsync<OperatorProtocol.JobList>(TimeSpan.FromSeconds(10));

        singleton.Tell(JobCoordinator.HandOver.Instance);
        await ExpectTerminatedAsync(singleton, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_hand_over_waits_for_the_writes_in_flight_so_the_next_coordinator_recovers_every_acknowledged_job()
    {
        const int jobs = 400;
        var manifest = string.Concat(Enumerable.Range(1, jobs).Select(i => $"[[jobs]]\nmodel = \"knn\"\nmode = \"oracle\"\nseed = {i}\n\n"));
        var singleton = StartSupervised();
        Watch(singleton);
        singleton.Tell(new OperatorProtocol.ListJobs(null, null), TestActor);
        await ExpectMsgAsync<OperatorProtocol.JobList>(TimeSpan.FromSeconds(30)); // recovered and serving (a new journal file: slow on a busy machine)

        // The hand-over arrives right behind a manifest whose 400 events are still being written.
        singleton.Tell(new OperatorProtocol.SubmitManifest("big.toml", manifest), TestActor);
        singleton.Tell(JobCoordinator.HandOver.Instance);
        Assert.Equal(jobs, (await ExpectMsgAsync<OperatorProtocol.ManifestAccepted>(TimeSpan.FromSeconds(30))).AddedCount);
        await ExpectTerminatedAsync(singleton, TimeSpan.FromSeconds(30));

        // The next node's coordinator replays the same journal: every job the operator was told about is there.
        var next = Sys.ActorOf(JobCoordinator.Props(CoordinatorSettings.From(Sys.Settings.Config)), "next");
        next.Tell(new OperatorProtocol.ListJobs(null, null), TestActor);
        Assert.Equal(jobs, (await ExpectMsgAsync<OperatorProtocol.JobList>(TimeSpan.FromSeconds(30))).Jobs.Count);
    }
}
