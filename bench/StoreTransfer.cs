using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Akka.Actor;
using Akka.Configuration;
using Akka.Streams;
using Akka.Streams.Dsl;
using Cis490.Shared.Artifacts;
using Cis490.Coordinator.Artifacts;
using Cis490.Protocols.Artifacts;
using Cis490.Shared.Config;

namespace Cis490.Bench;

/// <summary>The part of <c>bench scale-data</c> that moves a large model through the artifact store: the model folder is
/// bundled (tar + zstd, <see cref="ArtifactBundle"/>), then (a) offered to the real <see cref="ArtifactStore"/> on a "coordinator" actor system and streamed to it
/// from a "worker" system over Akka.Remote on loopback in 64 KiB chunks, as a trainer uploads, the store hashing, writing and
/// committing it; and (b) the same file copied over a plain loopback TCP socket into a file with SHA-256 on the receiving side,
/// the bound the store could reach. Both are timed in the same run.</summary>
public static class StoreTransfer
{
    public static void Measure(string modelDir, string model, string mode, string root, int goalMb)
    {
        var bundle = Path.Combine(root, ArtifactBundle.FileName);
        var packing = Stopwatch.StartNew();
        var (sha, bytes) = ArtifactBundle.Create(modelDir, bundle);
        Console.WriteLine();
        Console.WriteLine($"artifact: {model}'s checkpoint folder ({ScaleDataBench.Megabytes(modelDir):F0} MB) bundled as a trainer does " +
                          $"(tar + zstd {ArtifactBundle.CompressionLevel}) in {packing.Elapsed.TotalSeconds:F1} s: {bytes / 1e6:F0} MB" +
                          (bytes < goalMb * 1e6 ? $" (under the {goalMb} MB the full-size run moves: a smaller run)" : ""));
        var store = ThroughStore(bundle, model, mode, sha, bytes, Path.Combine(root, "store")).GetAwaiter().GetResult();
        var raw = RawSocket(bundle, Path.Combine(root, "raw-copy.bin")).GetAwaiter().GetResult();
        Console.WriteLine($"through the artifact store (StreamRef, Akka.Remote on loopback, sha256 + commit): {store:F1} s = {bytes / 1e6 / store:F0} MB/s");
        Console.WriteLine($"raw loopback socket copy into a file with sha256:                          {raw:F1} s = {bytes / 1e6 / raw:F0} MB/s" +
                          $" (store/raw {raw / store:F2})");
        File.Delete(bundle);
        File.Delete(Path.Combine(root, "raw-copy.bin"));
    }

    private static async Task<double> ThroughStore(string bundle, string model, string mode, string sha, long bytes, string modelsDir)
    {
        const string Common = """
            akka.actor.provider = remote
            akka.loglevel = ERROR
            akka.remote.log-remote-lifecycle-events = off
            akka.remote.dot-netty.tcp.hostname = "127.0.0.1"
            akka.remote.dot-netty.tcp.port = 0
            """;
        var c = ActorSystem.Create("cis490", HoconLoader.Load(["coordinator.conf"], Common).WithFallback(ActorMaterializer.DefaultConfig()));
        var w = ActorSystem.Create("cis490", HoconLoader.Load(["worker.conf"], Common).WithFallback(ActorMaterializer.DefaultConfig()));
        try
        {
            if (Directory.Exists(modelsDir)) Directory.Delete(modelsDir, true);
            Directory.CreateDirectory(modelsDir);
            c.ActorOf(Props.Create(() => new StoreHost(modelsDir)), "store");
            var address = ((ExtendedActorSystem)c).Provider.DefaultAddress;
            var remoteStore = await w.ActorSelection($"{address}/user/store").ResolveOne(TimeSpan.FromSeconds(30));
            var done = new TaskCompletionSource<ArtifactProtocol.UploadCompleted>(TaskCreationOptions.RunContinuationsAsynchronously);
            var clock = Stopwatch.StartNew();
            var offer = new ArtifactProtocol.OfferUpload(
                Convert.ToHexStringLower(SHA256.HashData("bench scale-data"u8)), 1, model, mode, sha, bytes, new Dictionary<string, double>());
            w.ActorOf(Props.Create(() => new Uploader(remoteStore, offer, bundle, done)), "uploader");
            if (await Task.WhenAny(done.Task, Task.Delay(TimeSpan.FromMinutes(20))) != done.Task)
                throw new TimeoutException("the upload did not finish within 20 minutes");
            var completed = await done.Task;
            if (completed.Sha256 != sha) throw new InvalidOperationException($"the store kept {completed.Sha256}, sent {sha}");
            return clock.Elapsed.TotalSeconds;
        }
        finally
        {
            await Task.WhenAll(w.Terminate(), c.Terminate());
            if (Directory.Exists(modelsDir)) Directory.Delete(modelsDir, true);
        }
    }

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
        if (sha != Convert.ToHexStringLower(SHA256.HashData(File.OpenRead(bundle)))) throw new InvalidOperationException("the raw copy's sha256 differs");
        return seconds;
    }

    /// <summary>Hosts the real store as its child, as the JobCoordinator does, and completes the upload when the store says it is committed.</summary>
    private sealed class StoreHost : ReceiveActor
    {
        public StoreHost(string modelsDir)
        {
            var store = Context.ActorOf(ArtifactStore.Props(modelsDir, TimeSpan.FromMinutes(5)), "artifacts");
            Receive<ArtifactProtocol.OfferUpload>(o => store.Forward(o));
            Receive<ArtifactStore.Stored>(s => s.ReplyTo.Tell(new ArtifactProtocol.UploadCompleted(s.Offer.JobId, s.Offer.LeaseId, s.Offer.Sha256, s.Deduplicated)));
        }
    }

    /// <summary>The trainer's side: offers the bundle, streams it into the sink ref it is given, and waits for the completion.</summary>
    private sealed class Uploader : ReceiveActor
    {
        public Uploader(IActorRef store, ArtifactProtocol.OfferUpload offer, string bundle, TaskCompletionSource<ArtifactProtocol.UploadCompleted> done)
        {
            Receive<ArtifactProtocol.UploadReady>(r =>
                FileIO.FromFile(new FileInfo(bundle), ArtifactProtocol.MaxChunkBytes)
                    .Select(bs => bs.ToArray())
                    .RunWith(r.Sink.Sink, Context.Materializer()));
            Receive<ArtifactProtocol.UploadCompleted>(u => done.TrySetResult(u));
            Receive<ArtifactProtocol.UploadRefused>(u => done.TrySetException(new InvalidOperationException($"the store refused the upload: {u.Reason}")));
            store.Tell(offer, Self);
        }
    }
}
