using System.Security.Cryptography;
using Akka;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.Streams.Stage;
using Akka.Util;
using Cis490.Protocols.Artifacts;

namespace Cis490.Shared.Artifacts;

/// <summary>What a finished <see cref="BundleStreams.ToFile"/> wrote: its bytes and their sha256 (lowercase hex).</summary>
public sealed record WrittenBundle(long Bytes, string Sha256);

/// <summary>The two ends of every bundle transfer (artifact uploads and downloads, data-set publications and pulls): a file read
/// into <c>byte[]</c> chunks for a stream ref, and chunks written to a file while they are hashed. One place, so that the chunk
/// size, the copies per chunk and the file options are chosen once (measured in <c>bench scale-data</c>).</summary>
public static class BundleStreams
{
    /// <summary>File buffer of the writing end: one default chunk, so a write goes straight to the OS without a second copy
    /// through the FileStream's own buffer (a write at least as large as the buffer bypasses it).</summary>
    private const int FileBuffer = ArtifactProtocol.MaxChunkBytes;

    /// <summary>The HOCON key of the chunk size (base.conf says why it has its value).</summary>
    public const string ChunkSizeKey = "cis490.transfer.chunk-size";

    /// <summary>Room an Akka.Remote frame needs beside a chunk: the stream-ref envelope (sequence number, serializer id, manifest,
    /// the recipient's path). A few hundred bytes measured; 4 KiB leaves a margin for long actor paths.</summary>
    public const int EnvelopeBytes = 4 * 1024;

    /// <summary>The chunk size of <paramref name="config"/> (<see cref="ChunkSizeKey"/>, else <see cref="ArtifactProtocol.MaxChunkBytes"/>),
    /// checked against the Akka.Remote frame it must fit with its envelope: a chunk too large for the frame would be dropped by the
    /// transport (OversizedPayloadException) and the transfer would stall until its idle timeout, so it is refused at once.</summary>
    public static int ChunkBytes(Akka.Configuration.Config config)
    {
        var chunk = config.HasPath(ChunkSizeKey) ? config.GetByteSize(ChunkSizeKey) ?? ArtifactProtocol.MaxChunkBytes : ArtifactProtocol.MaxChunkBytes;
        var frame = config.GetByteSize("akka.remote.dot-netty.tcp.maximum-frame-size") ?? 128000;
        if (chunk < 1024 || chunk + EnvelopeBytes > frame)
            throw new InvalidOperationException($"{ChunkSizeKey} = {chunk} bytes: a chunk must be at least 1 KiB and, with {EnvelopeBytes} bytes of envelope, " +
                                                $"fit akka.remote.dot-netty.tcp.maximum-frame-size ({frame} bytes); raise the frame or lower the chunk");
        return (int)chunk;
    }

