using System.Diagnostics;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Cis490.Protocols.Jobs;
using Cis490.Protocols.Operator;
using Cis490.Shared.Tls;
using Cis490.Shell.Client;
using Xunit;
using Xunit.Abstractions;

namespace Cis490.Cluster.Tests;

/// <summary>Mutual TLS on Akka.Remote with real processes: a fleet whose certificates come from one CA trains and is driven by the
/// shell with an operator certificate; peers without a fleet certificate never get in and each refusal is logged with the peer's
/// address; nodes refuse to start with a certificate of another role or bound beyond loopback without TLS.</summary>
[Collection(ClusterCollection.Name)]
public sealed class TlsFleetTests(DataFixture data, ITestOutputHelper output)
{
    /// <summary>A CA in the harness's data folder and an enrolment folder per (name, role).</summary>
    private static Dictionary<string, string> Enrol(ClusterHarness h, string caName, params (string Name, FleetRole Role)[] nodes)
    {
        var ca = Path.Combine(h.DataDir, "pki", caName);
        FleetCa.Init(ca).Dispose();
        var dirs = new Dictionary<string, string>();
        foreach (var (name, role) in nodes)
        {
            var dir = Path.Combine(h.DataDir, "pki", $"{caName}-{name}");
            FleetCa.Issue(ca, dir, new FleetCa.IssueRequest(name, role, ["localhost"], [IPAddress.Loopback])).Dispose();
            dirs[name] = dir;
        }
        return dirs;
    }

    private static async Task<IReadOnlyList<OperatorProtocol.JobView>> WaitForJobs(CoordinatorClient client, Func<IReadOnlyList<OperatorProtocol.JobView>, bool> done,
        TimeSpan timeout, ClusterHarness h)
    {
        var clock = Stopwatch.StartNew();
        IReadOnlyList<OperatorProtocol.JobView> jobs = [];
        while (clock.Elapsed < timeout)
        {
            jobs = (await client.ListJobs()).Jobs;
            if (done(jobs)) return jobs;
            await Task.Delay(250);
        }
        throw new TimeoutException($"jobs not done within {timeout}: {string.Join("; ", jobs.Select(j => $"{j.JobId[..8]} {j.Status}"))}\n{h.LogTails()}");
    }

