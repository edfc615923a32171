using System.Net;
using Akka.Actor.Setup;
using Akka.Remote.Transport.DotNetty;
using Cis490.Shared.Cli;

namespace Cis490.Shared.Tls;

/// <summary>How one node's Akka.Remote transport is secured, decided once at start-up: mutual TLS with its enrolment folder, or
/// plain TCP (on loopback, or beyond it only when the operator said <c>--insecure</c>).</summary>
public sealed class TransportSecurity
{
    /// <summary>The environment variable that may name the enrolment folder (below <c>--tls</c>, above <c>cis490.tls.dir</c>).</summary>
    public const string EnvironmentVariable = "CIS490_TLS_DIR";

    /// <summary>The HOCON key that may name the enrolment folder (an operator's <c>--config</c> file can set it).</summary>
    public const string ConfigKey = "cis490.tls.dir";

    /// <summary>The enrolment folder in use; null when the transport is plain.</summary>
    public Enrolment? Enrolment { get; }

    /// <summary>Whether plain TCP was chosen on a non-loopback address because of <c>--insecure</c>.</summary>
    public bool Insecure { get; }

    public bool Enabled => Enrolment is not null;

    /// <summary>The address scheme of this transport: Akka names TLS associations <c>akka.ssl.tcp</c>.</summary>
    public string Scheme => Enabled ? "akka.ssl.tcp" : "akka.tcp";

    private TransportSecurity(Enrolment? enrolment, bool insecure)
    {
        Enrolment = enrolment;
        Insecure = insecure;
    }

    /// <summary>Plain TCP, for in-process tests and tools that never leave loopback.</summary>
    public static TransportSecurity Plain { get; } = new(null, false);

    /// <summary>Decides for a node of <paramref name="role"/> that binds <paramref name="hostname"/>. The folder comes from
    /// <paramref name="tlsDir"/> (<c>--tls</c>), else <see cref="EnvironmentVariable"/>, else <paramref name="configDir"/>
    /// (<see cref="ConfigKey"/>). Without one, a non-loopback bind is refused unless <paramref name="insecure"/>.</summary>
    public static TransportSecurity Decide(FleetRole role, string hostname, string? tlsDir, bool insecure, string? configDir = null)
    {
        var (dir, source) = tlsDir is { Length: > 0 } ? (tlsDir, "--tls")
            : Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } env ? (env, EnvironmentVariable)
            : configDir is { Length: > 0 } ? (configDir, ConfigKey)
            : (null, null);
        if (dir is not null)
        {
            if (insecure)
                throw new CliException($"--insecure and {source} {dir} contradict each other: give one (TLS is on whenever an enrolment folder is given)");
            return new TransportSecurity(Enrolment.Load(dir, role, source!), false);
        }
        if (IsLoopback(hostname)) return new TransportSecurity(null, false);
        if (!insecure)
            throw new CliException($"binding to {hostname}, which is not a loopback address, needs TLS: give --tls DIR (an enrolment folder " +
                                   $"made by './cis490 certs issue NAME --role {role.Name()} ...', or {EnvironmentVariable}), or --insecure to run " +
                                   "without TLS on a network where every machine is trusted");
        return new TransportSecurity(null, true);
    }

    /// <summary>Whether <paramref name="hostname"/> is a loopback address (127.0.0.0/8, ::1) or <c>localhost</c>. Any other name is
    /// treated as reachable from elsewhere.</summary>
    public static bool IsLoopback(string hostname) =>
        hostname.Equals("localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(hostname.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));

    /// <summary>The HOCON that switches Akka's DotNetty transport to TLS (the certificate and the checks come in <see cref="Setup"/>).</summary>
    public string Overrides => Enabled ? "akka.remote.dot-netty.tcp.enable-ssl = on" : "";

    /// <summary>The transport's TLS setup: this node's certificate, mutual authentication required, and the fleet's own peer check
    /// in place of Akka's OS-store chain check; null when plain.</summary>
    public Setup? Setup(string systemName = "") => Enrolment is null
        ? null
        : new DotNettySslSetup(Enrolment.Certificate, suppressValidation: false, requireMutualAuthentication: true,
            validateCertificateHostname: false, customValidator: new PeerValidator(Enrolment.Ca, Enrolment.Role).Callback);

    /// <summary>One line for the node's start-up log.</summary>
    public string Describe(string hostname) => Enrolment is { } e
        ? $"Akka.Remote: mutual TLS, certificate CN={e.Name} (role {e.Role.Name()}) from {e.Directory}; peers must chain to {e.Ca.Subject}"
        : Insecure
            ? $"WARNING: Akka.Remote WITHOUT TLS on {hostname} (--insecure): any machine that reaches this port can join the fleet, take leases and read every message"
            : $"Akka.Remote: plain TCP on loopback ({hostname})";

    /// <summary>A seed address in this transport's scheme: <c>akka.tcp://S@H:P</c> and <c>akka.ssl.tcp://S@H:P</c> are both accepted
    /// and rewritten, so the same command line works with and without <c>--tls</c>.</summary>
    public string Seed(string seed)
    {
        foreach (var prefix in new[] { "akka.ssl.tcp://", "akka.tcp://" })
            if (seed.StartsWith(prefix, StringComparison.Ordinal))
                return Scheme + "://" + seed[prefix.Length..];
        return seed;
    }
}
