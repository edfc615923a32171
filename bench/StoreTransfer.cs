using System.Diagnostics;
using System.Security.Cryptography;
using Akka.Actor;
using Akka.Configuration;
using Akka.Streams;
using Cis490.Protocols.Artifacts;
using Cis490.Protocols.DataSets;
using Cis490.Shared.Artifacts;
using Cis490.Shared.Config;
using Cis490.Shared.DataSets;
using Cis490.Shell.DataSets;
using Cis490.WorkerNode.Data;
using Cis490.WorkerNode.Node;

namespace Cis490.Bench;

/// <summary>The part of <c>bench scale-data</c> that moves the big things through the fleet's real transfer paths, between a
/// "coordinator" and a "worker" actor system joined by Akka.Remote on loopback (the HOCON of <c>coordinator.conf</c> and
/// <c>worker.conf</c>):
/// <list type="number">
/// <item>the built data set (features, schema, tensor shards; GBs at full size), as <c>data publish</c> sends it: content hash,
/// bundle (tar + zstd), the shell's <see cref="BundlePublisher"/> streaming it into the coordinator's real
/// <see cref="Coordinator.DataSets.DataSetStore"/> (size and bundle sha256 checked as it is written, unpacked and content-hashed
/// before it is kept);</item>
/// <item>the same data set pulled by a worker's real <see cref="DataSetCache"/> (sha256 while writing, unpacked, content-hashed,
/// installed), as a lease whose worker lacks it does;</item>
/// <item>the largest model folder, bundled and offered to the real <see cref="Coordinator.Artifacts.ArtifactStore"/> and streamed as
/// a trainer uploads it;</item>
/// </list>
/// each beside a raw loopback TCP copy of the same bundle into a file with SHA-256, timed in the same run. The only stand-in is the
/// JobCoordinator's routing (<see cref="CoordinatorHost"/>): no journal, no lease check; the stores and the cache are the real actors.</summary>
public static partial class StoreTransfer
{
    public static void Measure(string dataDir, string? modelDir, string mode, string root)
    {
        var work = Path.Combine(root, "transfer");
        if (Directory.Exists(work)) Directory.Delete(work, true);
        Directory.CreateDirectory(work);
        try
        {
            Run(dataDir, modelDir, mode, work).GetAwaiter().GetResult();
        }
        finally
        {
            Directory.Delete(work, true);
        }
    }

    private static async Task Run(string dataDir, string? modelDir, string mode, string work)
    {
        const string Common = """
            akka.actor.provider = remote
            akka.loglevel = INFO
            akka.stdout-loglevel = ERROR
            akka.loggers = ["Cis490.Bench.StoreTransfer+TransferLog, Cis490.Bench"]
            akka.remote.log-remote-lifecycle-events = off
            akka.remote.dot-netty.tcp.hostname = "127.0.0.1"
            akka.remote.dot-netty.tcp.port = 0
            """;
        var c = ActorSystem.Create("cis490", HoconLoader.Load(["coordinator.conf"], Common).WithFallback(ActorMaterializer.DefaultConfig()));
        var w = ActorSystem.Create("cis490", HoconLoader.Load(["worker.conf"], Common).WithFallback(ActorMaterializer.DefaultConfig()));
        try
        {
            var idle = c.Settings.Config.GetTimeSpan("cis490.coordinator.upload-timeout");
            c.ActorOf(Props.Create(() => new CoordinatorHost(Path.Combine(work, "coordinator"), idle)), "coordinator");
            var address = ((ExtendedActorSystem)c).Provider.DefaultAddress;
            var coordinator = await w.ActorSelection($"{address}/user/coordinator").ResolveOne(TimeSpan.FromSeconds(30));
            Console.WriteLine($"transfers over Akka.Remote on loopback; chunks of {BundleStreams.ChunkBytes(c.Settings.Config)} B, stream-ref buffer " +
                              $"{c.Settings.Config.GetInt("akka.stream.materializer.stream-ref.buffer-capacity")} chunks, frame " +
                              $"{c.Settings.Config.GetByteSize("akka.remote.dot-netty.tcp.maximum-frame-size")} B");

            var checkpoint = modelDir is null ? null : Bundle(modelDir, work);
            if (checkpoint is { } warm) await WarmUp(warm, mode, w, coordinator);
            await DataSet(dataDir, work, w, coordinator);
            if (checkpoint is { } c2) await Checkpoint(c2, mode, work, w, coordinator);
            else Console.WriteLine("checkpoint: no model folder under models/ (train one first, or run without --transfer-only)");
        }
        finally
        {
            await Task.WhenAll(w.Terminate(), c.Terminate());
        }
    }

