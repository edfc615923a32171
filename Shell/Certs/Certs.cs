using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Cis490.Shared.Cli;
using Cis490.Shared.Tls;

namespace Cis490.Shell;

/// <summary>The <c>certs</c> command: <c>certs init</c> makes the fleet CA, <c>certs issue</c> an enrolment folder for one machine
/// (the work is in Shared/Tls/FleetCa.cs). It prints what it wrote and the certificates' fingerprints, never a key.</summary>
public static class Certs
{
    public static int Run(string[] argv, TextWriter output)
    {
        var args = new CliArgs(argv);
        var verb = args.Positionals.Count > 0 ? args.Positionals[0] : throw new CliException("certs needs a subcommand: init or issue");
        switch (verb)
        {
            case "init":
            {
                var outDir = args.Require("out");
                var days = args.GetInt("days", FleetCa.DefaultCaDays);
                args.RejectUnknown();
                if (args.Positionals.Count > 1) throw new CliException($"certs init: unexpected argument '{args.Positionals[1]}'");
                using var ca = FleetCa.Init(outDir, days);
                var dir = Path.GetFullPath(outDir);
                output.WriteLine($"fleet CA: {ca.Subject}, valid until {ca.NotAfter.ToUniversalTime():u}");
                output.WriteLine($"  {Path.Combine(dir, FleetCa.CaCertFile)}  certificate (sha256 {Fingerprint(ca)})");
                output.WriteLine($"  {Path.Combine(dir, FleetCa.CaKeyFile)}  private key, mode 0600: keep it on this machine; it never goes to a node");
                output.WriteLine($"next: ./cis490 certs issue NAME --role coordinator|worker|operator --ca {outDir} --out enrol-NAME");
                return 0;
            }
            case "issue":
            {
                if (args.Positionals.Count < 2) throw new CliException("certs issue: missing NAME (the node's name: its certificate's CN)");
                if (args.Positionals.Count > 2) throw new CliException($"certs issue: unexpected argument '{args.Positionals[2]}'");
                var name = args.Positionals[1];
                var roleText = args.Require("role");
                var role = FleetRoles.Parse(roleText) ?? throw new CliException($"--role must be coordinator, worker or operator, got '{roleText}'");
                var caDir = args.Require("ca");
                var outDir = args.Require("out");
                var dns = List(args.Get("dns"));
                var ips = List(args.Get("ip")).Select(ip => IPAddress.TryParse(ip, out var a) ? a : throw new CliException($"--ip '{ip}' is not an IP address")).ToList();
                var days = args.GetInt("days", FleetCa.DefaultNodeDays);
                args.RejectUnknown();
                using var issued = FleetCa.Issue(caDir, outDir, new FleetCa.IssueRequest(name, role, dns, ips, days));
                var dir = Path.GetFullPath(outDir);
                var names = string.Join(", ", new[] { role.Uri() }.Concat(dns.Select(d => "DNS:" + d)).Concat(ips.Select(i => "IP:" + i)));
                output.WriteLine($"{role.Name()} certificate CN={name} ({names}), valid until {issued.NotAfter.ToUniversalTime():u}, sha256 {Fingerprint(issued)}");
                output.WriteLine($"enrolment folder {dir}: {FleetCa.CaCertFile} (the fleet CA's certificate), {FleetCa.NodeCertFile}, {FleetCa.NodeKeyFile} (mode 0600)");
                output.WriteLine($"copy it to the machine (e.g. scp -rp {outDir} HOST:/etc/cis490/tls) and start the node with --tls /etc/cis490/tls");
                return 0;
            }
            default:
                throw new CliException($"unknown certs subcommand '{verb}' (init or issue)");
        }
    }

    private static List<string> List(string? text) =>
        text is null ? [] : text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();

    private static string Fingerprint(X509Certificate2 certificate) =>
        Convert.ToHexString(SHA256.HashData(certificate.RawData)).ToLowerInvariant();
}
