using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Akka.Actor;
using Akka.Event;
using Akka.Streams;
using Cis490.Coordinator.Artifacts;
using Cis490.Coordinator.DataSets;
using Cis490.Coordinator.Jobs;
using Cis490.Protocols;
using Cis490.Protocols.Artifacts;
using Cis490.Protocols.DataSets;
using Cis490.Shared.Artifacts;
using Cis490.WorkerNode.Data;

namespace Cis490.Bench;

public static partial class StoreTransfer
{
    /// <summary>The JobCoordinator's routing of transfers, without its journal and lease checks: the real artifact and data-set stores
    /// as its children (as the JobCoordinator has them); a publication is answered once the store has kept it (the coordinator would
    /// persist an event first), and a worker's fetch is served if the data set was published here.</summary>
    private sealed class CoordinatorHost : ReceiveActor
    {
        public CoordinatorHost(string dataDir, TimeSpan idleTimeout)
        {
            var artifacts = Context.ActorOf(ArtifactStore.Props(Path.Combine(dataDir, "models"), idleTimeout), "artifact-store");
            // The warm-up upload goes to a store of its own, so that the timed upload is a first one (not deduplicated).
            var warmUp = Context.ActorOf(ArtifactStore.Props(Path.Combine(dataDir, "warm-up"), idleTimeout), "warm-up-store");
            var dataSets = Context.ActorOf(DataSetStore.Props(Path.Combine(dataDir, "data-sets"), idleTimeout), "data-set-store");
            var published = new Dictionary<string, DataSetInfo>(StringComparer.Ordinal);
            Receive<ArtifactProtocol.OfferUpload>(o => (o.JobId == WarmUpJob ? warmUp : artifacts).Forward(o));
            Receive<ArtifactStore.Stored>(s => s.ReplyTo.Tell(new ArtifactProtocol.UploadCompleted(s.Offer.JobId, s.Offer.LeaseId, s.Offer.Sha256, s.Deduplicated)));
            Receive<DataSetProtocol.Publish>(p => dataSets.Forward(p));
            Receive<DataSetStore.Stored>(s =>
            {
                published[s.DataSet.Sha256] = s.DataSet;
                s.ReplyTo.Tell(new DataSetProtocol.Published(s.DataSet, AlreadyStored: false));
            });
            Receive<DataSetProtocol.Fetch>(f =>
            {
                if (published.TryGetValue(f.Sha256, out var info)) dataSets.Forward(new CoordinatorCommands.ServeDataSet(f, info));
                else Sender.Tell(new DataSetProtocol.FetchRefused(f.JobId, f.LeaseId, f.Sha256, "not published here", ErrorKind.NotFound));
            });
        }
    }

    private static readonly string WarmUpJob = Convert.ToHexStringLower(SHA256.HashData("bench scale-data warm-up"u8));

    /// <summary>A trainer's side of a pull: asks the worker's cache for its lease's data set and reports the answer.</summary>
    private sealed class Puller : ReceiveActor
    {
        public Puller(IActorRef cache, string sha256, TaskCompletionSource<object> done)
        {
            Receive<DataSetCache.Ready>(m => done.TrySetResult(m));
            Receive<DataSetCache.Unavailable>(m => done.TrySetResult(m));
            cache.Tell(new DataSetCache.Ensure(sha256, Convert.ToHexStringLower(SHA256.HashData("bench scale-data"u8)), 1));
        }
    }

    /// <summary>The trainer's side of an upload (TrainerActor's Uploading state): offers the bundle, streams it into the sink ref it is
    /// given with <see cref="BundleStreams.FromFile"/>, and reports the store's answer.</summary>
    private sealed class Uploader : ReceiveActor
    {
        public Uploader(IActorRef store, ArtifactProtocol.OfferUpload offer, string bundle, TaskCompletionSource<object> done)
        {
            Receive<ArtifactProtocol.UploadReady>(r => BundleStreams.FromFile(bundle, Context.System.Settings.Config).RunWith(r.Sink.Sink, Context.Materializer()));
            Receive<ArtifactProtocol.UploadCompleted>(u => done.TrySetResult(u));
            Receive<ArtifactProtocol.UploadRefused>(u => done.TrySetResult(u));
            store.Tell(offer, Self);
        }
    }

    /// <summary>The bench's logger (<c>akka.loggers</c>): prints what the stores and the cache say about a transfer (their own split of
    /// the time: bytes streamed and hashed, then unpacked and checked) and every warning or error, indented under the figures.</summary>
    public sealed class TransferLog : ReceiveActor
    {
        public TransferLog()
        {
            Receive<InitializeLogger>(_ => Sender.Tell(new LoggerInitialized()));
            Receive<LogEvent>(e =>
            {
                var fromTransfer = e.LogClass == typeof(DataSetStore) || e.LogClass == typeof(DataSetCache) || e.LogClass == typeof(ArtifactStore);
                if (e.LogLevel() >= LogLevel.WarningLevel || (fromTransfer && e.Message?.ToString() is { } text
                        && (text.Contains("MB/s", StringComparison.Ordinal) || text.StartsWith("Stored", StringComparison.Ordinal))))
                    Console.WriteLine($"    [{e.LogLevel().ToString().Replace("Level", "").ToLowerInvariant()} {e.LogClass.Name}] {e}");
            });
        }
    }

    /// <summary>A plain loopback TCP copy of <paramref name="bundle"/> into <paramref name="copy"/>, hashed (SHA-256) as it is written,
    /// in <see cref="ArtifactProtocol.MaxChunkBytes"/> reads: what a transfer costs with no actor, stream or serializer on the way.</summary>
    private static async Task<double> RawSocket(string bundle, string copy)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var clock = Stopwatch.StartNew();
        var receive = Task.Run(async () =>
        {
            using var peer = await listener.AcceptTcpClientAsync();
            await using var net = peer.GetStream();
            await using var file = new FileStream(copy, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[ArtifactProtocol.MaxChunkBytes];
            int n;
            while ((n = await net.ReadAsync(buffer)) > 0)
            {
                hash.AppendData(buffer, 0, n);
                await file.WriteAsync(buffer.AsMemory(0, n));
            }
            return Convert.ToHexStringLower(hash.GetHashAndReset());
        });
        using (var client = new TcpClient())
        {
            await client.ConnectAsync(IPAddress.Loopback, port);
            await using var net = client.GetStream();
            await using var file = new FileStream(bundle, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            await file.CopyToAsync(net, ArtifactProtocol.MaxChunkBytes);
        }
        var sha = await receive;
        var seconds = clock.Elapsed.TotalSeconds;
        if (sha != ArtifactBundle.HashFile(bundle)) throw new InvalidOperationException("the raw copy's sha256 differs");
        File.Delete(copy);
        return seconds;
    }
}
