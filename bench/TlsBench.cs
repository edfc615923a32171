using System.Diagnostics;
using System.Security.Cryptography;
using Akka;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Configuration;
using Akka.Streams;
using Akka.Streams.Dsl;
using Cis490.Coordinator.Jobs;
using Cis490.Protocols.Jobs;
using Cis490.Protocols.Operator;
using Cis490.Protocols.Workers;
using Cis490.Shared.Config;
using Cis490.Shared.Tls;
using Microsoft.Data.Sqlite;

namespace Cis490.Bench;

/// <summary><c>./cis490 bench tls</c>: the same two measurements over a plain and a mutual-TLS Akka.Remote link, in one run and
/// alternated (plain, TLS, plain, TLS) so that a noisy machine hits both alike. Two actor systems in this process talk over
/// loopback remoting exactly as a coordinator node and a worker node do: (a) leases granted per second, the real JobCoordinator
/// (SQLite journal) granting to fake workers on the other system that fail every lease at once; (b) artifact MB/s, 64 KiB
/// <c>byte[]</c> chunks streamed through a StreamRef sink into a SHA-256 on the coordinator's side, as the artifact store takes a
/// bundle.</summary>
public static class TlsBench
{
    private const string Token = "bench-operator-token";
    private static readonly WorkerCapability Capability = new("bench-host", 2, 4, false, 0, null, "none", "bench", "Linux");

    public static int Run(string[] args, Func<string[], string, string, string> option)
    {
        var jobs = int.Parse(option(args, "--jobs", "2000"));
        var mb = int.Parse(option(args, "--mb", "256"));
        var rounds = int.Parse(option(args, "--rounds", "2"));
        var root = Path.GetFullPath(option(args, "--dir", Path.Combine(Path.GetTempPath(), "cis490-bench-tls")));
        if (Directory.Exists(root)) Directory.Delete(root, true);
        Directory.CreateDirectory(root);
        var pki = Path.Combine(root, "pki");
        FleetCa.Init(Path.Combine(pki, "ca")).Dispose();
        FleetCa.Issue(Path.Combine(pki, "ca"), Path.Combine(pki, "coordinator"), new FleetCa.IssueRequest("bench-coordinator", FleetRole.Coordinator, [], [])).Dispose();
        FleetCa.Issue(Path.Combine(pki, "ca"), Path.Combine(pki, "worker"), new FleetCa.IssueRequest("bench-worker", FleetRole.Worker, [], [])).Dispose();

        Console.WriteLine($"TLS benchmark on {Environment.ProcessorCount} cores, in {root}: two actor systems over loopback Akka.Remote,");
        Console.WriteLine("plain TCP vs mutual TLS (fleet certificates, ECDSA P-256, the fleet's peer check), alternated; best and median of each.");
        Console.WriteLine($"(a) leases/s: {jobs} jobs, 8 fake workers x 4 slots on the worker system, each Lease answered with Failed at once;");
        Console.WriteLine("    the real JobCoordinator on an SQLite journal (2 events per lease), as `bench coordinator` but across the link.");
        Console.WriteLine($"(b) artifact MB/s: {mb} MiB in 64 KiB byte[] chunks, worker system -> StreamRef sink -> SHA-256 on the coordinator system.");
        Console.WriteLine($"{"transport",-10} {"round",5} {"leases",7} {"leases/s",9} {"MiB",5} {"MB/s",7}");
        // A warm-up of each transport first (JIT, thread pools, SQLite), not reported: otherwise the first round is always slowest.
        foreach (var tls in new[] { false, true }) Measure(root, pki, tls, Math.Max(100, jobs / 10), Math.Max(8, mb / 8)).GetAwaiter().GetResult();
        var results = new Dictionary<bool, List<(double Leases, double Mbs)>> { [false] = [], [true] = [] };
        for (var round = 1; round <= rounds; round++)
            foreach (var tls in new[] { false, true })
            {
                var (leases, leaseRate, mbs) = Measure(root, pki, tls, jobs, mb).GetAwaiter().GetResult();
                results[tls].Add((leaseRate, mbs));
                Console.WriteLine($"{(tls ? "mutual TLS" : "plain"),-10} {round,5} {leases,7} {leaseRate,9:F0} {mb,5} {mbs,7:F1}");
            }
        var plainLeases = results[false].Max(r => r.Leases);
        var tlsLeases = results[true].Max(r => r.Leases);
        var plainMbs = results[false].Max(r => r.Mbs);
        var tlsMbs = results[true].Max(r => r.Mbs);
        static double Median(IEnumerable<double> xs) { var o = xs.Order().ToList(); return o.Count % 2 == 1 ? o[o.Count / 2] : (o[o.Count / 2 - 1] + o[o.Count / 2]) / 2; }
        var mPlainLeases = Median(results[false].Select(r => r.Leases));
        var mTlsLeases = Median(results[true].Select(r => r.Leases));
        var mPlainMbs = Median(results[false].Select(r => r.Mbs));
        var mTlsMbs = Median(results[true].Select(r => r.Mbs));
        Console.WriteLine();
        Console.WriteLine($"best:   leases/s plain {plainLeases:F0}, TLS {tlsLeases:F0} (TLS/plain {tlsLeases / plainLeases:F2}); " +
                          $"artifact MB/s plain {plainMbs:F1}, TLS {tlsMbs:F1} (TLS/plain {tlsMbs / plainMbs:F2})");
        Console.WriteLine($"median: leases/s plain {mPlainLeases:F0}, TLS {mTlsLeases:F0} (TLS/plain {mTlsLeases / mPlainLeases:F2}); " +
                          $"artifact MB/s plain {mPlainMbs:F1}, TLS {mTlsMbs:F1} (TLS/plain {mTlsMbs / mPlainMbs:F2})");
        Console.WriteLine($"load average at the end: {File.ReadAllText("/proc/loadavg").Split(' ')[0]} (2 shared cores: above ~2 the figures are noise-bound)");
        Directory.Delete(root, true);
        return 0;
    }

