using Akka.Streams;

namespace Cis490.Protocols.Artifacts;

/// <summary>The upload of a finished job's bundle to the artifact store over a StreamRef.</summary>
public static class ArtifactProtocol
{
    /// <summary>Trainer → coordinator: I have a bundle of this hash and size for this lease. <paramref name="DataSet"/>: the content
    /// hash of the data its checkpoint was trained on (null from a worker that predates data sets).</summary>
    public sealed record OfferUpload(
        string JobId,
        long LeaseId,
        string Model,
        string Mode,
        string Sha256,
        long Bytes,
        IReadOnlyDictionary<string, double> Metrics,
        string? DataSet = null) : IWithLease;

    /// <summary>Store → trainer: stream the bundle's bytes, in chunks of at most <see cref="MaxChunkBytes"/>, into this sink.</summary>
    public sealed record UploadReady(string JobId, long LeaseId, ISinkRef<byte[]> Sink) : IWithLease;

    /// <summary>Store or coordinator → trainer: the upload was refused; nothing was kept.</summary>
    /// <param name="LeaseLost">True when the lease is no longer the job's (fencing): offering again is pointless.
    /// False for a transfer problem (hash or size mismatch, I/O error, a concurrent upload), which the trainer may retry.</param>
    /// <param name="Kind">Why, as a kind: <see cref="ErrorKind.Unavailable"/> when the coordinator cannot hear this lease yet (it
    /// just recovered and the worker has not registered again): the trainer offers again a little later, no attempt spent.</param>
    public sealed record UploadRefused(string JobId, long LeaseId, string Reason, bool LeaseLost, ErrorKind? Kind = null) : IWithLease;

    /// <summary>Coordinator → trainer: the artifact is stored and the job completed.</summary>
    public sealed record UploadCompleted(string JobId, long LeaseId, string Sha256, bool Deduplicated) : IWithLease;

    /// <summary>Chunk size that fits a default Akka.Remote frame (128000 bytes) with room for the envelope; AKKA-NOTES measured 64 KiB as the fastest.</summary>
    public const int MaxChunkBytes = 64 * 1024;
}
