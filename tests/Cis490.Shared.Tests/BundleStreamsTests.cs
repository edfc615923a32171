using System.Security.Cryptography;
using Akka.Streams;
using Akka.Streams.Dsl;
using Cis490.Protocols.Artifacts;
using Cis490.Shared.Artifacts;

namespace Cis490.Shared.Tests;

/// <summary>The two ends of every bundle transfer: a file read into chunks (from an offset), and chunks written to a file and hashed
/// as they arrive, resuming after the bytes already there, refusing more bytes than announced.</summary>
public sealed class BundleStreamsTests : Akka.TestKit.Xunit2.TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private static byte[] Bytes(int n)
    {
        var bytes = new byte[n];
        new Random(490).NextBytes(bytes);
        return bytes;
    }

    [Fact]
    public async Task A_file_is_read_in_chunks_no_larger_than_the_protocol_allows_from_the_offset_asked_for()
    {
        using var dir = new TempDir();
        var bytes = Bytes(3 * ArtifactProtocol.MaxChunkBytes + 1234);
        var path = dir.Combine("bundle");
        File.WriteAllBytes(path, bytes);

        var whole = await BundleStreams.FromFile(path, Sys.Settings.Config).RunWith(Sink.Seq<byte[]>(), Sys.Materializer()).WaitAsync(Wait);
        Assert.Equal([ArtifactProtocol.MaxChunkBytes, ArtifactProtocol.MaxChunkBytes, ArtifactProtocol.MaxChunkBytes, 1234], whole.Select(c => c.Length));
        Assert.Equal(bytes, whole.SelectMany(c => c));

        var tail = await BundleStreams.FromFile(path, Sys.Settings.Config, 100_000).RunWith(Sink.Seq<byte[]>(), Sys.Materializer()).WaitAsync(Wait);
        Assert.Equal(bytes[100_000..], tail.SelectMany(c => c));
        Assert.Empty(await BundleStreams.FromFile(path, Sys.Settings.Config, bytes.Length).RunWith(Sink.Seq<byte[]>(), Sys.Materializer()).WaitAsync(Wait));
    }

    [Fact]
    public async Task Chunks_are_written_and_hashed_and_a_resumed_transfer_hashes_the_whole_file()
    {
        using var dir = new TempDir();
        var bytes = Bytes(200_000);
        var path = dir.Combine("part");

        var first = await Source.From(Chunks(bytes[..70_000])).RunWith(BundleStreams.ToFile(path, bytes.Length), Sys.Materializer()).WaitAsync(Wait);
        Assert.Equal((70_000L, Convert.ToHexStringLower(SHA256.HashData(bytes[..70_000]))), (first.Bytes, first.Sha256));

        // A torn last write past the offset is cut off, the rest appended, and the hash covers bytes 0 to the end.
        await File.AppendAllTextAsync(path, "torn");
        var resumed = await Source.From(Chunks(bytes[70_000..])).RunWith(BundleStreams.ToFile(path, bytes.Length, 70_000), Sys.Materializer()).WaitAsync(Wait);
        Assert.Equal((200_000L, Convert.ToHexStringLower(SHA256.HashData(bytes))), (resumed.Bytes, resumed.Sha256));
        Assert.Equal(bytes, await File.ReadAllBytesAsync(path));
    }

    [Fact]
    public async Task More_bytes_than_announced_fail_the_transfer_and_a_resume_past_the_file_is_refused()
    {
        using var dir = new TempDir();
        var path = dir.Combine("part");
        var tooMany = await Assert.ThrowsAsync<InvalidDataException>(() =>
            Source.From(Chunks(Bytes(100_000))).RunWith(BundleStreams.ToFile(path, 99_999), Sys.Materializer()).WaitAsync(Wait));
        Assert.Contains("more bytes than the 99999 announced", tooMany.Message);

        var pastEnd = await Assert.ThrowsAsync<IOException>(() =>
            Source.From(Chunks(Bytes(10))).RunWith(BundleStreams.ToFile(path, 1_000_000, 500_000), Sys.Materializer()).WaitAsync(Wait));
        Assert.Contains("cannot resume at byte 500000", pastEnd.Message);
    }

    [Fact]
    public void A_chunk_size_that_cannot_fit_the_remote_frame_with_its_envelope_is_refused_naming_both_settings()
    {
        var config = Akka.Configuration.ConfigurationFactory.ParseString("""
            cis490.transfer.chunk-size = 126000b
            akka.remote.dot-netty.tcp.maximum-frame-size = 128000b
            """);
        var e = Assert.Throws<InvalidOperationException>(() => BundleStreams.ChunkBytes(config));
        Assert.Contains("cis490.transfer.chunk-size = 126000 bytes", e.Message);
        Assert.Contains("maximum-frame-size (128000 bytes)", e.Message);
        Assert.Equal(ArtifactProtocol.MaxChunkBytes, BundleStreams.ChunkBytes(Akka.Configuration.Config.Empty));
    }

    private static IEnumerable<byte[]> Chunks(byte[] bytes) => bytes.Chunk(ArtifactProtocol.MaxChunkBytes);
}