    private static TransportSecurity Security(string pki, FleetRole role, bool tls) =>
        tls ? TransportSecurity.Decide(role, "127.0.0.1", Path.Combine(pki, role.Name()), false) : TransportSecurity.Decide(role, "127.0.0.1", null, false);

    private static ActorSystem MakeSystem(string name, Config config, TransportSecurity security)
    {
        config = ConfigurationFactory.ParseString(security.Overrides).WithFallback(config);
        var bootstrap = BootstrapSetup.Create().WithConfig(config);
        return security.Setup() is { } tls
            ? ActorSystem.Create(name, ActorSystemSetup.Create(bootstrap, tls))
            : ActorSystem.Create(name, ActorSystemSetup.Create(bootstrap));
    }

    private static async Task<(int Leases, double LeaseRate, double MBs)> Measure(string root, string pki, bool tls, int jobs, int mb)
    {
        var dataDir = Path.Combine(root, "data-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dataDir);
        var journal = $"Data Source={Path.Combine(dataDir, "journal.db")}";
        const string Common = """
            akka.actor.provider = remote
            akka.loglevel = ERROR
            # The two systems end one after the other at the end of each measurement; their disassociation is expected.
            akka.remote.log-remote-lifecycle-events = off
            akka.remote.dot-netty.tcp.hostname = "127.0.0.1"
            akka.remote.dot-netty.tcp.port = 0
            """;
        var coordinatorConfig = HoconLoader.Load(["coordinator.conf", "persistence-sqlite.conf"], Common + $"""

            cis490.coordinator.data-dir = {HoconLoader.Quote(dataDir)}
            cis490.coordinator.operator-token = "{Token}"
            akka.persistence.journal.sql.connection-string = {HoconLoader.Quote(journal)}
            akka.persistence.snapshot-store.sql.connection-string = {HoconLoader.Quote(journal)}
            """).WithFallback(ActorMaterializer.DefaultConfig());
        var workerConfig = HoconLoader.Load(["worker.conf"], Common).WithFallback(ActorMaterializer.DefaultConfig());
        var coordinatorSecurity = Security(pki, FleetRole.Coordinator, tls);
        var c = MakeSystem("cis490", coordinatorConfig, coordinatorSecurity);
        var w = MakeSystem("cis490", workerConfig, Security(pki, FleetRole.Worker, tls));
        try
        {
            var address = ((ExtendedActorSystem)c).Provider.DefaultAddress;
            var coordinator = c.ActorOf(JobCoordinator.Props(CoordinatorSettings.From(c.Settings.Config)), "coordinator");
            var manifest = string.Join("\n", Enumerable.Range(1, jobs).Select(i => $"[[jobs]]\nmodel = \"knn\"\nmode = \"realistic\"\nseed = {i}\nmax_attempts = 1\n"));
            var accepted = await coordinator.Ask<object>(new OperatorProtocol.SubmitManifest("bench.toml", manifest, Token), TimeSpan.FromMinutes(2));
            if (accepted is not OperatorProtocol.ManifestAccepted { AddedCount: var added } || added != jobs)
                throw new InvalidOperationException($"the bench manifest was not accepted: {accepted}");
            var sink = c.ActorOf(Props.Create(() => new HashingSink()), "sink");

            // The worker system reaches both through the link, as a worker node reaches the singleton.
            var remoteCoordinator = await w.ActorSelection($"{address}/user/coordinator").ResolveOne(TimeSpan.FromSeconds(30));
            var remoteSink = await w.ActorSelection($"{address}/user/sink").ResolveOne(TimeSpan.FromSeconds(30));

            var counter = new CoordinatorBench.LeaseCounter(jobs); // the same failing workers as bench coordinator
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < 8; i++)
            {
                var worker = w.ActorOf(Props.Create(() => new CoordinatorBench.FailingWorker(counter)), $"worker-{i}");
                remoteCoordinator.Tell(new WorkerProtocol.Register($"worker-{i}", Capability, 4, []), worker);
            }
            if (await Task.WhenAny(counter.Done.Task, Task.Delay(TimeSpan.FromMinutes(5))) != counter.Done.Task)
                throw new TimeoutException($"only {counter.Count} of {jobs} leases within 5 minutes");
            var leaseRate = counter.Count / clock.Elapsed.TotalSeconds;

            // (b) the sink ref is asked for with a byte[] (bound to Akka's byte-array serializer) and arrives through Akka's stream-ref serializer.
            var sinkRef = await remoteSink.Ask<ISinkRef<byte[]>>(Array.Empty<byte>(), TimeSpan.FromSeconds(30));
            var chunk = RandomNumberGenerator.GetBytes(64 * 1024);
            var chunks = mb * 16;
            clock.Restart();
            Source.Repeat(chunk).Take(chunks).RunWith(sinkRef.Sink, w.Materializer());
            var done = await sink.Ask<long>("await", TimeSpan.FromMinutes(10));
            var mbs = done / 1e6 / clock.Elapsed.TotalSeconds;
            if (done != (long)chunks * chunk.Length) throw new InvalidOperationException($"received {done} bytes, sent {(long)chunks * chunk.Length}");
            return (counter.Count, leaseRate, mbs);
        }
        finally
        {
            // Both at once: each side's endpoint writer would otherwise log the other's departure as an error.
            await Task.WhenAll(w.Terminate(), c.Terminate());
            SqliteConnection.ClearAllPools();
            Directory.Delete(dataDir, true);
        }
    }

    /// <summary>Hands out one sink ref (asked for with an empty byte[]) whose bytes go into SHA-256, as the artifact store hashes an
    /// upload; "await" (local) answers with the byte count once that stream has completed.</summary>
    private sealed class HashingSink : ReceiveActor
    {
        private Task<long>? _received;

        public HashingSink()
        {
            Receive<byte[]>(_ =>
            {
                var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                var (sinkRef, total) = StreamRefs.SinkRef<byte[]>()
                    .ToMaterialized(Sink.Aggregate<byte[], long>(0L, (n, bytes) => { hash.AppendData(bytes); return n + bytes.Length; }), Keep.Both)
                    .Run(Context.Materializer());
                _received = total;
                sinkRef.PipeTo(Sender);
            });
            Receive<string>(_ => (_received ?? Task.FromResult(-1L)).PipeTo(Sender));
        }
    }
}