    private static async Task DataSet(string dataDir, string work, ActorSystem w, IActorRef coordinator)
    {
        // 1. Publish, as the shell does it: hash the folder, pack it, stream it to the coordinator's store.
        var clock = Stopwatch.StartNew();
        var summary = DataSetContent.Describe(dataDir);
        var hashing = clock.Elapsed.TotalSeconds;
        var bundle = Path.Combine(work, "data-set.tar.zst");
        clock.Restart();
        var (bundleSha, bundleBytes) = ArtifactBundle.Create(dataDir, bundle, DataSetContent.Included);
        var packing = clock.Elapsed.TotalSeconds;
        Console.WriteLine();
        Console.WriteLine($"data set {summary.Sha256[..12]}: {summary.Files} files, {summary.Bytes / 1e6:F0} MB; content hash in {hashing:F1} s " +
                          $"({summary.Bytes / 1e6 / hashing:F0} MB/s); packed (tar + zstd {ArtifactBundle.CompressionLevel}) in {packing:F1} s " +
                          $"({summary.Bytes / 1e6 / packing:F0} MB/s) to {bundleBytes / 1e6:F0} MB");
        var done = new TaskCompletionSource<object>(TaskCreationOptions.RunContinuationsAsynchronously);
        clock.Restart();
        var cpu = Cpu();
        var publisher = w.ActorOf(BundlePublisher.Props(done, bundle, w.Materializer()), "publish");
        coordinator.Tell(new DataSetProtocol.Publish(summary.Sha256, "bench", bundleSha, bundleBytes, summary.Files, summary.Bytes), publisher);
        var reply = await Within(done.Task, "the publication");
        var (publish, publishCpu) = (clock.Elapsed.TotalSeconds, Cpu() - cpu);
        if (reply is not DataSetProtocol.Published { AlreadyStored: false }) throw new InvalidOperationException($"the publication failed: {reply}");
        Console.WriteLine($"  publish  (operator -> coordinator store, verified, kept):      {publish,6:F1} s = {bundleBytes / 1e6 / publish,5:F0} MB/s end to end; {Per(publishCpu, bundleBytes)}");

        // 2. Pull, as a worker's cache does it for a lease whose data set it lacks.
        var cache = w.ActorOf(DataSetCache.Props(Path.Combine(work, "worker-cache"), null,
            DataCacheSettings.From(w.Settings.Config.GetConfig("cis490.worker")), coordinator), "data-set-cache");
        var pulled = new TaskCompletionSource<object>(TaskCreationOptions.RunContinuationsAsynchronously);
        clock.Restart();
        cpu = Cpu();
        w.ActorOf(Props.Create(() => new Puller(cache, summary.Sha256, pulled)), "trainer");
        var answer = await Within(pulled.Task, "the pull");
        var (pull, pullCpu) = (clock.Elapsed.TotalSeconds, Cpu() - cpu);
        if (answer is not DataSetCache.Ready ready) throw new InvalidOperationException($"the pull failed: {answer}");
        if (DataSetContent.Hash(ready.Dir) != summary.Sha256) throw new InvalidOperationException($"{ready.Dir} does not hash to {summary.Sha256}");
        Console.WriteLine($"  pull     (coordinator store -> worker cache, verified, unpacked): {pull,6:F1} s = {bundleBytes / 1e6 / pull,5:F0} MB/s end to end; {Per(pullCpu, bundleBytes)}");
        await cache.GracefulStop(TimeSpan.FromSeconds(10));

        cpu = Cpu();
        var raw = await RawSocket(bundle, Path.Combine(work, "raw-copy.bin"));
        Console.WriteLine($"  raw loopback socket copy of the same bundle into a file with sha256: {raw,6:F1} s = {bundleBytes / 1e6 / raw,5:F0} MB/s; " +
                          Per(Cpu() - cpu, bundleBytes));
        File.Delete(bundle);
    }

    private sealed record Packed(string ModelDir, string Path, string Sha256, long Bytes, double Seconds);

