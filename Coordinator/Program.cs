using Akka.Actor;
using Akka.Cluster.Tools.Client;
using Akka.Event;
using Akka.Cluster.Tools.Singleton;
using Akka.Streams;
using Cis490.Coordinator.Jobs;
using Cis490.Coordinator.Operator;
using Cis490.Coordinator.Persistence;
using Cis490.Shared.Cli;
using Cis490.Shared.Config;
using Cis490.Shared.Hosting;

namespace Cis490.Coordinator;

/// <summary>The coordinator node: <c>./cis490 coordinator [--port P] [--hostname H] [--data-dir DIR] [--seed ADDR] [--journal sqlite|postgres] [--postgres CONNSTR]</c></summary>
public static class Program
{
    public static async Task<int> Main(string[] argv)
    {
        try
        {
            var args = new CliArgs(argv);
            var port = args.GetInt("port", 4053);
            var hostname = args.Get("hostname", "127.0.0.1");
            var dataDir = Path.GetFullPath(args.Get("data-dir", Path.Combine(Environment.CurrentDirectory, "data")));
            var seeds = args.Get("seed") is { } seed ? seed.Split(',', StringSplitOptions.RemoveEmptyEntries) : [];
            var journal = JournalChoice.From(args.Get("journal"), args.Get("postgres"), dataDir);
            args.RejectUnknown();
            if (args.Positionals.Count > 0) throw new CliException($"unexpected argument '{args.Positionals[0]}'");

            Directory.CreateDirectory(dataDir);
            var systemName = HoconLoader.Load(["coordinator.conf"]).GetString("cis490.system-name");
            // With no --seed the coordinator seeds itself: it is the first node of the fleet.
            var selfSeed = $"akka.tcp://{systemName}@{hostname}:{port}";
            var overrides = NodeRuntime.AddressOverrides(hostname, port, seeds.Length > 0 ? seeds : [selfSeed]) + $"""

                cis490.coordinator.data-dir = {HoconLoader.Quote(dataDir)}
                {journal.Overrides}
                """;
            if (await journal.CheckReachable() is { } unreachable)
            {
                Console.Error.WriteLine($"cis490 coordinator: {unreachable}");
                return 1;
            }
            var config = HoconLoader.Load(["coordinator.conf", journal.HoconFile], overrides)
                .WithFallback(ClusterSingleton.DefaultConfig())
                .WithFallback(ClusterClientReceptionist.DefaultConfig())
                .WithFallback(Akka.Cluster.Tools.PublishSubscribe.DistributedPubSub.DefaultConfig()) // binds ClusterClient's Send envelope
                .WithFallback(ActorMaterializer.DefaultConfig());
            var settings = CoordinatorSettings.From(config);
            if (settings.OperatorToken.Length == 0)
            {
                var (token, source) = OperatorToken.Resolve(dataDir, Environment.GetEnvironmentVariable(OperatorToken.EnvironmentVariable));
                settings = settings with { OperatorToken = token };
                Console.Error.WriteLine($"cis490 coordinator: operator token from {source}");
            }

            var system = ActorSystem.Create(systemName, config);
            using var signals = new CompositeDisposable(NodeRuntime.ShutdownOnSignals(system));
            Start(system, settings);
            system.Log.Info("Journal: {0}", journal.Description);
            NodeRuntime.AnnounceWhenUp(system, "coordinator", $"data-dir={dataDir} journal={(journal.IsPostgres ? "postgres" : "sqlite")}");
            await system.WhenTerminated;
            return 0;
        }
        catch (CliException e)
        {
            Console.Error.WriteLine($"cis490 coordinator: {e.Message}");
            Console.Error.WriteLine("usage: ./cis490 coordinator [--port P] [--hostname H] [--data-dir DIR] [--seed akka.tcp://cis490@HOST:PORT]\n" +
                                    "                            [--journal sqlite|postgres] [--postgres \"Host=H;Port=5432;Username=U;Password=P;Database=D\"]");
            return 2;
        }
    }

    /// <summary>Starts the coordinator's actors on a system: the singleton manager, a proxy, and the operator endpoint.</summary>
    public static IActorRef Start(ActorSystem system, CoordinatorSettings settings)
    {
        system.ActorOf(ClusterSingletonManager.Props(
                JobCoordinator.Props(settings),
                JobCoordinator.HandOver.Instance,
                ClusterSingletonManagerSettings.Create(system).WithRole("coordinator")),
            "job-coordinator");
        var proxy = system.ActorOf(ClusterSingletonProxy.Props(
                "/user/job-coordinator",
                ClusterSingletonProxySettings.Create(system).WithRole("coordinator")),
            "job-coordinator-proxy");
        var endpoint = system.ActorOf(OperatorEndpoint.Props(proxy), OperatorEndpoint.Name);
        ClusterClientReceptionist.Get(system).RegisterService(endpoint);
        return proxy;
    }

    private sealed class CompositeDisposable(IDisposable[] items) : IDisposable
    {
        public void Dispose()
        {
            foreach (var d in items) d.Dispose();
        }
    }
}