    /// <summary>The file's bytes from <paramref name="offset"/> on, in chunks of <see cref="ChunkBytes"/> of <paramref name="config"/>
    /// (the last one shorter), each read straight into the array that goes on the wire: Akka's <c>FileIO.FromFile</c> reads into a
    /// ByteString that must then be copied into a byte[] (the type bound to the byte-array serializer). Reads run on the
    /// blocking-I/O dispatcher, as FileIO's do.</summary>
    public static Source<byte[], NotUsed> FromFile(string path, Akka.Configuration.Config config, long offset = 0)
    {
        var chunkBytes = ChunkBytes(config);
        if (offset < 0) throw new ArgumentOutOfRangeException(nameof(offset), offset, $"a transfer of {path} cannot start before byte 0");
        return Source.UnfoldResourceAsync<byte[], FileStream>(
                () =>
                {
                    var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, chunkBytes, FileOptions.Asynchronous | FileOptions.SequentialScan);
                    file.Position = offset;
                    return Task.FromResult(file);
                },
                async file =>
                {
                    var chunk = new byte[(int)Math.Min(chunkBytes, Math.Max(0, file.Length - file.Position))];
                    if (chunk.Length == 0) return Option<byte[]>.None;
                    await file.ReadExactlyAsync(chunk);
                    return Option<byte[]>.Create(chunk);
                },
                async file =>
                {
                    await file.DisposeAsync();
                    return Done.Instance;
                })
            .WithAttributes(ActorAttributes.CreateDispatcher("akka.stream.default-blocking-io-dispatcher"));
    }

    /// <summary>Writes the chunks to <paramref name="path"/> (created, or appended to from <paramref name="offset"/> when a dropped
    /// transfer resumes) and hashes them on the way, failing as soon as more than <paramref name="maxBytes"/> arrive. The hash
    /// covers the file from byte 0: on a resume the bytes already there are hashed first. Materialises what was written once the
    /// file is flushed and closed; a failed or cancelled stream fails it (the partial file stays, for the caller to resume or delete).</summary>
    public static Sink<byte[], Task<WrittenBundle>> ToFile(string path, long maxBytes, long offset = 0) =>
        Sink.FromGraph(new HashingFileSink(path, maxBytes, offset))
            .WithAttributes(ActorAttributes.CreateDispatcher("akka.stream.default-blocking-io-dispatcher"));

    /// <summary>One stage that owns the file and the hash: pulls a chunk, hashes it, writes it (a 64 KiB write lands in the page
    /// cache in microseconds, so the blocking-I/O dispatcher's thread is never held long), pulls the next.</summary>
    private sealed class HashingFileSink(string path, long maxBytes, long offset) : GraphStageWithMaterializedValue<SinkShape<byte[]>, Task<WrittenBundle>>
    {
        private readonly Inlet<byte[]> _in = new("HashingFileSink.in");
        private string Path { get; } = path;
        private long MaxBytes { get; } = maxBytes;
        private long Offset { get; } = offset;
        public override SinkShape<byte[]> Shape => new(_in);

        public override ILogicAndMaterializedValue<Task<WrittenBundle>> CreateLogicAndMaterializedValue(Attributes inheritedAttributes)
        {
            var done = new TaskCompletionSource<WrittenBundle>(TaskCreationOptions.RunContinuationsAsynchronously);
            return new LogicAndMaterializedValue<Task<WrittenBundle>>(new Logic(this, done), done.Task);
        }

        private sealed class Logic : InGraphStageLogic
        {
            private readonly HashingFileSink _stage;
            private readonly TaskCompletionSource<WrittenBundle> _done;
            private FileStream? _file;
            private IncrementalHash? _hash;
            private long _bytes;

            public Logic(HashingFileSink stage, TaskCompletionSource<WrittenBundle> done) : base(stage.Shape)
            {
                _stage = stage;
                _done = done;
                SetHandler(stage._in, this);
            }

            public override void PreStart()
            {
                try
                {
                    _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                    _file = new FileStream(_stage.Path, _stage.Offset > 0 ? FileMode.OpenOrCreate : FileMode.Create, FileAccess.ReadWrite, FileShare.Read,
                        FileBuffer, FileOptions.SequentialScan);
                    if (_file.Length < _stage.Offset)
                        throw new IOException($"{_stage.Path} holds {_file.Length} bytes; a transfer cannot resume at byte {_stage.Offset}");
                    if (_stage.Offset > 0) HashPrefix(_file, _stage.Offset, _hash);
                    _file.SetLength(_stage.Offset); // anything past the offset (a torn last write) is rewritten
                    _file.Position = _stage.Offset;
                    _bytes = _stage.Offset;
                    Pull(_stage._in);
                }
                catch (Exception e)
                {
                    Fail(e);
                }
            }

            public override void OnPush()
            {
                var chunk = Grab(_stage._in);
                _bytes += chunk.Length;
                if (_bytes > _stage.MaxBytes)
                {
                    Fail(new InvalidDataException($"more bytes than the {_stage.MaxBytes} announced"));
                    return;
                }
                _hash!.AppendData(chunk);
                _file!.Write(chunk);
                Pull(_stage._in);
            }

            public override void OnUpstreamFinish()
            {
                try
                {
                    _file!.Flush();
                    _file.Dispose();
                    _file = null;
                    _done.TrySetResult(new WrittenBundle(_bytes, Convert.ToHexStringLower(_hash!.GetHashAndReset())));
                    CompleteStage();
                }
                catch (Exception e)
                {
                    Fail(e);
                }
            }

            public override void OnUpstreamFailure(Exception e) => Fail(e);

            public override void PostStop()
            {
                if (_file is not null)
                {
                    try { _file.Flush(); } catch (IOException) { } // keep what arrived: a resumed transfer appends to it
                    _file.Dispose();
                }
                _hash?.Dispose();
                _done.TrySetException(new AbruptStageTerminationException(this));
            }

            private void Fail(Exception e)
            {
                _done.TrySetException(e);
                FailStage(e);
            }

            private static void HashPrefix(FileStream file, long length, IncrementalHash hash)
            {
                var buffer = new byte[1 << 20];
                file.Position = 0;
                for (long left = length; left > 0;)
                {
                    var n = file.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
                    if (n == 0) throw new EndOfStreamException($"{file.Name} ended before byte {length}");
                    hash.AppendData(buffer, 0, n);
                    left -= n;
                }
            }
        }
    }
}
