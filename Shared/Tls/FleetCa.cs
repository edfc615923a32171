using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using Cis490.Shared.Cli;

namespace Cis490.Shared.Tls;

/// <summary>The fleet's own certificate authority: <c>certs init</c> makes it (ca.crt, ca.key), <c>certs issue</c> signs node
/// certificates with it into enrolment folders. Everything is .NET's <see cref="CertificateRequest"/> with ECDSA P-256 and
/// SHA-256; keys are written as PEM PKCS#8, owner-only.</summary>
public static partial class FleetCa
{
    public const string CaCertFile = "ca.crt", CaKeyFile = "ca.key", NodeCertFile = "node.crt", NodeKeyFile = "node.key";

    /// <summary>Default validity: ten years for the CA, 825 days for a node (the longest browsers accept for a server
    /// certificate; long enough that a lab fleet is not re-enrolled every season, short enough that a lost laptop's
    /// certificate dies by itself).</summary>
    public const int DefaultCaDays = 3650, DefaultNodeDays = 825;

    /// <summary>Certificates are back-dated by this much so that a peer whose clock is a little behind still accepts them.</summary>
    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex NamePattern();

    /// <summary>Creates a CA in <paramref name="dir"/>: ca.crt (PEM) and ca.key (PEM PKCS#8, mode 0600). Refuses to overwrite
    /// an existing CA: every certificate issued by it would stop being trusted.</summary>
    public static X509Certificate2 Init(string dir, int days = DefaultCaDays, string? name = null)
    {
        if (days is < 1 or > 36500) throw new CliException($"--days must be between 1 and 36500, got {days}");
        dir = Path.GetFullPath(dir);
        foreach (var f in new[] { CaCertFile, CaKeyFile })
            if (File.Exists(Path.Combine(dir, f)))
                throw new CliException($"{Path.Combine(dir, f)} already exists: refusing to replace the fleet CA (every certificate it issued " +
                                       "would stop being trusted); choose another --out, or move the old CA away yourself");
        Directory.CreateDirectory(dir);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var subject = new X500DistinguishedName($"CN={name ?? "cis490 fleet CA " + Convert.ToHexString(RandomNumberGenerator.GetBytes(4)).ToLowerInvariant()}, O=cis490");
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        // A CA that signs node certificates only: no intermediate CAs below it.
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var now = DateTimeOffset.UtcNow;
        using var ca = request.CreateSelfSigned(now - ClockSkew, now.AddDays(days));
        WritePrivateKey(Path.Combine(dir, CaKeyFile), key.ExportPkcs8PrivateKeyPem());
        WritePublic(Path.Combine(dir, CaCertFile), ca.ExportCertificatePem());
        return X509CertificateLoader.LoadCertificate(ca.RawData);
    }

    /// <summary>What <c>certs issue</c> is asked for.</summary>
    public sealed record IssueRequest(string Name, FleetRole Role, IReadOnlyList<string> DnsNames, IReadOnlyList<IPAddress> IpAddresses, int Days = DefaultNodeDays);

    /// <summary>Signs a node certificate with the CA in <paramref name="caDir"/> and writes the enrolment folder
    /// <paramref name="outDir"/>: ca.crt (the CA's certificate, never its key), node.crt, node.key (0600).</summary>
    public static X509Certificate2 Issue(string caDir, string outDir, IssueRequest what)
    {
        var now = DateTimeOffset.UtcNow;
        if (what.Days is < 1 or > 3650) throw new CliException($"--days must be between 1 and 3650, got {what.Days}");
        return Issue(caDir, outDir, what, now - ClockSkew, now.AddDays(what.Days));
    }

    /// <summary>As <see cref="Issue(string,string,IssueRequest)"/> with an explicit validity (tests make expired certificates with it).</summary>
    public static X509Certificate2 Issue(string caDir, string outDir, IssueRequest what, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        if (!NamePattern().IsMatch(what.Name))
            throw new CliException($"node name '{what.Name}' must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit");
        foreach (var dns in what.DnsNames)
            if (Uri.CheckHostName(dns) != UriHostNameType.Dns)
                throw new CliException($"--dns '{dns}' is not a DNS name");
        using var ca = LoadCa(caDir);
        outDir = Path.GetFullPath(outDir);
        foreach (var f in new[] { NodeCertFile, NodeKeyFile })
            if (File.Exists(Path.Combine(outDir, f)))
                throw new CliException($"{Path.Combine(outDir, f)} already exists: refusing to overwrite an enrolment folder; choose another --out");
        if (File.Exists(Path.Combine(outDir, CaKeyFile)))
            throw new CliException($"--out {outDir} holds the CA's key ({CaKeyFile}): an enrolment folder is copied to a node, so it must not; choose another --out");
        if (notAfter > ca.NotAfter) notAfter = ca.NotAfter; // a node certificate cannot outlive its CA
        if (notBefore < ca.NotBefore) notBefore = ca.NotBefore; // nor be valid before it
        Directory.CreateDirectory(outDir);

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName($"CN={what.Name}, O=cis490"), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid(FleetRoles.ServerAuthOid), new Oid(FleetRoles.ClientAuthOid)], false));
        var san = new SubjectAlternativeNameBuilder();
        san.AddUri(new Uri(what.Role.Uri()));
        foreach (var dns in what.DnsNames) san.AddDnsName(dns);
        foreach (var ip in what.IpAddresses) san.AddIpAddress(ip);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F; // a positive serial number (RFC 5280)
        using var issued = request.Create(ca, notBefore, notAfter, serial);

        WritePrivateKey(Path.Combine(outDir, NodeKeyFile), key.ExportPkcs8PrivateKeyPem());
        WritePublic(Path.Combine(outDir, NodeCertFile), issued.ExportCertificatePem());
        WritePublic(Path.Combine(outDir, CaCertFile), ca.ExportCertificatePem());
        return X509CertificateLoader.LoadCertificate(issued.RawData);
    }

    /// <summary>The CA certificate with its private key, from ca.crt and ca.key in <paramref name="caDir"/>.</summary>
    private static X509Certificate2 LoadCa(string caDir)
    {
        caDir = Path.GetFullPath(caDir);
        var crt = Path.Combine(caDir, CaCertFile);
        var key = Path.Combine(caDir, CaKeyFile);
        if (!File.Exists(crt) || !File.Exists(key))
            throw new CliException($"--ca {caDir} is not a fleet CA folder: it needs {CaCertFile} and {CaKeyFile} (make one with './cis490 certs init --out DIR')");
        X509Certificate2 ca;
        try
        {
            ca = X509Certificate2.CreateFromPemFile(crt, key);
        }
        catch (CryptographicException e)
        {
            throw new CliException($"--ca {caDir}: cannot read {CaCertFile} with {CaKeyFile} ({e.Message})");
        }
        if (ca.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault() is not { CertificateAuthority: true })
            throw new CliException($"{crt} is not a CA certificate (no basic constraint CA:TRUE)");
        if (ca.NotAfter.ToUniversalTime() <= DateTime.UtcNow)
            throw new CliException($"{crt} expired on {ca.NotAfter.ToUniversalTime():u}: make a new CA and enrol the fleet again");
        return ca;
    }

    /// <summary>Writes a private key readable by its owner only, created with that mode (never world-readable, not even briefly).</summary>
    internal static void WritePrivateKey(string path, string pem)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using var stream = new FileStream(path, options);
        using var writer = new StreamWriter(stream);
        writer.Write(pem);
        writer.Write('\n');
    }

    private static void WritePublic(string path, string pem) => File.WriteAllText(path, pem + "\n");
}
