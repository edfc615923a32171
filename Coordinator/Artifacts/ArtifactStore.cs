using Akka.Actor;
using Akka.Event;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.Util;
using Cis490.Protocols;
using Cis490.Protocols.Artifacts;
using Cis490.Protocols.Operator;
using Cis490.Shared.Artifacts;

namespace Cis490.Coordinator.Artifacts;

/// <summary>Receives bundles over StreamRefs, verifies size and sha256, and commits them to the <see cref="ArtifactRepository"/>.
/// Tells its parent (the JobCoordinator) only after the bundle is safely stored.</summary>
public sealed class ArtifactStore : ReceiveActor
{
    /// <summary>To the parent: the bundle of this lease is stored; complete the job and answer <see cref="ReplyTo"/>.</summary>
    public sealed record Stored(ArtifactProtocol.OfferUpload Offer, bool Deduplicated, IActorRef ReplyTo) : INoSerializationVerificationNeeded;

    private sealed record UploadDone(ArtifactProtocol.OfferUpload Offer, string TempPath, IActorRef ReplyTo, string? Sha256, long Bytes, string? Error)
        : INoSerializationVerificationNeeded;

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly ArtifactRepository _repo;
    private readonly TimeSpan _idleTimeout;
    private readonly IMaterializer _materializer;
    private readonly HashSet<(string, long)> _inFlight = [];

    public ArtifactStore(string modelsDir, TimeSpan idleTimeout)
    {
        _repo = new ArtifactRepository(modelsDir, problem => _log.Warning("Artifact index: {0}", problem));
        _idleTimeout = idleTimeout;
        _materializer = Context.Materializer();
        BundleStreams.ChunkBytes(Context.System.Settings.Config); // a chunk size that cannot fit a frame fails the node's start, not an upload

        Receive<ArtifactProtocol.OfferUpload>(StartUpload);
        Receive<UploadDone>(Finish);
        Receive<OperatorQueries.ListArtifacts>(_ =>
        {
            if (ReadIndex() is { } rows)
                Sender.Tell(new OperatorQueries.ArtifactList(rows.Select(r => new OperatorQueries.ArtifactView(r.Sha256, r.Model, r.Mode, r.JobId, r.Bytes, r.StoredAt, r.DataSet)).ToList()));
        });
        Receive<OperatorQueries.GetArtifact>(Download);
    }

    protected override void PreStart()
    {
        // Bundles whose row was never appended (a crash between the rename and the append) get it now.
        try
        {
            foreach (var row in _repo.RepairIndex())
                _log.Warning("Artifact index: wrote the missing row of {0} ({1}/{2}, job {3}) from its bundle", row.Sha256, row.Model, row.Mode,
                    row.JobId.Length > 0 ? row.JobId : "unknown");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.Error(e, "Could not check {0} for bundles without an index row; the next start tries again", _repo.Root);
        }
    }

    /// <summary>The index's rows, or null after answering the sender that the index cannot be read (the file system failed).</summary>
    private IReadOnlyList<ArtifactIndexRow>? ReadIndex()
    {
        try
        {
            return _repo.ReadIndex();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.Error(e, "Cannot read the artifact index {0}", _repo.IndexPath);
            Sender.Tell(new OperatorProtocol.OperatorError($"cannot read the artifact index {_repo.IndexPath} on the coordinator node: {e.Message}",
                ErrorKind.Unavailable));
            return null;
        }
    }

    public static Props Props(string modelsDir, TimeSpan idleTimeout) => Akka.Actor.Props.Create(() => new ArtifactStore(modelsDir, idleTimeout));

    private void StartUpload(ArtifactProtocol.OfferUpload offer)
    {
        var replyTo = Sender;
        if (offer.Bytes < 0 || offer.Sha256.Length != 64 || !offer.Sha256.All(Uri.IsHexDigit))
        {
            replyTo.Tell(new ArtifactProtocol.UploadRefused(offer.JobId, offer.LeaseId, $"malformed offer: sha256 '{offer.Sha256}', {offer.Bytes} bytes", LeaseLost: false));
            return;
        }
        // Paths are made only from checked values (the coordinator has already put the job's own model and mode in the offer).
        string problem;
        try
        {
            _repo.BundlePath(offer.Model, offer.Mode, offer.Sha256);
            _repo.NewIncomingPath(offer.JobId, offer.LeaseId);
            problem = "";
        }
        catch (ArgumentException e) { problem = e.Message; }
        if (problem.Length > 0)
        {
            _log.Warning("Refused upload for job {0} lease {1}: {2}", offer.JobId, offer.LeaseId, problem);
            replyTo.Tell(new ArtifactProtocol.UploadRefused(offer.JobId, offer.LeaseId, $"malformed offer: {problem}", LeaseLost: false));
            return;
        }
        if (!_inFlight.Add((offer.JobId, offer.LeaseId)))
        {
            replyTo.Tell(new ArtifactProtocol.UploadRefused(offer.JobId, offer.LeaseId, "an upload for this lease is already in progress", LeaseLost: false));
            return;
        }
        var temp = _repo.NewIncomingPath(offer.JobId, offer.LeaseId);
        // Hashed as it is written (BundleStreams.ToFile), in the stream's one sink stage: nothing to read back at the end.
        var (sinkRef, written) = StreamRefs.SinkRef<byte[]>()
            .IdleTimeout(_idleTimeout)
            .ToMaterialized(BundleStreams.ToFile(temp, offer.Bytes), Keep.Both)
            .Run(_materializer);

        sinkRef.PipeTo(replyTo,
            success: r => new ArtifactProtocol.UploadReady(offer.JobId, offer.LeaseId, r),
            failure: e => new ArtifactProtocol.UploadRefused(offer.JobId, offer.LeaseId, $"could not open an upload: {e.Message}", LeaseLost: false));

        written.ContinueWith(t => t.IsCompletedSuccessfully
            ? new UploadDone(offer, temp, replyTo, t.Result.Sha256, t.Result.Bytes, null)
            : new UploadDone(offer, temp, replyTo, null, 0, t.IsCanceled ? "upload cancelled" : t.Exception!.GetBaseException().Message))
            .PipeTo(Self);
    }

