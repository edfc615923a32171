using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Cis490.Shared.Cli;

namespace Cis490.Shared.Tls;

/// <summary>An enrolment folder (made by <c>certs issue</c>, copied to one machine): the fleet CA's certificate, this node's
/// certificate and its private key. Loading it checks everything a peer would check, so that a bad folder stops the node at
/// start-up with a clear message rather than failing every handshake later.</summary>
public sealed class Enrolment : IDisposable
{
    public string Directory { get; }

    /// <summary>The fleet CA: the only root a peer's certificate may chain to.</summary>
    public X509Certificate2 Ca { get; }

    /// <summary>This node's certificate, with its private key.</summary>
    public X509Certificate2 Certificate { get; }

    public FleetRole Role { get; }

    /// <summary>The certificate's common name (the name given to <c>certs issue</c>).</summary>
    public string Name { get; }

    private Enrolment(string directory, X509Certificate2 ca, X509Certificate2 certificate, FleetRole role)
    {
        Directory = directory;
        Ca = ca;
        Certificate = certificate;
        Role = role;
        Name = FleetRoles.CommonName(certificate);
    }

    /// <summary>Loads <paramref name="dir"/> for a node of role <paramref name="expected"/>; <paramref name="option"/> names the
    /// setting it came from in errors (e.g. <c>--tls</c>).</summary>
    public static Enrolment Load(string dir, FleetRole expected, string option = "--tls")
    {
        dir = Path.GetFullPath(dir);
        string Need(string file)
        {
            var path = Path.Combine(dir, file);
            if (!File.Exists(path))
                throw new CliException($"{option} {dir}: no {file} there; an enrolment folder holds {FleetCa.CaCertFile}, {FleetCa.NodeCertFile} " +
                                       $"and {FleetCa.NodeKeyFile} (make one with './cis490 certs issue NAME --role {expected.Name()} --ca CA-DIR --out DIR')");
            return path;
        }
        var caPath = Need(FleetCa.CaCertFile);
        var crtPath = Need(FleetCa.NodeCertFile);
        var keyPath = Need(FleetCa.NodeKeyFile);
        if (File.Exists(Path.Combine(dir, FleetCa.CaKeyFile)))
            throw new CliException($"{option} {dir} holds the fleet CA's private key ({FleetCa.CaKeyFile}): keep it on the operator's machine only, " +
                                   "never beside a node's certificate");
        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(keyPath) & (UnixFileMode.GroupRead | UnixFileMode.OtherRead | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) != 0)
            throw new CliException($"{keyPath} is readable by other users; run 'chmod 600 {keyPath}' (it is this node's private key)");

        X509Certificate2 ca, certificate;
        try
        {
            ca = X509CertificateLoader.LoadCertificateFromFile(caPath);
        }
        catch (CryptographicException e)
        {
            throw new CliException($"{caPath}: not a PEM certificate ({e.Message})");
        }
        try
        {
            certificate = X509Certificate2.CreateFromPemFile(crtPath, keyPath);
        }
        catch (CryptographicException e)
        {
            throw new CliException($"{crtPath} with {keyPath}: cannot load the certificate with its key ({e.Message}); were they issued together?");
        }
        if (ca.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault() is not { CertificateAuthority: true })
            throw new CliException($"{caPath} is not a CA certificate (no basic constraint CA:TRUE)");
        // The node's own certificate must pass the checks its peers will make.
        var verdict = PeerValidator.Check(ca, certificate);
        if (verdict is not null)
            throw new CliException($"{crtPath}: {verdict}");
        var role = FleetRoles.Single(certificate)!.Value;
        if (role != expected)
            throw new CliException($"{crtPath} is a {role.Name()} certificate (CN={FleetRoles.CommonName(certificate)}); {expected.WithArticle()} " +
                                   $"needs one issued with '--role {expected.Name()}'");
        return new Enrolment(dir, ca, certificate, role);
    }

    public void Dispose()
    {
        Ca.Dispose();
        Certificate.Dispose();
    }
}
