using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using Akka.Streams;
using Akka.Streams.Dsl;
using Cis490.Coordinator.Artifacts;
using Cis490.Coordinator.Jobs;
using Cis490.Protocols;
using Cis490.Protocols.Artifacts;
using Cis490.Protocols.DataSets;
using Cis490.Shared.Artifacts;
using Cis490.Shared.DataSets;

namespace Cis490.Coordinator.DataSets;

/// <summary>The coordinator's data sets on disk, content-addressed beside the models: receives a publication's bundle over a sink
/// ref (size, bundle sha256 and the unpacked content hash all checked before anything is kept), and serves a stored bundle to a
/// worker over a source ref from the offset it asks for, so a dropped transfer resumes rather than starting again.</summary>
/// <remarks>Tells its parent (the JobCoordinator) of a publication only once its bytes are safely stored; the parent records it.</remarks>
public sealed class DataSetStore : ReceiveActor
{
    /// <summary>To the parent: the publication's bytes are stored; record it and answer <see cref="ReplyTo"/>.</summary>
    public sealed record Stored(DataSetInfo DataSet, IActorRef ReplyTo) : INoSerializationVerificationNeeded;

    private sealed record UploadDone(DataSetProtocol.Publish Publish, string TempPath, IActorRef ReplyTo, string? BundleSha256, long Bytes, string? Error,
        Stopwatch Clock, TimeSpan Streamed) : INoSerializationVerificationNeeded;

    private sealed record Checked(DataSetProtocol.Publish Publish, string TempPath, IActorRef ReplyTo, string? Error, Stopwatch? Clock = null,
        TimeSpan Streamed = default) : INoSerializationVerificationNeeded;

    /// <summary>Test-only fault points (<see cref="FaultInjection"/>): the first transfer served has one byte flipped (a corruption on
    /// the way, which the worker's hash check must catch); the first transfer after that stops half-way (a dropped transfer,
    /// which the worker resumes from its offset).</summary>
    public const string CorruptOnceFault = "data-set-corrupt-once";
    public const string DropOnceFault = "data-set-drop-once";

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly DataSetRepository _repo;
    private readonly TimeSpan _idleTimeout;
    private readonly IMaterializer _materializer;
    private readonly HashSet<string> _inFlight = new(StringComparer.Ordinal);
    private bool _corruptPending = FaultInjection.Is(CorruptOnceFault);
    private bool _dropPending = FaultInjection.Is(DropOnceFault);

    public DataSetStore(string root, TimeSpan idleTimeout)
    {
        _repo = new DataSetRepository(root);
        BundleStreams.ChunkBytes(Context.System.Settings.Config); // a chunk size that cannot fit a frame fails the node's start, not a transfer
        _idleTimeout = idleTimeout;
        _materializer = Context.Materializer();
        Receive<DataSetProtocol.Publish>(StartUpload);
        Receive<UploadDone>(Verify);
        Receive<Checked>(Commit);
        Receive<CoordinatorCommands.ServeDataSet>(Serve);
    }

    public static Props Props(string root, TimeSpan idleTimeout) => Akka.Actor.Props.Create(() => new DataSetStore(root, idleTimeout));

    private void StartUpload(DataSetProtocol.Publish m)
    {
        var replyTo = Sender;
        if (!_inFlight.Add(m.Sha256))
        {
            replyTo.Tell(new DataSetProtocol.PublishRefused(m.Sha256, "a publication of this data set is already in progress", ErrorKind.Conflict));
            return;
        }
        var temp = _repo.NewIncomingPath(m.Sha256);
        // Hashed as it is written (BundleStreams.ToFile), in the stream's one sink stage: nothing to read back at the end.
        var (sinkRef, written) = StreamRefs.SinkRef<byte[]>()
            .IdleTimeout(_idleTimeout)
            .ToMaterialized(BundleStreams.ToFile(temp, m.BundleBytes), Keep.Both)
            .Run(_materializer);
        sinkRef.PipeTo(replyTo,
            success: r => new DataSetProtocol.PublishReady(m.Sha256, r),
            failure: e => new DataSetProtocol.PublishRefused(m.Sha256, $"could not open an upload: {e.Message}", ErrorKind.Unavailable));
        var clock = Stopwatch.StartNew();
        written.ContinueWith(t => t.IsCompletedSuccessfully
            ? new UploadDone(m, temp, replyTo, t.Result.Sha256, t.Result.Bytes, null, clock, clock.Elapsed)
            : new UploadDone(m, temp, replyTo, null, 0, t.IsCanceled ? "upload cancelled" : t.Exception!.GetBaseException().Message, clock, clock.Elapsed))
            .PipeTo(Self);
    }

