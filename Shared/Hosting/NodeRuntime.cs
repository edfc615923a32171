using System.Runtime.InteropServices;
using Akka.Actor;
using Akka.Cluster;

namespace Cis490.Shared.Hosting;

/// <summary>What every node process does alike: build the seed-node override, stop cleanly on SIGINT/SIGTERM, wait for the system to end.</summary>
public static class NodeRuntime
{
    /// <summary>HOCON overrides for the node's own address and its seeds.</summary>
    public static string AddressOverrides(string hostname, int port, IReadOnlyCollection<string> seeds)
    {
        foreach (var s in seeds)
        {
            // akka.ssl.tcp is the scheme of a TLS transport (Tls.TransportSecurity.Seed rewrites seeds to the node's own).
            var scheme = s.StartsWith("akka.tcp://", StringComparison.Ordinal) ? "akka.tcp://"
                : s.StartsWith("akka.ssl.tcp://", StringComparison.Ordinal) ? "akka.ssl.tcp://" : null;
            if (scheme is null || !Uri.TryCreate("tcp://" + s[scheme.Length..], UriKind.Absolute, out var u) || u.Port <= 0)
                throw new Cli.CliException($"seed '{s}' is not an address like akka.tcp://cis490@HOST:PORT");
        }
        var seedList = string.Join(", ", seeds.Select(Config.HoconLoader.Quote));
        return $"""
                akka.remote.dot-netty.tcp.hostname = {Config.HoconLoader.Quote(hostname)}
                akka.remote.dot-netty.tcp.port = {port}
                akka.cluster.seed-nodes = [{seedList}]
                """;
    }

    /// <summary>Runs coordinated shutdown (leave the cluster, hand over singletons) on SIGINT or SIGTERM; returns the registrations to keep alive.</summary>
    public static IDisposable[] ShutdownOnSignals(ActorSystem system)
    {
        void Handler(PosixSignalContext ctx)
        {
            ctx.Cancel = true; // we exit ourselves once the cluster has been left
            _ = CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.ClrExitReason.Instance);
        }
        return
        [
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handler),
            PosixSignalRegistration.Create(PosixSignal.SIGINT, Handler),
        ];
    }

    /// <summary>Prints one machine-readable line when this node is Up (scripts and tests wait for it).</summary>
    public static void AnnounceWhenUp(ActorSystem system, string role, string extra = "")
    {
        var cluster = Cluster.Get(system);
        cluster.RegisterOnMemberUp(() =>
            Console.WriteLine($"READY {role} {cluster.SelfAddress}{(extra.Length > 0 ? " " + extra : "")}"));
    }
}
