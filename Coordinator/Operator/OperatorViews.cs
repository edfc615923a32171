using Akka.Actor;
using Akka.Cluster;
using Cis490.Coordinator.Jobs;
using Cis490.Protocols;
using Cis490.Protocols.Jobs;
using Cis490.Protocols.Operator;
using static Cis490.Protocols.Operator.OperatorQueries;

namespace Cis490.Coordinator.Operator;

/// <summary>What operators see, computed from the coordinator's state and the cluster's: plain functions, no actors.</summary>
public static class OperatorViews
{
    /// <summary>One job's row.</summary>
    public static OperatorProtocol.JobView JobView(JobState j, TrainingProgress? progress, string? unschedulable = null) =>
        new(j.JobId, j.Spec.Model, j.Spec.Mode, j.Spec.HyperJson, j.Status, j.FailedAttempts, j.Spec.MaxAttempts, j.LeaseId,
            j.WorkerId, j.HoldsLease ? progress : null, j.ArtifactSha256, j.Metrics, j.AddedAt, j.StartedAt, j.FinishedAt, j.LastError,
            j.RetryAt, unschedulable, j.Spec.DataSet);

    /// <summary>Jobs per status, every status present (zero when none), in lifecycle order.</summary>
    public static IReadOnlyDictionary<string, int> JobCounts(JobTable table)
    {
        var counts = JobStatus.All.ToDictionary(s => s, _ => 0);
        foreach (var j in table.Jobs.Values) counts[j.Status] = counts.GetValueOrDefault(j.Status) + 1;
        return counts;
    }

    /// <summary>Whether a job has reached an end state (it will not change unless an operator requeues it).</summary>
    public static bool IsFinished(string status) => status is JobStatus.Completed or JobStatus.Failed or JobStatus.Cancelled;

    /// <summary>The members as this node sees them, oldest first; <c>IsOldest</c> marks the oldest Up member (where singletons run).</summary>
    public static IReadOnlyList<MemberView> Members(ClusterEvent.CurrentClusterState state)
    {
        var unreachable = state.Unreachable.Select(m => m.UniqueAddress).ToHashSet();
        var oldest = state.Members.Where(m => m.Status == MemberStatus.Up).Aggregate((Member?)null, (o, m) => o is null || m.IsOlderThan(o) ? m : o);
        return state.Members
            .OrderBy(m => m, Member.AgeOrdering)
            .Select(m => new MemberView(m.Address.ToString(), m.Status.ToString().ToLowerInvariant(), !unreachable.Contains(m.UniqueAddress),
                m.Roles.Order(StringComparer.Ordinal).ToList(), oldest is not null && m.UniqueAddress.Equals(oldest.UniqueAddress)))
            .ToList();
    }

    /// <summary>The member an operator names: its full address (<c>akka.tcp://cis490@HOST:PORT</c>), or <c>HOST:PORT</c>.</summary>
    public static Member? ResolveMember(IEnumerable<Member> members, string text, out Refusal? problem)
    {
        problem = null;
        var wanted = HostPort(text.Trim());
        if (wanted is null)
        {
            problem = new(ErrorKind.Invalid, $"'{text}' is not a member address: give akka.tcp://SYSTEM@HOST:PORT or HOST:PORT (see 'cluster show')");
            return null;
        }
        var all = members.ToList();
        var match = all.FirstOrDefault(m => HostPort(m.Address.ToString()) == wanted);
        if (match is null)
            problem = new(ErrorKind.NotFound,
                $"no cluster member at {text}; members: {(all.Count == 0 ? "none" : string.Join(", ", all.Select(m => m.Address.ToString())))}");
        return match;
    }

    /// <summary>HOST:PORT of an address with or without protocol and system name; null when it has no port.</summary>
    private static string? HostPort(string address)
    {
        var at = address.LastIndexOf('@');
        var rest = at >= 0 ? address[(at + 1)..] : address.Contains("://", StringComparison.Ordinal) ? null : address;
        if (rest is null) return null;
        rest = rest.TrimEnd('/');
        var colon = rest.LastIndexOf(':');
        return colon > 0 && int.TryParse(rest[(colon + 1)..], out var port) && port is > 0 and <= 65535 ? rest.ToLowerInvariant() : null;
    }

    /// <summary>The address a worker's node actor lives at.</summary>
    public static string AddressOf(IActorRef actor) => actor.Path.Address.ToString();
}
