using Akka.Event;
using Cis490.Protocols.Artifacts;
using Cis490.Protocols.Jobs;
using static Cis490.Coordinator.Jobs.CoordinatorCommands;

namespace Cis490.Coordinator.Jobs;

/// <summary>The rules for a lease's life once granted: the trainer started, heartbeats, a lease ended without an artifact, the
/// artifact offered and stored (which completes the job). Each is fenced by the lease id. Decided by <see cref="Decide"/>.</summary>
public sealed partial record CoordinatorState
{
    private sealed partial class Step
    {
        public void Started(TrainerProtocol.Started m)
        {
            var decision = State.Table.Start(m.JobId, m.LeaseId, now);
            if (decision.Refusal is { } refusal)
            {
                Refuse(refusal, r => Refused(m.JobId, m.LeaseId, r));
                return;
            }
            Persist(decision.Event!);
            Reply(new TrainerProtocol.Acknowledged(m.JobId, m.LeaseId, JobStatus.Running));
        }

        public void Heartbeat(TrainerProtocol.Heartbeat m)
        {
            if (State.Table.Fence(m.JobId, m.LeaseId) is { } refusal)
            {
                Refuse(refusal, r => Refused(m.JobId, m.LeaseId, r));
                return;
            }
            State = State.HeardFrom(m.JobId, now) with { Progress = State.Progress.SetItem(m.JobId, m.Progress) };
            Do(new Effect.RecordProgress(m.JobId, m.LeaseId, m.Progress, m.Lines));
        }

        /// <summary>Ends a lease without an artifact; <paramref name="countsAsAttempt"/> is false when the worker handed it back
        /// untouched (no slot, draining). A failed attempt waits out the retry backoff.</summary>
        public void EndLease(string jobId, long leaseId, string reason, bool countsAsAttempt)
        {
            var decision = State.Table.EndLease(jobId, leaseId, reason, countsAsAttempt, now, countsAsAttempt ? State.Policy.Retry : null);
            if (decision.Refusal is { } refusal)
            {
                Refuse(refusal, r => Refused(jobId, leaseId, r));
                return;
            }
            Persist(decision.Event!);
            var status = State.Table.Jobs[jobId].Status;
            Log(LogLevel.WarningLevel, $"Job {jobId} lease {leaseId} ended ({reason}); job is now {status}");
            Reply(new TrainerProtocol.Acknowledged(jobId, leaseId, status));
        }

        public void Offer(ArtifactProtocol.OfferUpload m)
        {
            if (State.Table.Fence(m.JobId, m.LeaseId) is { } refusal)
            {
                Refuse(refusal, r => new ArtifactProtocol.UploadRefused(m.JobId, m.LeaseId, r.Message, LeaseLost: true));
                return;
            }
            State = State.HeardFrom(m.JobId, now); // an offer is a sign of life, like a heartbeat
            // The bundle is filed under the job's own model and mode, never under what the uploader declares.
            var spec = State.Table.Jobs[m.JobId].Spec;
            if (m.Model != spec.Model || m.Mode != spec.Mode)
                Log(LogLevel.WarningLevel, $"Job {m.JobId} lease {m.LeaseId}: the upload declares {m.Model}/{m.Mode}, the job is {spec.Model}/{spec.Mode}; stored as the job's");
            // The index row names the data set the job was bound to; an unbound job's (trained on the worker's --data folder) is the
            // one its checkpoint reports.
            if (spec.DataSet is not null && m.DataSet is not null && m.DataSet != spec.DataSet)
                Log(LogLevel.WarningLevel, $"Job {m.JobId} lease {m.LeaseId}: the checkpoint reports data set {m.DataSet}, the job is bound to {spec.DataSet}");
            Do(new Effect.ToStore(m with { Model = spec.Model, Mode = spec.Mode, DataSet = spec.DataSet ?? m.DataSet }));
        }

        public void Stored(Stored m)
        {
            var o = m.Offer;
            var decision = State.Table.Complete(o.JobId, o.LeaseId, o.Sha256, o.Bytes, o.Metrics, now);
            if (decision.Refusal is { } refusal)
            {
                // The bytes are stored (content-addressed, harmless), but this lease lost the job while uploading.
                Refuse(refusal, r => new ArtifactProtocol.UploadRefused(o.JobId, o.LeaseId, r.Message, LeaseLost: true));
                return;
            }
            Persist(decision.Event!);
            Log(LogLevel.InfoLevel, $"Job {o.JobId} completed by lease {o.LeaseId}: artifact {o.Sha256}");
            Reply(new ArtifactProtocol.UploadCompleted(o.JobId, o.LeaseId, o.Sha256, m.Deduplicated));
        }
    }
}