    /// <summary>The bytes arrived: their size and hash must be what was announced, and unpacked they must hash to the content hash
    /// (checked off the mailbox: unpacking takes a while for a big data set).</summary>
    private void Verify(UploadDone done)
    {
        var m = done.Publish;
        var error = done.Error
                    ?? (done.Bytes != m.BundleBytes ? $"size mismatch: announced {m.BundleBytes} bytes, received {done.Bytes}" : null)
                    ?? (done.BundleSha256 != m.BundleSha256 ? $"hash mismatch: announced bundle sha256 {m.BundleSha256}, received {done.BundleSha256}" : null);
        if (error is not null)
        {
            Self.Tell(new Checked(m, done.TempPath, done.ReplyTo, error));
            return;
        }
        Task.Run(() => DataSetRepository.CheckContent(done.TempPath, m.Sha256))
            .PipeTo(Self, success: problem => new Checked(m, done.TempPath, done.ReplyTo, problem, done.Clock, done.Streamed),
                failure: e => new Checked(m, done.TempPath, done.ReplyTo, $"the bundle cannot be unpacked: {e.GetBaseException().Message}"));
    }

    private void Commit(Checked c)
    {
        var m = c.Publish;
        _inFlight.Remove(m.Sha256);
        if (c.Error is not null)
        {
            DataSetRepository.TryDelete(c.TempPath);
            _log.Warning("Refused the publication of data set {0}: {1}", m.Sha256, c.Error);
            c.ReplyTo.Tell(new DataSetProtocol.PublishRefused(m.Sha256, c.Error, ErrorKind.Invalid));
            return;
        }
        try
        {
            _repo.Commit(c.TempPath, m.Sha256);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            DataSetRepository.TryDelete(c.TempPath);
            _log.Error(e, "Could not store data set {0}", m.Sha256);
            c.ReplyTo.Tell(new DataSetProtocol.PublishRefused(m.Sha256, $"store I/O error: {e.Message}", ErrorKind.Unavailable));
            return;
        }
        var (total, streamed) = (Math.Max(c.Clock!.Elapsed.TotalSeconds, 1e-3), Math.Max(c.Streamed.TotalSeconds, 1e-3));
        _log.Info("Stored data set {0} ({1} bytes packed): received and hashed in {2:F2} s ({3:F1} MB/s), unpacked and content-checked in {4:F2} s",
            m.Sha256, m.BundleBytes, streamed, m.BundleBytes / 1e6 / streamed, total - streamed);
        Context.Parent.Tell(new Stored(new DataSetInfo(m.Sha256, m.Name, m.BundleSha256, m.BundleBytes, m.Files, m.ContentBytes, DateTimeOffset.UtcNow),
            c.ReplyTo));
    }

    /// <summary>Streams a stored bundle from the offset the worker asks for (what a dropped transfer left it), in
    /// <see cref="ArtifactProtocol.MaxChunkBytes"/> chunks. The worker checks the whole bundle's sha256 at the end.</summary>
    private void Serve(CoordinatorCommands.ServeDataSet s)
    {
        var replyTo = Sender;
        var (f, info) = (s.Fetch, s.DataSet);
        var path = _repo.BundlePath(info.Sha256);
        var refuse = !File.Exists(path) ? $"data set {info.Sha256} is recorded but its bundle is missing on the coordinator node ({path})"
            : f.Offset < 0 || f.Offset > info.BundleBytes ? $"offset {f.Offset} is outside the bundle's {info.BundleBytes} bytes"
            : null;
        if (refuse is not null)
        {
            _log.Error("Data set fetch for job {0} lease {1}: {2}", f.JobId, f.LeaseId, refuse);
            replyTo.Tell(new DataSetProtocol.FetchRefused(f.JobId, f.LeaseId, info.Sha256, refuse, ErrorKind.Unavailable));
            return;
        }
        var source = BundleStreams.FromFile(path, Context.System.Settings.Config, f.Offset);
        if (_corruptPending)
        {
            _corruptPending = false;
            _log.Warning("{0}={1}: flipping one byte of this transfer of data set {2} (a test-only fault)", FaultInjection.Variable, CorruptOnceFault, info.Sha256);
            var first = true;
            source = source.Select(chunk =>
            {
                if (first && chunk.Length > 0) chunk[chunk.Length / 2] ^= 0x5a;
                first = false;
                return chunk;
            });
        }
        else if (_dropPending && info.BundleBytes - f.Offset > 2 * ArtifactProtocol.MaxChunkBytes)
        {
            _dropPending = false;
            var stopAt = f.Offset + (info.BundleBytes - f.Offset) / 2;
            _log.Warning("{0}={1}: this transfer of data set {2} stops after byte {3} (a test-only fault)", FaultInjection.Variable, DropOnceFault, info.Sha256, stopAt);
            long sent = f.Offset;
            source = source.Select(chunk =>
            {
                sent += chunk.Length;
                return sent > stopAt ? throw new IOException($"transfer dropped after {sent - chunk.Length} bytes ({FaultInjection.Variable}={DropOnceFault})") : chunk;
            });
        }
        _log.Info("Serving data set {0} to job {1} lease {2} from byte {3} of {4}", info.Sha256, f.JobId, f.LeaseId, f.Offset, info.BundleBytes);
        source.RunWith(StreamRefs.SourceRef<byte[]>(), _materializer)
            .PipeTo(replyTo,
                success: r => new DataSetProtocol.FetchReady(f.JobId, f.LeaseId, info.Sha256, info.BundleSha256, info.BundleBytes, f.Offset, r),
                failure: e => new DataSetProtocol.FetchRefused(f.JobId, f.LeaseId, info.Sha256, $"could not open a transfer: {e.Message}", ErrorKind.Unavailable));
    }
}