    /// <summary>Waits until <paramref name="node"/>'s log has a line containing every one of <paramref name="parts"/>; returns it.</summary>
    private static async Task<string> WaitForLogLine(Shell.Demo.NodeProcess node, TimeSpan timeout, params string[] parts)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            var line = ReadLog(node).FirstOrDefault(l => parts.All(p => l.Contains(p, StringComparison.Ordinal)));
            if (line is not null) return line;
            await Task.Delay(200);
        }
        throw new TimeoutException($"{node.Name}'s log has no line with [{string.Join("] [", parts)}] after {timeout.TotalSeconds:F0} s; its tail:\n" +
                                   string.Join("\n", ReadLog(node).TakeLast(25)));
    }

    private static List<string> ReadLog(Shell.Demo.NodeProcess node)
    {
        using var stream = new FileStream(node.LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd().Split('\n').ToList();
    }

    [Fact]
    public async Task A_TLS_fleet_on_loopback_trains_a_job_end_to_end_and_the_shell_with_an_operator_certificate_drives_it_over_TLS()
    {
        await using var h = new ClusterHarness(data.Small);
        var pki = Enrol(h, "fleet", ("coord-1", FleetRole.Coordinator), ("worker-1", FleetRole.Worker), ("ops", FleetRole.Operator));
        var httpPort = Shell.Demo.NodeProcess.FreePort();
        // HTTP beyond loopback (0.0.0.0) is served over HTTPS with the coordinator's fleet certificate.
        var coordinator = await h.StartCoordinator("--tls", pki["coord-1"], "--http-port", httpPort.ToString(), "--http-bind", "0.0.0.0");
        var worker = await h.StartWorker("worker-1", "--tls", pki["worker-1"]); // the seed given as akka.tcp:// is rewritten to akka.ssl.tcp://
        Assert.Contains($"READY worker akka.ssl.tcp://cis490@127.0.0.1:", await worker.WaitReady(TimeSpan.FromSeconds(1)));
        await WaitForLogLine(coordinator, TimeSpan.FromSeconds(5), "Akka.Remote: mutual TLS, certificate CN=coord-1 (role coordinator)");

        var manifest = Path.Combine(h.DataDir, "jobs.toml");
        File.WriteAllText(manifest, "[[jobs]]\nmodel = \"knn\"\nmode = \"oracle\"\nhyper = { k = 3 }\n");
        var submit = await ClusterHarness.RunShell("manifest", "submit", manifest, "--coordinator", h.Address, "--tls", pki["ops"], "--token", h.Token);
        Assert.True(submit.Exit == 0, submit.Stderr);
        Assert.Contains("1 new job(s)", submit.Stdout);

        await using (var client = CoordinatorClient.Connect(h.Address, pki["ops"]))
        {
            var jobs = await WaitForJobs(client, j => j.Count == 1 && j[0].Status == JobStatus.Completed, TimeSpan.FromMinutes(2), h);
            Assert.Equal("worker-1", jobs[0].WorkerId);
            Assert.NotNull(jobs[0].ArtifactSha256); // the bundle streamed over the TLS association into the store
            Assert.True(File.Exists(Path.Combine(h.DataDir, "models", "knn_oracle", jobs[0].ArtifactSha256!, "bundle.tar.zst")));
        }

        var status = await ClusterHarness.RunShell("shell", "--coordinator", h.Address, "--tls", pki["ops"], "status");
        Assert.True(status.Exit == 0, status.Stderr);
        Assert.Contains("akka.ssl.tcp://cis490@127.0.0.1:", status.Stdout);
        Assert.Contains("2 up", status.Stdout);

        // The shell will not present a worker's certificate as an operator's.
        var wrongRole = await ClusterHarness.RunShell("shell", "--coordinator", h.Address, "--tls", pki["worker-1"], "status");
        Assert.Equal(2, wrongRole.Exit);
        Assert.Contains("is a worker certificate (CN=worker-1); an operator needs one issued with '--role operator'", wrongRole.Stderr);

        // HTTPS: a client that trusts the fleet CA (and only it) gets an answer; one that trusts the OS store is refused.
        using var fleetCa = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(pki["ops"], "ca.crt"));
        using var trusting = new HttpClient(new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, cert, _, _) =>
            {
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(fleetCa);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return cert is not null && chain.Build(cert);
            },
        });
        var health = await trusting.GetAsync($"https://127.0.0.1:{httpPort}/api/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        using var osTrust = new HttpClient();
        await Assert.ThrowsAsync<HttpRequestException>(() => osTrust.GetAsync($"https://127.0.0.1:{httpPort}/api/health"));
        await Assert.ThrowsAsync<HttpRequestException>(() => osTrust.GetAsync($"http://127.0.0.1:{httpPort}/api/health")); // no plain HTTP there
    }

    /// <summary>Connects to <paramref name="port"/> as a raw TLS client presenting <paramref name="certificate"/> (or none) and
    /// accepting any server; returns the local port the coordinator sees. The handshake or the first read fails when refused.</summary>
    private static async Task<(int LocalPort, bool Refused)> KnockWith(int port, X509Certificate2? certificate)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        var local = ((IPEndPoint)tcp.Client.LocalEndPoint!).Port;
        await using var tls = new SslStream(tcp.GetStream(), false, (_, _, _, _) => true);
        try
        {
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "localhost",
                ClientCertificates = certificate is null ? null : [certificate],
                LocalCertificateSelectionCallback = (_, _, _, _, _) => certificate!,
            });
            // TLS 1.3: the client finishes before the server has judged its certificate; the server's verdict arrives on the next read.
            await tls.WriteAsync(new byte[] { 0, 0, 0, 4, 1, 2, 3, 4 });
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            var n = await tls.ReadAsync(new byte[64], cts.Token);
            return (local, n == 0);
        }
        catch (Exception e) when (e is AuthenticationException or IOException or OperationCanceledException)
        {
            return (local, true);
        }
    }

    private static X509Certificate2 SelfSignedWorker()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=self-made", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddUri(new Uri(FleetRole.Worker.Uri())); // claims the role, but no CA of the fleet signed it
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(FleetRoles.ServerAuthOid), new Oid(FleetRoles.ClientAuthOid)], false));
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        return X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pkcs12), null);
    }

    [Fact]
    public async Task Peers_without_a_fleet_certificate_never_join_a_TLS_fleet_and_each_refusal_is_logged_with_the_peer_address()
    {
        await using var h = new ClusterHarness(data.Small);
        var pki = Enrol(h, "fleet", ("coord-1", FleetRole.Coordinator), ("ops", FleetRole.Operator));
        var rogue = Enrol(h, "other", ("rogue", FleetRole.Worker), ("rogue-ops", FleetRole.Operator));
        var coordinator = await h.StartCoordinator("--tls", pki["coord-1"]);

        // Real worker processes: one with no certificate at all (plain TCP), one enrolled by another CA.
        var plain = h.LaunchWorker("plain-worker");
        var foreign = h.LaunchWorker("foreign-worker", "--tls", rogue["rogue"]);

        // Raw TLS clients from this process: no certificate, a self-signed one, one from another CA.
        var none = await KnockWith(h.Port, null);
        using var selfSigned = SelfSignedWorker();
        var self = await KnockWith(h.Port, selfSigned);
        using var otherCa = X509Certificate2.CreateFromPemFile(Path.Combine(rogue["rogue"], "node.crt"), Path.Combine(rogue["rogue"], "node.key"));
        var other = await KnockWith(h.Port, X509CertificateLoader.LoadPkcs12(otherCa.Export(X509ContentType.Pkcs12), null));
        Assert.True(none.Refused && self.Refused && other.Refused, $"refused: none {none.Refused}, self-signed {self.Refused}, other CA {other.Refused}");

        // The coordinator names each refused peer by its address and says why.
        var timeout = TimeSpan.FromSeconds(20);
        output.WriteLine(await WaitForLogLine(coordinator, timeout, $"127.0.0.1]:{none.LocalPort}", "did not provide a certificate"));
        output.WriteLine(await WaitForLogLine(coordinator, timeout, $"TLS: refused peer [::ffff:127.0.0.1]:{self.LocalPort}: self-signed certificate"));
        output.WriteLine(await WaitForLogLine(coordinator, timeout, $"TLS: refused peer [::ffff:127.0.0.1]:{other.LocalPort}: certificate issued by another CA"));
        // The plain worker's clear-text handshake is refused by the TLS transport, with its address.
        output.WriteLine(await WaitForLogLine(coordinator, timeout, "Rejected incoming connection from [[::ffff:127.0.0.1]:", "TLS handshake failure"));
        // The foreign worker refuses the coordinator's certificate in turn (its CA is not ours) and says so with the coordinator's address.
        output.WriteLine(await WaitForLogLine(foreign, timeout, $"TLS: refused peer", $"127.0.0.1:{h.Port}", "certificate issued by another CA"));

        // Neither worker ever became a member or registered, after several join attempts each.
        await Task.Delay(TimeSpan.FromSeconds(5));
        Assert.False(plain.HasExited && foreign.HasExited, "the rogue workers should keep trying, not crash");
        await using var client = CoordinatorClient.Connect(h.Address, pki["ops"]);
        var status = Assert.IsType<OperatorQueries.StatusView>(await client.Ask(OperatorQueries.GetStatus.Instance));
        Assert.Single(status.Members);
        Assert.Equal(0, status.Workers);
        Assert.DoesNotContain(ReadLog(coordinator), l => l.Contains("registered from", StringComparison.Ordinal) || l.Contains("is JOINING, roles [worker]", StringComparison.Ordinal));
        Assert.DoesNotContain(ReadLog(plain), l => l.StartsWith("READY", StringComparison.Ordinal));
        Assert.DoesNotContain(ReadLog(foreign), l => l.StartsWith("READY", StringComparison.Ordinal));

        // A shell enrolled by another CA gets no answer either.
        var shell = await ClusterHarness.RunShell("shell", "--coordinator", h.Address, "--tls", rogue["rogue-ops"], "status");
        Assert.Equal(1, shell.Exit);
        Assert.Contains("no answer from a coordinator", shell.Stderr);
    }

    /// <summary>An address of this machine that is not loopback (the first up IPv4 interface), else 0.0.0.0.</summary>
    private static string NonLoopbackAddress() =>
        NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a))?.ToString() ?? "0.0.0.0";

    [Fact]
    public async Task A_node_refuses_to_start_with_a_certificate_of_another_role_or_beyond_loopback_without_TLS_unless_told_insecure()
    {
        await using var h = new ClusterHarness(data.Small);
        var pki = Enrol(h, "fleet", ("worker-1", FleetRole.Worker));
        var address = NonLoopbackAddress();

        var withWorkerCert = h.LaunchCoordinator(null, "--tls", pki["worker-1"]);
        Assert.True(await withWorkerCert.WaitExit(TimeSpan.FromSeconds(60)), "a coordinator with a worker certificate kept running");
        Assert.Equal(2, withWorkerCert.ExitCode);
        Assert.Contains(ReadLog(withWorkerCert), l => l.Contains("is a worker certificate (CN=worker-1); a coordinator needs one issued with '--role coordinator'"));
        Assert.DoesNotContain(ReadLog(withWorkerCert), l => l.StartsWith("READY", StringComparison.Ordinal));

        var exposed = h.LaunchCoordinator(null, "--hostname", address);
        Assert.True(await exposed.WaitExit(TimeSpan.FromSeconds(60)), $"a coordinator bound to {address} without TLS kept running");
        Assert.Equal(2, exposed.ExitCode);
        Assert.Contains(ReadLog(exposed), l => l.Contains($"binding to {address}, which is not a loopback address, needs TLS: give --tls DIR") && l.Contains("--insecure"));

        var exposedHttp = h.LaunchCoordinator(null, "--http-port", Shell.Demo.NodeProcess.FreePort().ToString(), "--http-bind", "0.0.0.0");
        Assert.True(await exposedHttp.WaitExit(TimeSpan.FromSeconds(60)), "a coordinator serving plain HTTP on 0.0.0.0 kept running");
        Assert.Equal(2, exposedHttp.ExitCode);
        Assert.Contains(ReadLog(exposedHttp), l => l.Contains("--http-bind 0.0.0.0 is not a loopback address: the HTTP API there needs HTTPS"));

        var worker = h.LaunchWorker("exposed-worker", "--hostname", address);
        Assert.True(await worker.WaitExit(TimeSpan.FromSeconds(60)), $"a worker bound to {address} without TLS kept running");
        Assert.Equal(2, worker.ExitCode);
        Assert.Contains(ReadLog(worker), l => l.Contains("needs TLS: give --tls DIR"));

        // --insecure: the operator's explicit choice; the node starts, and says loudly what it means.
        var insecure = h.LaunchCoordinator(null, "--hostname", address, "--insecure");
        var ready = await insecure.WaitReady(TimeSpan.FromSeconds(60));
        Assert.Contains($"akka.tcp://cis490@{address}:", ready);
        Assert.Contains(ReadLog(insecure), l => l.Contains($"WARNING: Akka.Remote WITHOUT TLS on {address} (--insecure)"));
    }
}
