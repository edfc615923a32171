using Akka.Streams;

namespace Cis490.Protocols.DataSets;

/// <summary>A published data set as the coordinator records it (the payload of <see cref="Jobs.JobEvents.DataSetPublished"/>).</summary>
/// <param name="Sha256">The content hash of the feature folder (Core's DataSetContent): what jobs, checkpoints and index rows name.</param>
/// <param name="Name">The operator's name for it (<c>data publish --name</c>), or null.</param>
/// <param name="BundleSha256">sha256 of the stored bundle (tar + zstd) that carries it: what a transfer is checked against.</param>
public sealed record DataSetInfo(
    string Sha256,
    string? Name,
    string BundleSha256,
    long BundleBytes,
    int Files,
    long ContentBytes,
    DateTimeOffset PublishedAt) : ICis490Message;

/// <summary>Data sets travelling by content hash: an operator publishes one to the coordinator's store (upload through a sink ref),
/// and a worker that lacks a lease's data set pulls it from there (download through a source ref, from an offset, so a dropped
/// transfer resumes where it stopped).</summary>
public static class DataSetProtocol
{
    /// <summary>Operator → coordinator: I have this data set, packed in a bundle of this hash and size; store it (under this name).
    /// Mutating: carries the operator token.</summary>
    public sealed record Publish(string Sha256, string? Name, string BundleSha256, long BundleBytes, int Files, long ContentBytes, string? Token = null)
        : ICis490Message;

    /// <summary>Coordinator → operator: stream the bundle's bytes, in chunks of at most <see cref="Artifacts.ArtifactProtocol.MaxChunkBytes"/>, into this sink.</summary>
    public sealed record PublishReady(string Sha256, ISinkRef<byte[]> Sink) : ICis490Message;

    /// <summary>Coordinator → operator: the data set is stored and recorded (<paramref name="AlreadyStored"/>: its bytes were there
    /// already, nothing was sent).</summary>
    public sealed record Published(DataSetInfo DataSet, bool AlreadyStored) : ICis490Message;

    /// <summary>The publication was refused (a bad name, a transfer whose bytes do not match, an I/O error); nothing was recorded.</summary>
    public sealed record PublishRefused(string Sha256, string Reason, ErrorKind Kind) : ICis490Message;

    /// <summary>Operator → coordinator: the published data sets, oldest first (the last one is what a job that names none is bound to).</summary>
    public sealed record ListDataSets : Operator.IOperatorRead
    {
        public static readonly ListDataSets Instance = new();
    }

    /// <summary>Reply to <see cref="ListDataSets"/>.</summary>
    public sealed record DataSetList(IReadOnlyList<DataSetInfo> DataSets) : ICis490Message;

    /// <summary>Worker → coordinator: send me the bundle of the data set of this lease, from byte <paramref name="Offset"/> on (what a
    /// dropped transfer left on disk). Only the worker holding the lease may ask, and only for that lease's data set.</summary>
    public sealed record Fetch(string JobId, long LeaseId, string Sha256, long Offset) : IWithLease;

    /// <summary>Coordinator → worker: the bundle's bytes from <paramref name="Offset"/> to its end, in chunks, from this source.</summary>
    public sealed record FetchReady(string JobId, long LeaseId, string Sha256, string BundleSha256, long BundleBytes, long Offset, ISourceRef<byte[]> Source)
        : IWithLease;

    /// <summary>Coordinator → worker: no transfer (<paramref name="Kind"/>: <see cref="ErrorKind.StaleLease"/> or
    /// <see cref="ErrorKind.NotFound"/> when the lease is gone, <see cref="ErrorKind.Unavailable"/> when the store cannot serve it now).</summary>
    public sealed record FetchRefused(string JobId, long LeaseId, string Sha256, string Reason, ErrorKind Kind) : IWithLease;
}
