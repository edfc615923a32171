using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;
using Cis490.Protocols.DataSets;
using Cis490.Shared.Artifacts;
using Cis490.Shared.DataSets;
using Cis490.WorkerNode.Data;
using Cis490.WorkerNode.Node;
using Xunit;
using Xunit.Abstractions;

namespace Cis490.WorkerNode.Tests;

/// <summary>A worker's data-set cache against a probe standing in for the coordinator, which serves a real bundle through real
/// source refs: a transfer that drops is resumed from the bytes on disk, one whose bytes are corrupted is refused and fetched
/// again from the start, and a data set once verified is served from the cache without another transfer.</summary>
public sealed class DataSetCacheTests : Akka.TestKit.Xunit2.TestKit, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cis490-cache-test-").FullName;

    public DataSetCacheTests(ITestOutputHelper output) : base(TestConfig.Worker(), "cache-test", output) { }

    /// <summary>A small data set, bundled: its folder's content hash, the bundle's bytes and their sha256.</summary>
    private (string Sha, byte[] Bundle, string BundleSha) MakeDataSet()
    {
        var set = Path.Combine(_dir, "set");
        Directory.CreateDirectory(Path.Combine(set, "tensors"));
        var random = new Random(490);
        foreach (var name in new[] { "features_window_v1.parquet", "feature_schema_v1.json", "tensors/h1.npz" })
        {
            var bytes = new byte[200_000];
            random.NextBytes(bytes); // incompressible: the bundle spans several chunks
            File.WriteAllBytes(Path.Combine(set, name), bytes);
        }
        var bundle = Path.Combine(_dir, "bundle.tar.zst");
        var (bundleSha, _) = ArtifactBundle.Create(set, bundle, DataSetContent.Included);
        return (DataSetContent.Hash(set), File.ReadAllBytes(bundle), bundleSha);
    }

    private async Task<ISourceRef<byte[]>> Serve(byte[] bytes, bool failAtEnd = false)
    {
        var chunks = bytes.Chunk(64 * 1024).ToList();
        var source = Source.From(chunks);
        // The drop comes a moment after the last chunk, as a connection reset would: a failure at once would overtake the chunks
        // still on their way, and the transfer would have nothing to resume from.
        if (failAtEnd)
            source = source.Concat(Source.Single(0).Delay(TimeSpan.FromMilliseconds(500)).Select(Reset));
        return await source.RunWith(StreamRefs.SourceRef<byte[]>(), Sys.Materializer());
    }

    private static byte[] Reset(int _) => throw new IOException("connection reset (the test drops it)");

    [Fact]
    public async Task A_dropped_transfer_resumes_from_its_offset_a_corrupted_one_is_refused_and_fetched_again_and_a_verified_one_is_cached()
    {
        var (sha, bundle, bundleSha) = MakeDataSet();
        var coordinator = CreateTestProbe("coordinator");
        var trainer = CreateTestProbe("trainer");
        var settings = new DataCacheSettings(10L << 20, 5, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(10));
        var cache = Sys.ActorOf(DataSetCache.Props(Path.Combine(_dir, "cache"), null, settings, coordinator.Ref), "data-sets");
        const string job = "job";

        cache.Tell(new DataSetCache.Ensure(sha, job, 7), trainer.Ref);

        // 1. The first transfer drops after its first half.
        var first = await coordinator.ExpectMsgAsync<DataSetProtocol.Fetch>(TestConfig.Wait);
        Assert.Equal((job, 7L, sha, 0L), (first.JobId, first.LeaseId, first.Sha256, first.Offset));
        var half = bundle.Length / 2;
        coordinator.Reply(new DataSetProtocol.FetchReady(job, 7, sha, bundleSha, bundle.Length, 0, await Serve(bundle[..half], failAtEnd: true)));

        // 2. It is resumed from the bytes on disk (what reached the disk before the failure overtook the chunks still on their
        // way); this time one byte arrives flipped.
        var resumed = await coordinator.ExpectMsgAsync<DataSetProtocol.Fetch>(TestConfig.Wait);
        Assert.InRange(resumed.Offset, 1, half);
        Assert.Equal(resumed.Offset, new FileInfo(Path.Combine(_dir, "cache", ".incoming", sha + ".part")).Length);
        var corrupted = bundle[(int)resumed.Offset..].ToArray();
        corrupted[corrupted.Length / 3] ^= 0x01;
        coordinator.Reply(new DataSetProtocol.FetchReady(job, 7, sha, bundleSha, bundle.Length, resumed.Offset, await Serve(corrupted)));

        // 3. Refused (the whole bundle's hash does not match): fetched again from the beginning, and this time right.
        var again = await coordinator.ExpectMsgAsync<DataSetProtocol.Fetch>(TestConfig.Wait);
        Assert.Equal(0, again.Offset);
        trainer.ExpectNoMsg(TimeSpan.FromMilliseconds(100)); // the trainer was never given the bad bytes
        coordinator.Reply(new DataSetProtocol.FetchReady(job, 7, sha, bundleSha, bundle.Length, 0, await Serve(bundle)));

        var ready = await trainer.ExpectMsgAsync<DataSetCache.Ready>(TestConfig.Wait);
        Assert.Equal(sha, DataSetContent.Hash(ready.Dir));
        Assert.Equal(sha, DataSetContent.ReadMarker(ready.Dir)!.Sha256);
        Assert.False(File.Exists(Path.Combine(_dir, "cache", ".incoming", sha + ".part")));

        // 4. The next lease that needs it gets it from the cache, with no transfer.
        cache.Tell(new DataSetCache.Ensure(sha, "job2", 8), trainer.Ref);
        Assert.Equal(ready.Dir, (await trainer.ExpectMsgAsync<DataSetCache.Ready>(TestConfig.Wait)).Dir);
        coordinator.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public async Task A_lease_that_is_gone_gets_no_data_set_and_every_transfer_failing_fails_the_waiting_leases_loudly()
    {
        var (sha, bundle, bundleSha) = MakeDataSet();
        var coordinator = CreateTestProbe("coordinator");
        var trainer = CreateTestProbe("trainer");
        var settings = new DataCacheSettings(10L << 20, 2, TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(10));
        var cache = Sys.ActorOf(DataSetCache.Props(Path.Combine(_dir, "cache"), null, settings, coordinator.Ref), "data-sets");

        cache.Tell(new DataSetCache.Ensure(sha, "gone", 3), trainer.Ref);
        await coordinator.ExpectMsgAsync<DataSetProtocol.Fetch>(TestConfig.Wait);
        coordinator.Reply(new DataSetProtocol.FetchRefused("gone", 3, sha, "stale lease 3", Protocols.ErrorKind.StaleLease));
        Assert.Contains("stale lease", (await trainer.ExpectMsgAsync<DataSetCache.Unavailable>(TestConfig.Wait)).Reason);

        cache.Tell(new DataSetCache.Ensure(sha, "job", 4), trainer.Ref);
        for (var i = 0; i < 2; i++)
        {
            var f = await coordinator.ExpectMsgAsync<DataSetProtocol.Fetch>(TestConfig.Wait);
            var wrong = bundle.ToArray();
            wrong[10] ^= 0xff;
            coordinator.Reply(new DataSetProtocol.FetchReady("job", 4, sha, bundleSha, bundle.Length, f.Offset, await Serve(wrong[(int)f.Offset..])));
        }
        var failed = await trainer.ExpectMsgAsync<DataSetCache.Unavailable>(TestConfig.Wait);
        Assert.Contains("2 transfer(s), the last refused: hash mismatch", failed.Reason);
    }

    [Fact]
    public void Past_the_cache_size_the_least_recently_used_data_sets_no_lease_uses_are_evicted()
    {
        var t = new DateTime(2026, 12, 5, 10, 0, 0, DateTimeKind.Utc);
        CacheEntry[] entries =
        [
            new("old-in-use", 40, t, InUse: true),
            new("old", 40, t.AddMinutes(1), InUse: false),
            new("middle", 40, t.AddMinutes(2), InUse: false),
            new("new", 40, t.AddMinutes(3), InUse: false),
        ];

        Assert.Equal(["old", "middle"], DataSetCachePolicy.ToEvict(entries, 80).Select(e => e.Sha256));
        Assert.Empty(DataSetCachePolicy.ToEvict(entries, 160));
        Assert.Equal(["old", "middle", "new"], DataSetCachePolicy.ToEvict(entries, 0).Select(e => e.Sha256)); // never one in use
    }

    protected override void AfterAll()
    {
        base.AfterAll();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }
}
