using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Cis490.Coordinator.Operator;
using Cis490.Protocols.Jobs;
using Cis490.Protocols.Operator;
using static Cis490.Protocols.Operator.OperatorQueries;

namespace Cis490.Coordinator.Jobs;

/// <summary>Operator queries (status, job detail, workers, logs, artifacts, cluster) and cluster commands (leave, down).
/// The shell and the HTTP API both send these messages; every reply is one message.</summary>
public sealed partial class JobCoordinator
{
    /// <summary>Most log lines in one <see cref="JobLogs"/> reply: 200 lines of ~200 bytes stay well inside Akka.Remote's
    /// 128 000-byte frame. A reader asks again with <c>Next</c> until a reply has no lines.</summary>
    public const int MaxLogLinesPerReply = 200;

    /// <summary>Tells the coordinator to load its <c>--manifest</c> file (sent to itself once recovered).</summary>
    private sealed class LoadManifestAtStart : INoSerializationVerificationNeeded
    {
        public static readonly LoadManifestAtStart Instance = new();
    }

    private JobLogBuffer? _logBuffer;
    private JobLogBuffer Logs => _logBuffer ??= new JobLogBuffer(_settings.JobLogLines, _settings.JobLogJobs);

    /// <summary>The handlers of this file; called once from the constructor.</summary>
    private void QueryCommands()
    {
        Command<OperatorProtocol.ReloadManifest>(ReloadManifest);
        Command<LoadManifestAtStart>(_ => LoadStartupManifest());
        Command<GetStatus>(_ => Sender.Tell(Status()));
        Command<ShowJob>(ShowJobDetail);
        Command<ListWorkers>(_ => Sender.Tell(new WorkerList(_workers.Values.OrderBy(w => w.WorkerId, StringComparer.Ordinal).Select(WorkerView).ToList(),
            DateTimeOffset.UtcNow)));
        Command<GetJobLogs>(JobLogsOf);
        Command<ShowCluster>(_ => Sender.Tell(ClusterNow()));
        Command<ChangeMember>(ChangeMemberStatus);
        // The store owns the artifact repository: it lists its index and streams bundles down.
        Command<ListArtifacts>(m => _store.Forward(m));
        Command<GetArtifact>(m => _store.Forward(m));
    }

    /// <summary>Keeps a heartbeat's progress lines for <c>jobs logs</c> (called for heartbeats that passed the fence).</summary>
    private void RecordProgress(TrainerProtocol.Heartbeat m) => Logs.Record(m.JobId, m.LeaseId, DateTimeOffset.UtcNow, m.Progress, m.Lines);

    /// <summary>Why no current worker could ever run <paramref name="job"/>, or null. Placement reasons are wired in with placement;
    /// until then every job counts as schedulable.</summary>
    private string? UnschedulableReason(JobState job) => null;

    private StatusView Status()
    {
        var freeSlots = _workers.Values.Sum(w => Math.Max(0, w.Slots - _table.LeasesOf(w.WorkerId).Count()));
        var unschedulable = _table.Jobs.Values.Count(j => j.Status == JobStatus.Pending && UnschedulableReason(j) is not null);
        return new StatusView(ClusterNow().Members, _workers.Count, freeSlots, OperatorViews.JobCounts(_table), unschedulable, DateTimeOffset.UtcNow);
    }

    private void ShowJobDetail(ShowJob m)
    {
        if (_table.Resolve(m.JobId, out var problem) is not { } id)
        {
            Sender.Tell(new OperatorProtocol.OperatorError(problem!));
            return;
        }
        var job = _table.Jobs[id];
        Sender.Tell(new JobDetail(OperatorViews.JobView(job, _progress.GetValueOrDefault(id)), job.Spec, job.History, job.RetryAt,
            job.Status == JobStatus.Pending ? UnschedulableReason(job) : null));
    }

    private WorkerView WorkerView(WorkerEntry w)
    {
        var running = _table.LeasesOf(w.WorkerId).OrderBy(j => j.Seq).ToList();
        // Last heard from: its latest registration or the latest heartbeat of a job it runs.
        var lastSeen = running.Select(j => _lastBeat.GetValueOrDefault(j.JobId, w.LastSeen)).Append(w.LastSeen).Max();
        return new WorkerView(w.WorkerId, OperatorViews.AddressOf(w.Ref), w.Capability, w.Slots, running.Select(j => j.JobId).ToList(), lastSeen, false);
    }

    private void JobLogsOf(GetJobLogs m)
    {
        if (_table.Resolve(m.JobId, out var problem) is not { } id)
        {
            Sender.Tell(new OperatorProtocol.OperatorError(problem!));
            return;
        }
        var (lines, next) = Logs.Read(id, m.After, MaxLogLinesPerReply);
        var status = _table.Jobs[id].Status;
        Sender.Tell(new JobLogs(id, status, lines, next, OperatorViews.IsFinished(status)));
    }

    /// <summary>The cluster as this node sees it; empty when the node is not a cluster member (a local test system).</summary>
    private ClusterView ClusterNow()
    {
        if (ClusterOrNull() is not { } cluster) return new ClusterView("", [], DateTimeOffset.UtcNow);
        var state = cluster.State;
        return new ClusterView(state.Leader?.ToString() ?? "", OperatorViews.Members(state), DateTimeOffset.UtcNow);
    }

    private Akka.Cluster.Cluster? ClusterOrNull() =>
        ((ExtendedActorSystem)Context.System).Provider is Akka.Cluster.ClusterActorRefProvider ? Akka.Cluster.Cluster.Get(Context.System) : null;

    private void ChangeMemberStatus(ChangeMember m)
    {
        var what = m.Down ? "down" : "leave";
        if (!Authorized(m.Token, $"cluster {what} {m.Address}"))
        {
            Sender.Tell(new OperatorProtocol.OperatorResult(false, m.Address, "", TokenRefusal(m.Token)));
            return;
        }
        if (ClusterOrNull() is not { } cluster)
        {
            Sender.Tell(new OperatorProtocol.OperatorResult(false, m.Address, "", "this coordinator is not part of a cluster"));
            return;
        }
        var member = OperatorViews.ResolveMember(cluster.State.Members, m.Address, out var problem);
        if (member is null)
        {
            Sender.Tell(new OperatorProtocol.OperatorResult(false, m.Address, "", problem!));
            return;
        }
        var address = member.Address;
        if (m.Down) cluster.Down(address);
        else cluster.Leave(address);
        var message = m.Down
            ? "marked down (it is removed from the cluster; its leases end and its jobs are retried)"
            : "asked to leave (it moves through leaving, exiting and removed; a coordinator node hands the singleton over first)";
        _log.Warning("Operator: cluster {0} {1} (was {2})", what, address, member.Status);
        Sender.Tell(new OperatorProtocol.OperatorResult(true, address.ToString(), member.Status.ToString().ToLowerInvariant(), message));
    }
}
