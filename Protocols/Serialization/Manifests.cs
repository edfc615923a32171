using Cis490.Protocols.Artifacts;
using Cis490.Protocols.DataSets;
using Cis490.Protocols.Jobs;
using Cis490.Protocols.Operator;
using Cis490.Protocols.Workers;

namespace Cis490.Protocols.Serialization;

/// <summary>The stable wire and journal name of every message type. A manifest, once shipped, is never reused or changed: journals hold it.</summary>
public static class Manifests
{
    private static readonly (Type Type, string Manifest)[] Table =
    [
        // jobs (J*): value types and persisted events
        (typeof(JobSpec), "J1"),
        (typeof(TrainingProgress), "J2"),
        (typeof(JobEvents.JobAdded), "JE1"),
        (typeof(JobEvents.LeaseGranted), "JE2"),
        (typeof(JobEvents.JobStarted), "JE3"),
        (typeof(JobEvents.JobCompleted), "JE4"),
        (typeof(JobEvents.LeaseEnded), "JE5"),
        (typeof(JobEvents.JobCancelled), "JE6"),
        (typeof(JobEvents.JobRequeued), "JE7"),
        // Snapshots: JS1 was JSON (still read: Legacy below), JS3 is the compact binary form (JobTableSnapshotCodec).
        (typeof(JobTableSnapshot), "JS3"),
        (typeof(JobState), "JS2"),
        (typeof(JobConstraints), "J3"),
        (typeof(HostPolicy), "J4"),
        (typeof(AttemptRecord), "J5"),
        (typeof(JobEvents.HostsDeclared), "JE8"),
        (typeof(JobEvents.MetricsMerged), "JE9"),
        (typeof(JobEvents.DataSetPublished), "JE10"),
        (typeof(JobEvents.Batch), "JEB"), // binary: EventBatchCodec
        // trainer ↔ coordinator (T*)
        (typeof(TrainerProtocol.Started), "T1"),
        (typeof(TrainerProtocol.Heartbeat), "T2"),
        (typeof(TrainerProtocol.Failed), "T3"),
        (typeof(TrainerProtocol.Refused), "T4"),
        (typeof(TrainerProtocol.Acknowledged), "T5"),
        (typeof(TrainerProtocol.ReportMetrics), "T6"),
        // workers (W*)
        (typeof(WorkerCapability), "W1"),
        (typeof(WorkerProtocol.Register), "W2"),
        (typeof(WorkerProtocol.HeldLease), "W3"),
        (typeof(WorkerProtocol.Registered), "W4"),
        (typeof(WorkerProtocol.Lease), "W5"),
        (typeof(WorkerProtocol.LeaseDeclined), "W6"),
        (typeof(WorkerProtocol.RevokeLease), "W7"),
        (typeof(WorkerProtocol.RegistrationRefused), "W8"),
        (typeof(WorkerProtocol.RequestLease), "W9"),
        (typeof(WorkerProtocol.NoLease), "W10"),
        // artifacts (A*)
        (typeof(ArtifactProtocol.OfferUpload), "A1"),
        (typeof(ArtifactProtocol.UploadReady), "A2"),
        (typeof(ArtifactProtocol.UploadRefused), "A3"),
        (typeof(ArtifactProtocol.UploadCompleted), "A4"),
        // data sets (D*)
        (typeof(DataSetInfo), "D1"),
        (typeof(DataSetProtocol.Publish), "D2"),
        (typeof(DataSetProtocol.PublishReady), "D3"),
        (typeof(DataSetProtocol.Published), "D4"),
        (typeof(DataSetProtocol.PublishRefused), "D5"),
        (typeof(DataSetProtocol.ListDataSets), "D6"),
        (typeof(DataSetProtocol.DataSetList), "D7"),
        (typeof(DataSetProtocol.Fetch), "D8"),
        (typeof(DataSetProtocol.FetchReady), "D9"),
        (typeof(DataSetProtocol.FetchRefused), "D10"),
        // operator (O*)
        (typeof(OperatorProtocol.SubmitManifest), "O1"),
        (typeof(OperatorProtocol.ManifestAccepted), "O2"),
        (typeof(OperatorProtocol.ManifestRejected), "O3"),
        (typeof(OperatorProtocol.ManifestError), "O4"),
        (typeof(OperatorProtocol.ListJobs), "O5"),
        (typeof(OperatorProtocol.JobList), "O6"),
        (typeof(OperatorProtocol.JobView), "O7"),
        (typeof(OperatorProtocol.OperatorError), "O8"),
        (typeof(OperatorProtocol.CancelJob), "O9"),
        (typeof(OperatorProtocol.RequeueJob), "O10"),
        (typeof(OperatorProtocol.OperatorResult), "O11"),
        (typeof(OperatorProtocol.ReloadManifest), "O12"),
        (typeof(OperatorProtocol.SubmitManifestStream), "O13"),
        (typeof(OperatorProtocol.ErrorKindCount), "O14"),
        (typeof(OperatorQueries.GetStatus), "Q1"),
        (typeof(OperatorQueries.StatusView), "Q2"),
        (typeof(OperatorQueries.MemberView), "Q3"),
        (typeof(OperatorQueries.ShowJob), "Q4"),
        (typeof(OperatorQueries.JobDetail), "Q5"),
        (typeof(OperatorQueries.ListWorkers), "Q6"),
        (typeof(OperatorQueries.WorkerList), "Q7"),
        (typeof(OperatorQueries.WorkerView), "Q8"),
        (typeof(OperatorQueries.ListArtifacts), "Q9"),
        (typeof(OperatorQueries.ArtifactList), "Q10"),
        (typeof(OperatorQueries.ArtifactView), "Q11"),
        (typeof(OperatorQueries.GetArtifact), "Q12"),
        (typeof(OperatorQueries.ArtifactDownload), "Q13"),
        (typeof(OperatorQueries.GetJobLogs), "Q14"),
        (typeof(OperatorQueries.JobLogs), "Q15"),
        (typeof(OperatorQueries.LogLine), "Q16"),
        (typeof(OperatorQueries.ShowCluster), "Q17"),
        (typeof(OperatorQueries.ClusterView), "Q18"),
        (typeof(OperatorQueries.ChangeMember), "Q19"),
        (typeof(OperatorQueries.GetHealth), "Q20"),
        (typeof(OperatorQueries.CoordinatorHealth), "Q21"),
        // The diagnostics palettes (cluster tail, log peek/tail, actor hierarchy): prefix PC (D is the data sets').
        (typeof(Diagnostics.DiagnosticsProtocol.PeekLog), "PC1"),
        (typeof(Diagnostics.DiagnosticsProtocol.LogLines), "PC2"),
        (typeof(Diagnostics.DiagnosticsProtocol.NodeLogLine), "PC3"),
        (typeof(Diagnostics.DiagnosticsProtocol.GetHierarchy), "PC4"),
        (typeof(Diagnostics.DiagnosticsProtocol.ActorTree), "PC5"),
        (typeof(Diagnostics.DiagnosticsProtocol.ActorEntry), "PC6"),
        (typeof(Diagnostics.DiagnosticsProtocol.TailCluster), "PC7"),
        (typeof(Diagnostics.DiagnosticsProtocol.ClusterEvents), "PC8"),
        (typeof(Diagnostics.DiagnosticsProtocol.ClusterEventView), "PC9"),
    ];

    /// <summary>Type → manifest.</summary>
    public static readonly IReadOnlyDictionary<Type, string> ByType = Table.ToDictionary(t => t.Type, t => t.Manifest);

    /// <summary>Manifests that are read but no longer written (journals and snapshot stores still hold them): JSON decoded.</summary>
    private static readonly (Type Type, string Manifest)[] Legacy =
    [
        (typeof(JobTableSnapshot), "JS1"), // the JSON job-table snapshot, before JS3
    ];

    /// <summary>Manifest → type (written ones and <see cref="Legacy"/> ones).</summary>
    public static readonly IReadOnlyDictionary<string, Type> ByManifest = Table.Concat(Legacy).ToDictionary(t => t.Manifest, t => t.Type);

    /// <summary>The manifest of the compact binary job-table snapshot (<see cref="JobTableSnapshotCodec"/>).</summary>
    public const string CompactSnapshot = "JS3";

    /// <summary>The manifest of a group-committed write's events as one journal entry (<see cref="EventBatchCodec"/>).</summary>
    public const string EventBatch = "JEB";
}
