using System.Formats.Asn1;
using System.Security.Cryptography.X509Certificates;

namespace Cis490.Shared.Tls;

/// <summary>What a fleet certificate lets its holder be: a coordinator node, a worker node, or an operator's shell. The role is a
/// URI in the certificate's subject alternative names (<c>urn:cis490:role:worker</c>), so the CA's signature covers it.</summary>
public enum FleetRole
{
    Coordinator,
    Worker,
    Operator,
}

/// <summary>Reading and writing the role and the identity of a fleet certificate.</summary>
public static class FleetRoles
{
    /// <summary>The prefix of the role URI in a certificate's subject alternative names.</summary>
    public const string UriPrefix = "urn:cis490:role:";

    /// <summary>Object identifiers of the extended key usages every fleet node certificate carries (a node is both a TLS server
    /// and a TLS client: it accepts connections and makes them).</summary>
    public const string ServerAuthOid = "1.3.6.1.5.5.7.3.1", ClientAuthOid = "1.3.6.1.5.5.7.3.2";

    private const string SubjectAltNameOid = "2.5.29.17";

    /// <summary>The word used on command lines and in certificates: <c>coordinator</c>, <c>worker</c>, <c>operator</c>.</summary>
    public static string Name(this FleetRole role) => role.ToString().ToLowerInvariant();

    /// <summary>"a worker", "an operator": for messages.</summary>
    public static string WithArticle(this FleetRole role) => (role == FleetRole.Operator ? "an " : "a ") + role.Name();

    /// <summary>The role URI written into a certificate.</summary>
    public static string Uri(this FleetRole role) => UriPrefix + role.Name();

    /// <summary>Parses <c>coordinator</c>, <c>worker</c> or <c>operator</c>; null for anything else.</summary>
    public static FleetRole? Parse(string? text) => text switch
    {
        "coordinator" => FleetRole.Coordinator,
        "worker" => FleetRole.Worker,
        "operator" => FleetRole.Operator,
        _ => null,
    };

    /// <summary>The roles the certificate names (normally one); empty when it has none.</summary>
    public static IReadOnlyList<FleetRole> Of(X509Certificate2 certificate)
    {
        var roles = new List<FleetRole>();
        foreach (var uri in SanUris(certificate))
            if (uri.StartsWith(UriPrefix, StringComparison.Ordinal) && Parse(uri[UriPrefix.Length..]) is { } role && !roles.Contains(role))
                roles.Add(role);
        return roles;
    }

    /// <summary>The one role of the certificate, or null when it names none or several (neither is a certificate we issue).</summary>
    public static FleetRole? Single(X509Certificate2 certificate) => Of(certificate) is [var only] ? only : null;

    /// <summary>The certificate's common name (the node's name given to <c>certs issue</c>).</summary>
    public static string CommonName(X509Certificate2 certificate) => certificate.GetNameInfo(X509NameType.SimpleName, false);

    /// <summary>Whether the certificate allows both TLS server and TLS client use.</summary>
    public static bool HasNodeUsages(X509Certificate2 certificate)
    {
        var eku = certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().FirstOrDefault();
        if (eku is null) return false;
        var oids = eku.EnhancedKeyUsages.Cast<System.Security.Cryptography.Oid>().Select(o => o.Value).ToHashSet();
        return oids.Contains(ServerAuthOid) && oids.Contains(ClientAuthOid);
    }

    /// <summary>The uniformResourceIdentifier entries ([6] IA5String) of the subject alternative name extension. .NET's
    /// <see cref="X509SubjectAlternativeNameExtension"/> enumerates DNS names and IP addresses only, so the GeneralNames
    /// sequence is read with the framework's DER reader.</summary>
    private static IEnumerable<string> SanUris(X509Certificate2 certificate)
    {
        var extension = certificate.Extensions.Cast<X509Extension>().FirstOrDefault(e => e.Oid?.Value == SubjectAltNameOid);
        if (extension is null) yield break;
        var uris = new List<string>();
        try
        {
            var names = new AsnReader(extension.RawData, AsnEncodingRules.DER).ReadSequence();
            var uriTag = new Asn1Tag(TagClass.ContextSpecific, 6);
            while (names.HasData)
            {
                if (names.PeekTag().HasSameClassAndValue(uriTag)) uris.Add(names.ReadCharacterString(UniversalTagNumber.IA5String, uriTag));
                else names.ReadEncodedValue();
            }
        }
        catch (AsnContentException)
        {
            uris.Clear(); // a malformed extension names no role
        }
        foreach (var u in uris) yield return u;
    }
}