    private void Finish(UploadDone done)
    {
        var offer = done.Offer;
        _inFlight.Remove((offer.JobId, offer.LeaseId));
        var error = done.Error
                    ?? (done.Bytes != offer.Bytes ? $"size mismatch: offered {offer.Bytes} bytes, received {done.Bytes}" : null)
                    ?? (done.Sha256 != offer.Sha256 ? $"hash mismatch: offered sha256 {offer.Sha256}, received {done.Sha256}" : null);
        if (error is not null)
        {
            TryDelete(done.TempPath);
            _log.Warning("Refused upload for job {0} lease {1}: {2}", offer.JobId, offer.LeaseId, error);
            done.ReplyTo.Tell(new ArtifactProtocol.UploadRefused(offer.JobId, offer.LeaseId, error, LeaseLost: false));
            return;
        }
        try
        {
            var isNew = _repo.Commit(done.TempPath, offer.Sha256, offer.Model, offer.Mode, offer.JobId, offer.LeaseId, offer.Bytes, DateTimeOffset.UtcNow,
                FaultInjection.CrashAt(FaultInjection.StoreCrashAfterRename), offer.DataSet);
            _log.Info("Stored artifact {0} ({1} bytes) for job {2}{3}", offer.Sha256, offer.Bytes, offer.JobId, isNew ? "" : " (already stored: deduplicated)");
            Context.Parent.Tell(new Stored(offer, !isNew, done.ReplyTo));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(done.TempPath);
            _log.Error(e, "Could not store artifact {0} for job {1}", offer.Sha256, offer.JobId);
            done.ReplyTo.Tell(new ArtifactProtocol.UploadRefused(offer.JobId, offer.LeaseId, $"store I/O error: {e.Message}", LeaseLost: false));
        }
    }

    /// <summary>Streams a stored bundle to whoever asked, through a source ref, in <see cref="ArtifactProtocol.MaxChunkBytes"/> chunks.
    /// The reader checks the sha256 at the end; a ref nobody subscribes to closes itself after the stream-ref subscription timeout.</summary>
    private void Download(OperatorQueries.GetArtifact m)
    {
        var replyTo = Sender;
        var wanted = m.Sha256.Trim().ToLowerInvariant();
        if (wanted.Length < 8 || !wanted.All(Uri.IsHexDigit))
        {
            replyTo.Tell(new OperatorProtocol.OperatorError($"'{m.Sha256}' is not an artifact sha256 (give it, or at least its first 8 hex digits)", ErrorKind.Invalid));
            return;
        }
        if (ReadIndex() is not { } index) return;
        var rows = index.Where(r => r.Sha256.StartsWith(wanted, StringComparison.Ordinal)).DistinctBy(r => r.Sha256).Take(2).ToList();
        if (rows.Count != 1)
        {
            replyTo.Tell(rows.Count == 0
                ? new OperatorProtocol.OperatorError($"no stored artifact's sha256 starts with '{wanted}' (see 'artifacts list')", ErrorKind.NotFound)
                : new OperatorProtocol.OperatorError($"'{wanted}' names more than one artifact; give more characters", ErrorKind.Invalid));
            return;
        }
        var row = rows[0];
        var path = _repo.BundlePath(row.Model, row.Mode, row.Sha256);
        if (!File.Exists(path))
        {
            _log.Error("Artifact {0} is in the index but {1} is missing", row.Sha256, path);
            replyTo.Tell(new OperatorProtocol.OperatorError($"artifact {row.Sha256} is indexed but its file is missing on the coordinator node ({path})",
                ErrorKind.Unavailable));
            return;
        }
        BundleStreams.FromFile(path, Context.System.Settings.Config)
            .RunWith(StreamRefs.SourceRef<byte[]>(), _materializer)
            .PipeTo(replyTo,
                success: source => new OperatorQueries.ArtifactDownload(row.Sha256, row.Model, row.Mode, new FileInfo(path).Length, source),
                failure: e => new OperatorProtocol.OperatorError($"could not open a download of {row.Sha256}: {e.Message}", ErrorKind.Unavailable));
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { }
    }
}
