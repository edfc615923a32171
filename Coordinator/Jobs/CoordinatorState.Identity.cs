using Akka.Event;
using Cis490.Protocols;
using Cis490.Protocols.Artifacts;
using Cis490.Protocols.Jobs;
using static Cis490.Coordinator.Jobs.CoordinatorCommands;

namespace Cis490.Coordinator.Jobs;

/// <summary>Who may speak for a lease: the rule <see cref="Decide"/> applies to every <see cref="FromWorker"/> before the message
/// itself is decided.</summary>
public sealed partial record CoordinatorState
{
    private sealed partial class Step
    {
        /// <summary>Whether the sender of a lease message is the worker the lease belongs to: its registered actor or one of that
        /// actor's children (its trainers). A message about a lease that is not live goes on to the job table's own fencing
        /// (stale, unknown). Anyone else is refused (<see cref="ErrorKind.Forbidden"/>) and logged: a member of the cluster cannot
        /// heartbeat, fail, hand back or complete another worker's job by knowing its job and lease ids.</summary>
        public bool SpeaksFor(FromWorker f)
        {
            var m = f.Message;
            // Metrics after completion are about a lease that has ended: still only its worker may report them.
            var afterEnd = m is TrainerProtocol.ReportMetrics && State.Table.Jobs.ContainsKey(m.JobId);
            if (!afterEnd && State.Table.Fence(m.JobId, m.LeaseId) is not null) return true;
            var job = State.Table.Jobs[m.JobId];
            if (afterEnd && job.LeaseId != m.LeaseId) return true; // another lease's: the table refuses it
            var holder = job.WorkerId is { } id ? State.Workers.GetValueOrDefault(id) : null;
            if (holder is not null && WorkerEntry.IsSelfOrChild(holder.Endpoint, f.SenderPath)) return true;
            var why = holder is null
                ? $"lease {m.LeaseId} of job {m.JobId} belongs to worker {job.WorkerId}, which is not registered (yet): it registers first"
                : $"lease {m.LeaseId} of job {m.JobId} belongs to worker {holder.WorkerId} at {holder.Address}, not to {f.SenderPath}";
            var kind = holder is null ? ErrorKind.Unavailable : ErrorKind.Forbidden;
            if (holder is not null) Log(LogLevel.WarningLevel, $"Refused {m.GetType().Name} from {f.SenderPath}: {why}");
            Refuse(kind, $"refused: {why}", r => m switch
            {
                ArtifactProtocol.OfferUpload => new ArtifactProtocol.UploadRefused(m.JobId, m.LeaseId, r.Message, LeaseLost: false, r.Kind),
                Protocols.DataSets.DataSetProtocol.Fetch f => new Protocols.DataSets.DataSetProtocol.FetchRefused(m.JobId, m.LeaseId, f.Sha256, r.Message, r.Kind),
                _ => Refused(m.JobId, m.LeaseId, r),
            });
            return false;
        }
    }
}
