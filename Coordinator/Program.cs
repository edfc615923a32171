using Akka.Actor;
using Akka.Cluster.Tools.Client;
using Akka.Event;
using Akka.Cluster.Tools.Singleton;
using Akka.Streams;
using Cis490.Coordinator.Http;
using Cis490.Coordinator.Jobs;
using Cis490.Coordinator.Operator;
using Cis490.Coordinator.Persistence;
using Cis490.Shared.Cli;
using Cis490.Shared.Config;
using Cis490.Shared.Hosting;
using Cis490.Shared.Security;
using Cis490.Shared.Tls;

namespace Cis490.Coordinator;

/// <summary>The coordinator node: <c>./cis490 coordinator [--port P] [--hostname H] [--data-dir DIR] [--seed ADDR]... [--http-port N] [--http-bind ADDR] [--manifest FILE] [--config FILE.conf]
/// [--journal sqlite|postgres] [--postgres CONNSTR] [--tls DIR | --insecure]</c></summary>
public static class Program
{
    public static async Task<int> Main(string[] argv)
    {
        // Start-up timeline (issue 17: SIGKILL → answering again): how long the runtime took to reach Main, then each step below.
        var toMain = DateTime.Now - System.Diagnostics.Process.GetCurrentProcess().StartTime;
        var startup = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            var args = new CliArgs(argv, "v1-anonymous", "insecure");
            var port = args.GetInt("port", 4053);
            var hostname = args.Get("hostname", "127.0.0.1");
            var dataDir = Path.GetFullPath(args.Get("data-dir", Path.Combine(Environment.CurrentDirectory, "data")));
            var seeds = args.Get("seed") is { } seed ? seed.Split(',', StringSplitOptions.RemoveEmptyEntries) : [];
            var extraConfig = args.Get("config");
            var journal = JournalChoice.From(args.Get("journal"), args.Get("postgres"), dataDir);
            var httpPort = args.GetInt("http-port", -1); // -1: as cis490.http.port says (0: off)
            var httpBind = args.Get("http-bind");
            var v1Anonymous = args.Flag("v1-anonymous");
            if (httpPort is < -1 or > 65535) throw new CliException($"option --http-port must be a TCP port (0 for no HTTP server), got {httpPort}");
            var manifest = args.Get("manifest") is { } m ? Path.GetFullPath(m) : null;
            var tlsDir = args.Get("tls");
            var insecure = args.Flag("insecure");
            if (manifest is not null && !File.Exists(manifest)) throw new CliException($"--manifest {manifest}: no such file");
            args.RejectUnknown();
            if (extraConfig is not null && !File.Exists(extraConfig)) throw new CliException($"--config {extraConfig}: no such file");
            if (args.Positionals.Count > 0) throw new CliException($"unexpected argument '{args.Positionals[0]}'");

            // --config FILE: the operator's HOCON over the shipped files (command-line options over both).
            string[] files = extraConfig is null
                ? ["coordinator.conf", journal.HoconFile]
                : [Path.GetFullPath(extraConfig), "coordinator.conf", journal.HoconFile];
            var fileConfig = HoconLoader.Load(files);
            var systemName = fileConfig.GetString("cis490.system-name");
            // Mutual TLS whenever the node is reachable beyond loopback (or --tls given); refused without it unless --insecure.
            var security = TransportSecurity.Decide(FleetRole.Coordinator, hostname, tlsDir, insecure, fileConfig.GetString(TransportSecurity.ConfigKey, ""));
            // The HTTP API beyond loopback: HTTPS with the node's certificate, or --insecure.
            var httpBindText = httpBind ?? fileConfig.GetString("cis490.http.bind", "127.0.0.1");
            var httpPortEffective = httpPort >= 0 ? httpPort : fileConfig.GetInt("cis490.http.port", 0);
            var httpBindIsAddress = httpBindText == "localhost" || System.Net.IPAddress.TryParse(httpBindText, out _); // else HttpSettings names it below
            if (httpPortEffective > 0 && httpBindIsAddress && !TransportSecurity.IsLoopback(httpBindText) && !security.Enabled && !insecure)
                throw new CliException($"--http-bind {httpBindText} is not a loopback address: the HTTP API there needs HTTPS, which needs --tls DIR " +
                                       "(the node's enrolment folder), or --insecure to serve plain HTTP on a network where every machine is trusted");

            Directory.CreateDirectory(dataDir);
            // The journal's check (reachable; SQLite: quick_check of each file, WAL, snapshots moved) runs beside the loading of the
            // configuration below, and is awaited before the actor system exists: nothing starts on a journal that failed it.
            var journalCheck = Task.Run(() => journal.CheckReachable());
            // With no --seed the coordinator seeds itself: it is the first node of the fleet.
            var selfSeed = $"{security.Scheme}://{systemName}@{hostname}:{port}";
            var overrides = NodeRuntime.AddressOverrides(hostname, port, seeds.Length > 0 ? seeds.Select(security.Seed).ToArray() : [selfSeed]) + $"""

                cis490.coordinator.data-dir = {HoconLoader.Quote(dataDir)}
                {journal.Overrides}
                {security.Overrides}
                """ + (httpPort >= 0 ? $"\ncis490.http.port = {httpPort}" : "") + (httpBind is null ? "" : $"\ncis490.http.bind = {HoconLoader.Quote(httpBind)}")
                + (v1Anonymous ? "\ncis490.http.v1-anonymous = on" : "");
            var config = HoconLoader.Load(files, overrides)
                .WithFallback(ClusterSingleton.DefaultConfig())
                .WithFallback(ClusterClientReceptionist.DefaultConfig())
                .WithFallback(Akka.Cluster.Tools.PublishSubscribe.DistributedPubSub.DefaultConfig()) // binds ClusterClient's Send envelope
                .WithFallback(ActorMaterializer.DefaultConfig());
            var settings = CoordinatorSettings.From(config);
            if (manifest is not null) settings = settings with { ManifestPath = manifest }; // loaded once recovered; `manifest reload` reads it again
            // Tokens: found (or made) and checked before anything starts; only where each came from is printed, never its value.
            if (settings.OperatorToken.Length == 0)
            {
                var (token, source) = OperatorToken.Resolve(dataDir, Environment.GetEnvironmentVariable);
                settings = settings with { OperatorToken = token };
                Console.Error.WriteLine($"cis490 coordinator: operator token from {source}");
            }
            else if (FleetTokens.Weakness(settings.OperatorToken, OperatorToken.What) is { } weak)
                throw new TokenException($"{weak} (it came from cis490.coordinator.operator-token)");

            var http = HttpSettings.From(config);
            _ = http.BindAddress; // a bad --http-bind is a usage error before anything starts
            if (http.Refusal() is { } refused) throw new CliException(refused);
            V1Access? v1 = null;
            if (http.Enabled)
            {
                var (workerToken, workerSource) = WorkerToken.Resolve(dataDir, Environment.GetEnvironmentVariable);
                v1 = http.V1Anonymous ? V1Access.Open(workerToken) : V1Access.RequireToken(workerToken);
                Console.Error.WriteLine(http.V1Anonymous
                    ? "cis490 coordinator: WARNING: /v1 worker endpoints open to anyone on this machine (--v1-anonymous); " +
                      $"the worker token ({workerSource}) is accepted too"
                    : $"cis490 coordinator: /v1 worker token from {workerSource}");
            }

            Console.Error.WriteLine($"cis490 coordinator: {security.Describe(hostname)}");
            var beforeCheck = startup.Elapsed;
            if (await journalCheck is { } unreachable)
            {
                Console.Error.WriteLine($"cis490 coordinator: {unreachable}");
                return 1;
            }
            var beforeSystem = startup.Elapsed;
            var system = SqliteDurability.CreateSystem(systemName, config, security.Setup());
            system.Log.Info("Start-up: process start → Main {0:F0} ms, options, HOCON and settings {1:F0} ms (the journal's check beside them, then " +
                            "waited for {2:F0} ms), actor system {3:F0} ms",
                toMain.TotalMilliseconds, beforeCheck.TotalMilliseconds, (beforeSystem - beforeCheck).TotalMilliseconds,
                (startup.Elapsed - beforeSystem).TotalMilliseconds);
            if (security.Insecure) system.Log.Warning(security.Describe(hostname));
            else system.Log.Info(security.Describe(hostname));
            using var signals = new CompositeDisposable(NodeRuntime.ShutdownOnSignals(system));
            var proxy = Start(system, settings);
            // Traces by OTLP when an endpoint is configured; members for /metrics (the HTTP host exports the meter).
            using var traceExport = Shared.Telemetry.TelemetryExport.StartTracing(Shared.Telemetry.TelemetrySettings.From(config), "cis490-coordinator");
            Shared.Telemetry.TelemetryExport.ReportMembers(system);
            system.ActorOf(Shared.Diagnostics.NodeDiagnostics.Props(Shared.Diagnostics.DiagnosticsSettings.From(config)), Shared.Diagnostics.NodeDiagnostics.Name);
            if (http.Enabled)
            {
                var endpoint = await system.ActorSelection($"/user/{OperatorEndpoint.Name}").ResolveOne(TimeSpan.FromSeconds(5));
                try
                {
                    // HTTPS with the node's own certificate when the API is reachable beyond loopback and the node has one.
                    var https = security.Enrolment is { } e && !TransportSecurity.IsLoopback(http.Bind) ? e.Certificate : null;
                    var host = await HttpHost.StartAsync(system, proxy, endpoint, http, settings.OperatorToken, v1!, https: https);
                    Console.Error.WriteLine($"cis490 coordinator: HTTP API at {host.BaseAddress}api (OpenAPI: {host.BaseAddress}api/openapi.json)");
                }
                catch (IOException e)
                {
                    Console.Error.WriteLine($"cis490 coordinator: cannot serve HTTP on {http.Bind}:{http.Port}: {e.Message} (choose another --http-port)");
                    await system.Terminate();
                    return 1;
                }
            }
            system.Log.Info("Journal: {0}", journal.Description);
            NodeRuntime.AnnounceWhenUp(system, "coordinator", $"data-dir={dataDir} journal={(journal.IsPostgres ? "postgres" : "sqlite")}");
            await system.WhenTerminated;
            if (CoordinatedShutdown.Get(system).ShutdownReason is CoordinatorCannotRecover failed)
            {
                // The job table cannot be recovered (JobCoordinator.OnRecoveryFailure): say so where a person or systemd looks.
                Console.Error.WriteLine($"cis490 coordinator: {failed.Message}");
                return failed.ExitCode;
            }
            return 0;
        }
        catch (TokenException e)
        {
            Console.Error.WriteLine($"cis490 coordinator: {e.Message}");
            return 2;
        }
        catch (CliException e)
        {
            Console.Error.WriteLine($"cis490 coordinator: {e.Message}");
            Console.Error.WriteLine("usage: ./cis490 coordinator [--port P] [--hostname H] [--data-dir DIR] [--seed akka.tcp://cis490@HOST:PORT] [--config FILE.conf] [--http-port N] [--http-bind ADDR] [--v1-anonymous] [--manifest FILE]\n" +
                                    "                            [--journal sqlite|postgres] [--postgres \"Host=H;Port=5432;Username=U;Password=P;Database=D\"]\n" +
                                    "                            [--tls DIR (an enrolment folder: './cis490 certs issue NAME --role coordinator') | --insecure]");
            return 2;
        }
    }

    /// <summary>Starts the coordinator's actors on a system: the singleton manager (the supervised JobCoordinator), a proxy, and
    /// the operator endpoint (which submits <see cref="CoordinatorSettings.ManifestPath"/>, if any).</summary>
    public static IActorRef Start(ActorSystem system, CoordinatorSettings settings)
    {
        // Every coordinator node may host the singleton next: start its journal now, not during a take-over.
        system.ActorOf(JournalWarmup.Props(), "journal-warmup");
        system.ActorOf(JournalWarmup.Props(replaysOne: true), "journal-replay-warmup");
        system.ActorOf(ClusterSingletonManager.Props(
                JobCoordinator.SupervisedProps(settings),
                JobCoordinator.HandOver.Instance,
                ClusterSingletonManagerSettings.Create(system).WithRole("coordinator")),
            "job-coordinator");
        var proxy = system.ActorOf(ClusterSingletonProxy.Props(
                "/user/job-coordinator",
                ClusterSingletonProxySettings.Create(system).WithRole("coordinator")),
            "job-coordinator-proxy");
        var endpoint = system.ActorOf(OperatorEndpoint.Props(proxy, new OperatorToken(settings.OperatorToken), settings.ManifestPath, settings.AskTimeout, settings.ReadTry),
            OperatorEndpoint.Name);
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
