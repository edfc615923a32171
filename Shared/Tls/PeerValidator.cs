using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Akka.Event;
using Akka.Remote.Transport.DotNetty;

namespace Cis490.Shared.Tls;

/// <summary>Decides, for every TLS handshake of Akka.Remote (both directions), whether the peer's certificate belongs to this
/// fleet: it must chain to the fleet CA and nothing else (custom root trust, never the OS store), be within its validity, carry
/// both TLS usages and exactly one fleet role that this node accepts. A refusal is logged with the peer's address and why.</summary>
public sealed class PeerValidator
{
    private readonly X509Certificate2 _ca;
    private readonly IReadOnlySet<FleetRole> _accepted;
    private readonly FleetRole _self;

    public PeerValidator(X509Certificate2 ca, FleetRole self)
    {
        _ca = ca;
        _self = self;
        _accepted = AcceptedBy(self);
    }

    /// <summary>Which peers a node of each role talks to. Coordinator nodes: the whole fleet and the operators' shells (through
    /// ClusterClient). Workers: cluster members only (no shell ever connects to a worker). Shells: coordinator nodes only.</summary>
    public static IReadOnlySet<FleetRole> AcceptedBy(FleetRole self) => self switch
    {
        FleetRole.Coordinator => new HashSet<FleetRole> { FleetRole.Coordinator, FleetRole.Worker, FleetRole.Operator },
        FleetRole.Worker => new HashSet<FleetRole> { FleetRole.Coordinator, FleetRole.Worker },
        _ => new HashSet<FleetRole> { FleetRole.Coordinator },
    };

    /// <summary>Null when <paramref name="certificate"/> chains to <paramref name="ca"/>, is valid now and is a fleet node
    /// certificate with one role; otherwise why not, in words for a log line.</summary>
    public static string? Check(X509Certificate2 ca, X509Certificate2 certificate, DateTime? now = null)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        // The fleet CA publishes no revocation lists: a lost machine's certificate is dealt with by a new CA (README, TLS).
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationFlags = X509VerificationFlags.NoFlag;
        if (now is { } at) chain.ChainPolicy.VerificationTime = at;
        var chained = chain.Build(certificate);
        var selfSigned = certificate.SubjectName.RawData.AsSpan().SequenceEqual(certificate.IssuerName.RawData);
        if (!chained)
        {
            var flags = chain.ChainStatus.Aggregate(X509ChainStatusFlags.NoError, (f, s) => f | s.Status);
            if ((flags & (X509ChainStatusFlags.UntrustedRoot | X509ChainStatusFlags.PartialChain)) != 0)
                return selfSigned
                    ? $"self-signed certificate (subject {certificate.Subject}), not issued by the fleet CA"
                    : $"certificate issued by another CA ({certificate.Issuer}), not the fleet CA ({ca.Subject})";
            if ((flags & X509ChainStatusFlags.NotTimeValid) != 0)
            {
                var from = certificate.NotBefore.ToUniversalTime();
                var to = certificate.NotAfter.ToUniversalTime();
                return (now ?? DateTime.UtcNow) > to
                    ? $"certificate expired on {to:u} (CN={FleetRoles.CommonName(certificate)})"
                    : $"certificate not valid before {from:u} (CN={FleetRoles.CommonName(certificate)}); is a clock wrong?";
            }
            return $"certificate chain not valid: {string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()))}";
        }
        // Custom root trust accepts only chains ending at the fleet CA; check the end anyway, by its bytes.
        if (!chain.ChainElements[^1].Certificate.RawData.AsSpan().SequenceEqual(ca.RawData))
            return $"certificate does not chain to the fleet CA ({ca.Subject})";
        if (chain.ChainElements.Count == 1)
            return "the peer presented the fleet CA's own certificate, not a node certificate";
        if (!FleetRoles.HasNodeUsages(certificate))
            return $"certificate (CN={FleetRoles.CommonName(certificate)}) lacks the serverAuth and clientAuth usages of a fleet node certificate";
        return FleetRoles.Of(certificate) switch
        {
            [] => $"certificate (CN={FleetRoles.CommonName(certificate)}) names no cis490 role ({FleetRoles.UriPrefix}...)",
            [_] => null,
            var several => $"certificate (CN={FleetRoles.CommonName(certificate)}) names several roles ({string.Join(", ", several.Select(r => r.Name()))})",
        };
    }

    /// <summary>Null when this node accepts <paramref name="certificate"/> as a peer; otherwise why not.</summary>
    public string? Judge(X509Certificate2? certificate, DateTime? now = null)
    {
        if (certificate is null) return "no certificate presented (mutual TLS is required)";
        if (Check(_ca, certificate, now) is { } problem) return problem;
        var role = FleetRoles.Single(certificate)!.Value;
        return _accepted.Contains(role)
            ? null
            : $"{role.WithArticle()} certificate (CN={FleetRoles.CommonName(certificate)}) is not accepted by {_self.WithArticle()} node " +
              $"(it accepts {string.Join(", ", _accepted.Select(r => r.Name()))})";
    }

    /// <summary>The callback handed to Akka's DotNetty transport (<see cref="DotNettySslSetup"/>). It ignores the
    /// <see cref="SslPolicyErrors"/> that SslStream computed against the OS store (our CA is not there, and a peer's
    /// certificate names no host we dial) and decides from <see cref="Judge"/> alone.</summary>
    public CertificateValidationCallback Callback => (certificate, _, peer, _, log) =>
    {
        var problem = Judge(certificate);
        if (problem is null)
        {
            log.Debug("TLS: accepted peer {0}: CN={1}, role {2}", peer, FleetRoles.CommonName(certificate!), FleetRoles.Single(certificate!)!.Value.Name());
            return true;
        }
        log.Warning("TLS: refused peer {0}: {1}", peer, problem);
        return false;
    };
}
