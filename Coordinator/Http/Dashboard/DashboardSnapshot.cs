using Akka.Actor;
using Cis490.Protocols.Jobs;
using Cis490.Protocols.Operator;
using static Cis490.Protocols.Operator.OperatorQueries;

namespace Cis490.Coordinator.Http.Dashboard;

/// <summary>What the page draws, in one message: members, workers, jobs (with why a pending one cannot run), artifacts, evaluation.
/// Jobs: at most max-jobs of each status (the oldest first: the next to run, the longest waiting), so that a table of 100 000
/// jobs does not ship every row every second; <see cref="JobsTotal"/> and the counts per status come from the server.</summary>
public sealed record DashboardSnapshot(
    DateTimeOffset At,
    string Leader,
    IReadOnlyList<MemberView> Members,
    IReadOnlyList<WorkerView> Workers,
    IReadOnlyList<OperatorProtocol.JobView> Jobs,
    IReadOnlyDictionary<string, JobNote> Notes,
    IReadOnlyDictionary<string, int> JobCounts,
    IReadOnlyList<ArtifactView> Artifacts,
    EvaluationView? Evaluation,
    long GoneLingerMs,
    int JobsTotal = 0);

/// <summary>Why a pending job waits: it cannot run on any current worker, or it is backing off until its next retry.</summary>
public sealed record JobNote(string? Unschedulable, DateTimeOffset? RetryAt);

/// <summary>One point of a training curve (a trainer's progress line).</summary>
public sealed record CurvePoint(long N, long LeaseId, DateTimeOffset At, int Epoch, int TotalEpochs, double? Loss, double? ValMacroF1, string Message);

/// <summary>Asks the node's operator endpoint for everything on the page; a failed ask is an exception naming what did not answer.</summary>
public sealed class SnapshotSource(IActorRef operatorEndpoint, DashboardSettings settings, EvaluationReader evaluation)
{
    public async Task<DashboardSnapshot> Take(CancellationToken ct)
    {
        var cluster = Ask<ClusterView>(ShowCluster.Instance, "the cluster view", ct);
        var workers = Ask<WorkerList>(ListWorkers.Instance, "the worker list", ct);
        var pages = JobStatus.All.Select(st =>
            Ask<OperatorProtocol.JobList>(new OperatorProtocol.ListJobs(st, null, settings.MaxJobs), $"the {st} jobs", ct)).ToList();
        var jobs = Task.WhenAll(pages).ContinueWith(t => t.Result.SelectMany(p => p.Jobs).ToList(), ct);
        var artifacts = Ask<ArtifactList>(ListArtifacts.Instance, "the artifact list", ct);
        var status = Ask<StatusView>(GetStatus.Instance, "the status", ct);
        await Task.WhenAll(cluster, workers, jobs, artifacts, status);

        var notes = new Dictionary<string, JobNote>(StringComparer.Ordinal);
        var pending = jobs.Result.Where(j => j.Status == JobStatus.Pending && (status.Result.Unschedulable > 0 || j.FailedAttempts > 0))
            .Take(settings.MaxJobDetails).ToList();
        var details = await Task.WhenAll(pending.Select(j => Ask<JobDetail>(new ShowJob(j.JobId), $"job {j.JobId}", ct)));
        foreach (var d in details.Where(d => d.Unschedulable is not null || d.RetryAt is not null))
            notes[d.Job.JobId] = new JobNote(d.Unschedulable, d.RetryAt);

        return new DashboardSnapshot(DateTimeOffset.UtcNow, cluster.Result.Leader,
            cluster.Result.Members.OrderBy(m => m.Address, StringComparer.Ordinal).ToList(),
            workers.Result.Workers.OrderBy(w => w.WorkerId, StringComparer.Ordinal).ToList(),
            jobs.Result.OrderBy(j => j.AddedAt).ThenBy(j => j.JobId, StringComparer.Ordinal).ToList(),
            notes, status.Result.JobCounts,
            artifacts.Result.Artifacts.OrderByDescending(a => a.StoredAt).ToList(),
            evaluation.Read(), (long)settings.GoneLinger.TotalMilliseconds, status.Result.JobCounts.Values.Sum());
    }

    /// <summary>A job's progress lines after <paramref name="after"/>.</summary>
    public Task<JobLogs> Logs(string jobId, long after, CancellationToken ct) => Ask<JobLogs>(new GetJobLogs(jobId, after), $"the logs of job {jobId}", ct);

    private async Task<T> Ask<T>(object query, string what, CancellationToken ct)
    {
        object reply;
        try
        {
            reply = await operatorEndpoint.Ask<object>(query, settings.QueryTimeout, ct);
        }
        catch (AskTimeoutException)
        {
            throw new CoordinatorUnavailable($"the coordinator did not answer {what} within {settings.QueryTimeout.TotalSeconds:0.#} s (starting, or moving to another node?)");
        }
        return reply switch
        {
            T value => value,
            OperatorProtocol.OperatorError e => throw new CoordinatorUnavailable(e.Message),
            _ => throw new CoordinatorUnavailable($"the coordinator answered {reply.GetType().Name} to {what}"),
        };
    }
}

/// <summary>The coordinator did not give the feed what it asked for; the page says so and keeps its last picture.</summary>
public sealed class CoordinatorUnavailable(string message) : Exception(message);