    private static Packed Bundle(string modelDir, string work)
    {
        var bundle = Path.Combine(work, ArtifactBundle.FileName);
        var clock = Stopwatch.StartNew();
        var (sha, bytes) = ArtifactBundle.Create(modelDir, bundle);
        return new Packed(modelDir, bundle, sha, bytes, clock.Elapsed.TotalSeconds);
    }

    /// <summary>One untimed upload of the checkpoint to a store of its own first: a node that has run a while has its transfer path
    /// compiled by the JIT's optimising tier; this process is fresh, and without it the first transfer would time tier-0 code.</summary>
    private static async Task WarmUp(Packed p, string mode, ActorSystem w, IActorRef coordinator)
    {
        var done = new TaskCompletionSource<object>(TaskCreationOptions.RunContinuationsAsynchronously);
        var offer = new ArtifactProtocol.OfferUpload(WarmUpJob, 1, Path.GetFileName(p.ModelDir), mode, p.Sha256, p.Bytes, new Dictionary<string, double>());
        var clock = Stopwatch.StartNew();
        w.ActorOf(Props.Create(() => new Uploader(coordinator, offer, p.Path, done)), "warm-up");
        if (await Within(done.Task, "the warm-up upload") is not ArtifactProtocol.UploadCompleted)
            throw new InvalidOperationException("the warm-up upload failed");
        Console.WriteLine($"warm-up: the checkpoint's bundle once through a separate artifact store, untimed ({clock.Elapsed.TotalSeconds:F1} s)");
    }

    private static async Task Checkpoint(Packed p, string mode, string work, ActorSystem w, IActorRef coordinator)
    {
        var (modelDir, bundle, sha, bytes) = (p.ModelDir, p.Path, p.Sha256, p.Bytes);
        var model = Path.GetFileName(modelDir);
        Console.WriteLine();
        Console.WriteLine($"checkpoint: {model}'s model folder ({ScaleDataBench.Megabytes(modelDir):F1} MB), the largest of this run, bundled as a trainer does " +
                          $"in {p.Seconds:F1} s: {bytes / 1e6:F1} MB");
        var clock = new Stopwatch();
        var done = new TaskCompletionSource<object>(TaskCreationOptions.RunContinuationsAsynchronously);
        var offer = new ArtifactProtocol.OfferUpload(Convert.ToHexStringLower(SHA256.HashData("bench scale-data"u8)), 1, model, mode, sha, bytes,
            new Dictionary<string, double>());
        clock.Restart();
        var cpu = Cpu();
        w.ActorOf(Props.Create(() => new Uploader(coordinator, offer, bundle, done)), "uploader");
        var reply = await Within(done.Task, "the upload");
        var (store, storeCpu) = (clock.Elapsed.TotalSeconds, Cpu() - cpu);
        if (reply is not ArtifactProtocol.UploadCompleted { Sha256: var kept, Deduplicated: false } || kept != sha) throw new InvalidOperationException($"the upload failed: {reply}");
        Console.WriteLine($"  upload   (trainer -> artifact store, sha256, committed):          {store,6:F2} s = {bytes / 1e6 / store,5:F0} MB/s end to end; {Per(storeCpu, bytes)}");
        cpu = Cpu();
        var raw = await RawSocket(bundle, Path.Combine(work, "raw-copy.bin"));
        Console.WriteLine($"  raw loopback socket copy of the same bundle into a file with sha256: {raw,6:F2} s = {bytes / 1e6 / raw,5:F0} MB/s; " +
                          Per(Cpu() - cpu, bytes));
    }

    /// <summary>CPU time of this process (both actor systems, or both ends of the raw copy): what a transfer costs whatever the
    /// machine's load, where wall time on a shared 2-core machine mostly says how much of it the others took.</summary>
    private static TimeSpan Cpu()
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime;
    }

    private static string Per(TimeSpan cpu, long bytes) => $"CPU {cpu.TotalSeconds:F1} s = {cpu.TotalSeconds / (bytes / 1e9):F1} CPU-s/GB";

    private static async Task<object> Within(Task<object> task, string what)
    {
        if (await Task.WhenAny(task, Task.Delay(TimeSpan.FromMinutes(30))) != task) throw new TimeoutException($"{what} did not finish within 30 minutes");
        return await task;
    }
}
