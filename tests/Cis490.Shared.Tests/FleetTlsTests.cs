using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Cis490.Shared.Cli;
using Cis490.Shared.Tls;

namespace Cis490.Shared.Tests;

/// <summary>The fleet CA (certs init/issue), enrolment folders, the peer check every TLS handshake makes, and the start-up decision
/// between TLS, plain loopback and a refusal. Certificates are checked by OpenSSL too: an implementation that is not ours.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // file modes are checked the Unix way
public sealed class FleetTlsTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Ca(string name = "ca")
    {
        FleetCa.Init(_dir.Combine(name)).Dispose();
        return _dir.Combine(name);
    }

    private string Issue(string ca, string name, FleetRole role, string? outName = null)
    {
        var outDir = _dir.Combine(outName ?? name);
        FleetCa.Issue(ca, outDir, new FleetCa.IssueRequest(name, role, ["node.example"], [IPAddress.Parse("192.0.2.7")])).Dispose();
        return outDir;
    }

    private static X509Certificate2 Load(string dir, string file) => X509CertificateLoader.LoadCertificateFromFile(Path.Combine(dir, file));

    private static (int Exit, string Output) OpenSsl(params string[] args)
    {
        // OpenSSL must be there (./cis490 test installs it): a missing binary fails the test rather than skipping it.
        var psi = new ProcessStartInfo("openssl") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, output);
    }

    [Fact]
    public void Certs_init_writes_a_CA_whose_key_only_its_owner_can_read_and_refuses_to_overwrite_it()
    {
        var ca = Ca();

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(ca, "ca.key")));
        Assert.StartsWith("-----BEGIN PRIVATE KEY-----", File.ReadAllText(Path.Combine(ca, "ca.key")));
        using var cert = Load(ca, "ca.crt");
        Assert.True(cert.Extensions.OfType<X509BasicConstraintsExtension>().Single().CertificateAuthority);
        Assert.InRange(cert.NotAfter.ToUniversalTime(), DateTime.UtcNow.AddDays(3649), DateTime.UtcNow.AddDays(3651));
        var before = File.ReadAllBytes(Path.Combine(ca, "ca.key"));

        var e = Assert.Throws<CliException>(() => FleetCa.Init(ca));

        Assert.Contains("already exists", e.Message);
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(ca, "ca.key")));
    }

    [Fact]
    public void Certs_issue_writes_an_enrolment_folder_that_openssl_verifies_against_the_CA_and_only_that_CA()
    {
        var ca = Ca();
        var other = Ca("other-ca");
        var node = Issue(ca, "gpu-box", FleetRole.Worker);

        Assert.Equal(["ca.crt", "node.crt", "node.key"], Directory.GetFiles(node).Select(Path.GetFileName).Order());
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(node, "node.key")));
        Assert.Equal(File.ReadAllText(Path.Combine(ca, "ca.crt")), File.ReadAllText(Path.Combine(node, "ca.crt")));

        var ok = OpenSsl("verify", "-CAfile", Path.Combine(node, "ca.crt"), Path.Combine(node, "node.crt"));
        Assert.True(ok.Exit == 0, ok.Output);
        Assert.Contains("node.crt: OK", ok.Output);
        var wrong = OpenSsl("verify", "-CAfile", Path.Combine(other, "ca.crt"), Path.Combine(node, "node.crt"));
        Assert.NotEqual(0, wrong.Exit);
        // The key is PKCS#8 PEM and belongs to the certificate: OpenSSL derives the same public key from both.
        var fromKey = OpenSsl("pkey", "-in", Path.Combine(node, "node.key"), "-pubout");
        var fromCert = OpenSsl("x509", "-in", Path.Combine(node, "node.crt"), "-noout", "-pubkey");
        Assert.Equal(0, fromKey.Exit);
        Assert.Equal(fromCert.Output.Trim(), fromKey.Output.Trim());
        var text = OpenSsl("x509", "-in", Path.Combine(node, "node.crt"), "-noout", "-text").Output;
        Assert.Contains("URI:urn:cis490:role:worker", text);
        Assert.Contains("DNS:node.example", text);
        Assert.Contains("IP Address:192.0.2.7", text);
        Assert.Contains("TLS Web Server Authentication, TLS Web Client Authentication", text);
        Assert.Contains("CN = gpu-box", text);
    }

    [Fact]
    public void Certs_issue_refuses_bad_names_a_missing_CA_and_an_existing_enrolment_folder()
    {
        var ca = Ca();
        Issue(ca, "w1", FleetRole.Worker);

        Assert.Contains("node name", Assert.Throws<CliException>(() => Issue(ca, "bad name/..", FleetRole.Worker, "x")).Message);
        Assert.Contains("is not a fleet CA folder", Assert.Throws<CliException>(() => Issue(_dir.Combine("nowhere"), "w2", FleetRole.Worker)).Message);
        Assert.Contains("already exists", Assert.Throws<CliException>(() => Issue(ca, "w1", FleetRole.Worker)).Message);
        Assert.Contains("holds the CA's key", Assert.Throws<CliException>(() => Issue(ca, "w3", FleetRole.Worker, "ca")).Message);
    }

    [Fact]
    public void A_fleet_certificate_carries_its_role_and_name()
    {
        var ca = Ca();
        using var cert = Load(Issue(ca, "coord-1", FleetRole.Coordinator), "node.crt");

        Assert.Equal([FleetRole.Coordinator], FleetRoles.Of(cert));
        Assert.Equal("coord-1", FleetRoles.CommonName(cert));
        Assert.True(FleetRoles.HasNodeUsages(cert));
    }

    [Fact]
    public void The_peer_check_accepts_a_fleet_certificate_and_refuses_none_self_signed_another_CA_expired_and_a_role_it_does_not_talk_to()
    {
        var ca = Ca();
        var other = Ca("other-ca");
        using var fleetCa = Load(ca, "ca.crt");
        var worker = new PeerValidator(fleetCa, FleetRole.Worker);
        var coordinator = new PeerValidator(fleetCa, FleetRole.Coordinator);
        var shell = new PeerValidator(fleetCa, FleetRole.Operator);
        using var good = Load(Issue(ca, "w1", FleetRole.Worker), "node.crt");
        using var op = Load(Issue(ca, "op", FleetRole.Operator), "node.crt");
        using var coord = Load(Issue(ca, "c1", FleetRole.Coordinator), "node.crt");
        using var foreign = Load(Issue(other, "rogue", FleetRole.Worker), "node.crt");
        var shortLived = _dir.Combine("short-lived");
        FleetCa.Issue(ca, shortLived, new FleetCa.IssueRequest("old", FleetRole.Worker, [], [], Days: 1)).Dispose();
        using var expired = Load(shortLived, "node.crt");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=self", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddUri(new Uri("urn:cis490:role:worker"));
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(FleetRoles.ServerAuthOid), new Oid(FleetRoles.ClientAuthOid)], false));
        using var selfSigned = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));

        Assert.Null(worker.Judge(good));
        Assert.Null(coordinator.Judge(op));
        Assert.Null(shell.Judge(coord));
        Assert.Contains("no certificate", worker.Judge(null));
        Assert.Contains("self-signed", worker.Judge(selfSigned));
        Assert.Contains("another CA", worker.Judge(foreign));
        Assert.Null(worker.Judge(expired));
        Assert.Contains("expired on", worker.Judge(expired, now: DateTime.UtcNow.AddDays(2))); // its day is over
        Assert.Null(worker.Judge(good, now: DateTime.UtcNow.AddDays(2)));
        Assert.Contains("an operator certificate (CN=op) is not accepted by a worker node", worker.Judge(op)); // workers never talk to shells
        Assert.Contains("a worker certificate (CN=w1) is not accepted by an operator node", shell.Judge(good)); // shells talk to coordinators only
        Assert.Contains("the fleet CA's own certificate", worker.Judge(fleetCa));
    }

    [Fact]
    public void An_enrolment_folder_for_another_role_or_with_a_readable_key_stops_the_node_with_the_reason()
    {
        var ca = Ca();
        var worker = Issue(ca, "w1", FleetRole.Worker);

        var wrongRole = Assert.Throws<CliException>(() => Enrolment.Load(worker, FleetRole.Coordinator));
        Assert.Contains("is a worker certificate", wrongRole.Message);
        Assert.Contains("--role coordinator", wrongRole.Message);

        using (var loaded = Enrolment.Load(worker, FleetRole.Worker))
            Assert.Equal(("w1", FleetRole.Worker), (loaded.Name, loaded.Role));

        File.SetUnixFileMode(Path.Combine(worker, "node.key"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
        Assert.Contains("chmod 600", Assert.Throws<CliException>(() => Enrolment.Load(worker, FleetRole.Worker)).Message);
        Assert.Contains("no ca.crt there", Assert.Throws<CliException>(() => Enrolment.Load(_dir.Combine("nothing"), FleetRole.Worker)).Message);
    }

    [Fact]
    public void A_non_loopback_bind_without_TLS_is_refused_naming_both_ways_out_and_insecure_is_explicit()
    {
        var e = Assert.Throws<CliException>(() => TransportSecurity.Decide(FleetRole.Worker, "192.0.2.7", null, false));
        Assert.Contains("--tls DIR", e.Message);
        Assert.Contains("--insecure", e.Message);
        Assert.Throws<CliException>(() => TransportSecurity.Decide(FleetRole.Worker, "0.0.0.0", null, false));
        Assert.Throws<CliException>(() => TransportSecurity.Decide(FleetRole.Worker, "gpu-box.lan", null, false));

        Assert.False(TransportSecurity.Decide(FleetRole.Worker, "127.0.0.1", null, false).Enabled);
        Assert.False(TransportSecurity.Decide(FleetRole.Worker, "localhost", null, false).Enabled);
        var insecure = TransportSecurity.Decide(FleetRole.Worker, "192.0.2.7", null, true);
        Assert.True(insecure.Insecure);
        Assert.StartsWith("WARNING", insecure.Describe("192.0.2.7"));

        var ca = Ca();
        var worker = Issue(ca, "w1", FleetRole.Worker);
        var tls = TransportSecurity.Decide(FleetRole.Worker, "192.0.2.7", worker, false);
        Assert.True(tls.Enabled);
        Assert.Equal("akka.ssl.tcp://cis490@h:1", tls.Seed("akka.tcp://cis490@h:1"));
        Assert.Contains("contradict", Assert.Throws<CliException>(() => TransportSecurity.Decide(FleetRole.Worker, "192.0.2.7", worker, true)).Message);
    }
}
