using Akka.Event;
using Cis490.Protocols;
using Cis490.Protocols.DataSets;
using Cis490.Shared.DataSets;
using Cis490.Shared.Manifest;
using static Cis490.Protocols.Jobs.JobEvents;

namespace Cis490.Coordinator.Jobs;

public sealed partial record CoordinatorState
{
    private sealed partial class Step
    {
        /// <summary>An operator publishes a data set. Bytes already in the store are not sent again (content-addressed): the same
        /// name is answered at once, a new name for them is recorded. Otherwise the data-set store opens an upload and answers the
        /// publisher itself; the publication is recorded once the bytes are verified (<see cref="DataSetStored"/>).</summary>
        public void Publish(DataSetProtocol.Publish m)
        {
            var problem = !DataSetContent.IsHash(m.Sha256) ? $"'{m.Sha256}' is not a content hash (64 lowercase hex digits)"
                : !DataSetContent.IsHash(m.BundleSha256) ? $"bundle hash '{m.BundleSha256}' is not a sha256 (64 lowercase hex digits)"
                : m.BundleBytes <= 0 || m.Files <= 0 || m.ContentBytes < 0 ? $"a bundle of {m.BundleBytes} bytes holding {m.Files} files is not a data set"
                : m.Name is not null && !ManifestLoader.IsDataSetName(m.Name)
                    ? $"'{m.Name}' is not a data-set name (1–{ManifestLoader.MaxDataSetName} letters, digits, '.', '_', '-', starting with a letter or digit)"
                : null;
            if (problem is not null)
            {
                Refuse(ErrorKind.Invalid, problem, r => new DataSetProtocol.PublishRefused(m.Sha256, r.Message, r.Kind));
                return;
            }
            if (State.Table.DataSet(m.Sha256) is { } known)
            {
                if (m.Name is not null && m.Name != known.Name)
                {
                    var renamed = known with { Name = m.Name, PublishedAt = now };
                    Persist(new DataSetPublished(renamed, now));
                    Log(LogLevel.InfoLevel, $"Data set {m.Sha256} published again as '{m.Name}' (its bytes were stored already); it is the latest now");
                    Reply(new DataSetProtocol.Published(renamed, AlreadyStored: true));
                    return;
                }
                Reply(new DataSetProtocol.Published(known, AlreadyStored: true));
                return;
            }
            Do(new Effect.ToDataSets(m with { Token = null }));
        }

        /// <summary>The data-set store verified and stored a publication's bytes: it is recorded, and it is the latest.</summary>
        public void DataSetStored(CoordinatorCommands.DataSetStored m)
        {
            var info = m.DataSet with { PublishedAt = now };
            Persist(new DataSetPublished(info, now));
            Log(LogLevel.InfoLevel, $"Data set {info.Sha256}{(info.Name is null ? "" : $" ('{info.Name}')")} published: {info.Files} files, " +
                                    $"{info.ContentBytes} bytes ({info.BundleBytes} bytes packed); jobs that name no data set are bound to it from now on");
            Reply(new DataSetProtocol.Published(info, AlreadyStored: false));
        }

        /// <summary>A worker asks for its lease's data set: only for a live lease of its own (the caller checked who sent it), and only
        /// the data set that lease is bound to. The store then answers the worker with a source from the offset asked.</summary>
        public void Fetch(DataSetProtocol.Fetch m)
        {
            if (State.Table.Fence(m.JobId, m.LeaseId) is { } refusal)
            {
                Refuse(refusal, r => new DataSetProtocol.FetchRefused(m.JobId, m.LeaseId, m.Sha256, r.Message, r.Kind));
                return;
            }
            var spec = State.Table.Jobs[m.JobId].Spec;
            if (spec.DataSet != m.Sha256 || State.Table.DataSet(m.Sha256) is not { } info)
            {
                var why = spec.DataSet != m.Sha256
                    ? $"job {m.JobId} is bound to data set {spec.DataSet ?? "(none)"}, not {m.Sha256}"
                    : $"data set {m.Sha256} was never published here";
                Refuse(ErrorKind.Invalid, why, r => new DataSetProtocol.FetchRefused(m.JobId, m.LeaseId, m.Sha256, r.Message, r.Kind));
                return;
            }
            State = State.HeardFrom(m.JobId, now); // asking for its data is a sign of life, like a heartbeat
            Do(new Effect.ToDataSets(new CoordinatorCommands.ServeDataSet(m, info)));
        }
    }
}
