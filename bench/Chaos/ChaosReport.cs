using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Cis490.Bench.Chaos;

/// <summary>Turns the trials and the final job table into the per-fault-type figures: every attempt that ended without
/// completing is charged to the fault that hit it (its lease was live at that fault, or — for a lease granted in the instant
/// before — the fault fell inside the attempt and hit its worker or the coordinator); jobs are charged to every fault type
/// that hit them.</summary>
public sealed class ChaosReport
{
    /// <summary>One fault type's figures (a row of the table and of the JSON).</summary>
    public sealed record Row(
        string Fault, int Planned, int Trials, string? Skipped, int TimedOut, int JobsHit, int JobsLost, int JobsCompletedTwice,
        int InfraAttempts, double TrainerSecondsLost, int ReLeased, int Kept, double? ReLeaseMin, double? ReLeaseMedian,
        double? ReLeaseP99, double? ReLeaseMax, double? ApiBackMedian, double? RejoinMedian, int NotRejoined, int SelfExits);

    /// <summary>Everything the report is made from.</summary>
    public sealed record Input(
        ChaosOptions Options,
        IReadOnlyDictionary<FaultType, int> Planned,
        IReadOnlyDictionary<FaultType, string> Skipped,
        IReadOnlyDictionary<FaultType, (DateTimeOffset From, DateTimeOffset To)> Phases,
        IReadOnlyList<Trial> Trials,
        IReadOnlyList<ChaosApi.JobDetail> Jobs,
        IReadOnlyCollection<string> Acknowledged,
        IReadOnlyDictionary<string, int> IndexRowsPerJob,
        int BadIndexLines,
        IReadOnlyList<Fleet.UnplannedExit> UnplannedExits,
        DateTimeOffset End,
        TimeSpan Wall,
        bool Drained);

    private const string NoFault = "(no fault hit it)";

    public IReadOnlyList<Row> Rows { get; }
    public Row Unattributed { get; }
    private readonly Input _in;

    public ChaosReport(Input input)
    {
        _in = input;
        var jobTypes = new Dictionary<string, HashSet<string>>();
        var attemptsOf = new Dictionary<string, (int Infra, double Seconds)>();
        void Charge(string jobId, string type) => (jobTypes.TryGetValue(jobId, out var s) ? s : jobTypes[jobId] = []).Add(type);

        foreach (var t in input.Trials)
            foreach (var h in t.Hits) Charge(h.JobId, FaultNames.Of(t.Type));

        foreach (var d in input.Jobs)
            foreach (var a in d.Attempts.Where(a => a.Outcome != "completed"))
            {
                var type = ChargedTo(d.Job.JobId, a) is { } t ? FaultNames.Of(t.Type) : NoFault;
                Charge(d.Job.JobId, type);
                var (infra, seconds) = attemptsOf.GetValueOrDefault(type);
                var ran = a.StartedAt is { } s ? ((a.EndedAt ?? input.End) - s).TotalSeconds : 0;
                attemptsOf[type] = (infra + (a.Outcome == "failed" ? 1 : 0), seconds + Math.Max(0, ran));
            }

        var byId = input.Jobs.ToDictionary(d => d.Job.JobId);
        var lost = input.Acknowledged.Concat(byId.Keys).Distinct()
            .Where(id => !byId.TryGetValue(id, out var d) || d.Job.Status != "completed").ToHashSet();
        var twice = byId.Values.Where(d => input.IndexRowsPerJob.GetValueOrDefault(d.Job.JobId) > 1
                                           || d.Attempts.Count(a => a.Outcome == "completed") > 1)
            .Select(d => d.Job.JobId).ToHashSet();
        int CountOf(IEnumerable<string> ids, string type) => ids.Count(id => jobTypes.TryGetValue(id, out var s) ? s.Contains(type) : type == NoFault);

        Rows = Enum.GetValues<FaultType>().Select(type =>
        {
            var name = FaultNames.Of(type);
            var trials = input.Trials.Where(t => t.Type == type).ToList();
            var hits = trials.SelectMany(t => t.Hits).ToList();
            var relet = hits.Where(h => h.Outcome == HitOutcome.ReLeased).Select(h => h.Seconds!.Value).Order().ToList();
            var (infra, seconds) = attemptsOf.GetValueOrDefault(name);
            var phase = input.Phases.TryGetValue(type, out var p) ? p : default;
            var rejoins = trials.Where(t => t.Type is FaultType.WorkerPause or FaultType.Partition).ToList();
            return new Row(name, input.Planned.GetValueOrDefault(type), trials.Count, input.Skipped.GetValueOrDefault(type),
                trials.Count(t => t.TimedOut), jobTypes.Count(kv => kv.Value.Contains(name)), CountOf(lost, name), CountOf(twice, name),
                infra, seconds, relet.Count, hits.Count(h => h.Outcome == HitOutcome.Kept),
                relet.Count > 0 ? relet[0] : null, Median(relet), Percentile(relet, 0.99), relet.Count > 0 ? relet[^1] : null,
                Median(trials.Where(t => t.ApiBackSeconds is not null).Select(t => t.ApiBackSeconds!.Value).Order().ToList()),
                Median(rejoins.Where(t => t.RejoinSeconds is not null).Select(t => t.RejoinSeconds!.Value).Order().ToList()),
                rejoins.Count(t => t.RejoinSeconds is null),
                input.UnplannedExits.Count(e => phase != default && e.At >= phase.From && e.At <= phase.To));
        }).ToList();
        var (ui, us) = attemptsOf.GetValueOrDefault(NoFault);
        Unattributed = new Row(NoFault, 0, 0, null, 0, jobTypes.Count(kv => kv.Value.Contains(NoFault)) + lost.Count(id => !jobTypes.ContainsKey(id)),
            CountOf(lost, NoFault), CountOf(twice, NoFault), ui, us, 0, 0, null, null, null, null, null, null, 0, 0);
    }

    /// <summary>The trial whose fault ended this attempt: its lease was live at the fault, else the fault fell inside the
    /// attempt and hit its worker or the coordinator.</summary>
    private Trial? ChargedTo(string jobId, ChaosApi.Attempt a) =>
        _in.Trials.FirstOrDefault(t => t.Hits.Any(h => h.JobId == jobId && h.LeaseId == a.LeaseId))
        ?? _in.Trials.Where(t => t.At >= a.LeasedAt && t.At <= (a.EndedAt ?? _in.End) && (t.Victim == Fleet.Coordinator || t.Victim == a.WorkerId))
            .OrderBy(t => t.At).FirstOrDefault();

    private static double? Median(IReadOnlyList<double> sorted) => sorted.Count == 0 ? null
        : sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;

    /// <summary>Nearest-rank percentile (with fewer than 100 samples the p99 is the maximum).</summary>
    private static double? Percentile(IReadOnlyList<double> sorted, double p) =>
        sorted.Count == 0 ? null : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];

    private static string S(double? v) => v is { } x ? x.ToString("F1", CultureInfo.InvariantCulture) : "–";

    public string Table()
    {
        var sb = new StringBuilder();
        var totalJobs = _in.Acknowledged.Concat(_in.Jobs.Select(j => j.Job.JobId)).Distinct().Count();
        var completed = _in.Jobs.Count(j => j.Job.Status == "completed");
        sb.AppendLine(CultureInfo.InvariantCulture,
            $"{"fault",-26} {"trials",9} {"timed out",9} {"jobs hit",8} {"lost",5} {"twice",5} {"infra att.",10} {"trainer-s lost",14} {"re-lease s min / median / p99",30} {"kept lease",10} {"self-exits",10}");
        foreach (var r in Rows.Append(Unattributed))
        {
            var trials = r.Fault == NoFault ? "" : $"{r.Trials}/{r.Planned}";
            var lease = r.ReLeased == 0 ? "–" : $"{S(r.ReLeaseMin)} / {S(r.ReLeaseMedian)} / {S(r.ReLeaseP99)} (n={r.ReLeased})";
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"{r.Fault,-26} {trials,9} {(r.Fault == NoFault ? "" : r.TimedOut.ToString(CultureInfo.InvariantCulture)),9} {r.JobsHit,8} {r.JobsLost,5} {r.JobsCompletedTwice,5} {r.InfraAttempts,10} {r.TrainerSecondsLost,14:F1} {lease,30} {(r.Fault == NoFault ? "" : r.Kept.ToString(CultureInfo.InvariantCulture)),10} {(r.Fault == NoFault ? "" : r.SelfExits.ToString(CultureInfo.InvariantCulture)),10}");
        }
        foreach (var r in Rows.Where(r => r.Skipped is not null)) sb.AppendLine($"{r.Fault}: skipped — {r.Skipped}");
        foreach (var r in Rows.Where(r => r.ApiBackMedian is not null))
            sb.AppendLine($"{r.Fault}: fault → /api/health 200 again, median {S(r.ApiBackMedian)} s");
        foreach (var r in Rows.Where(r => r.Fault is "worker SIGSTOP" or "network partition" && r.Trials > 0))
            sb.AppendLine($"{r.Fault}: SIGCONT / link up → worker heard from again (last_seen), median {S(r.RejoinMedian)} s; not within 60 s: {r.NotRejoined}");
        var failedSum = _in.Jobs.Sum(j => j.Job.FailedAttempts);
        sb.AppendLine(
            $"jobs: {totalJobs} submitted, {completed} completed, {_in.Jobs.Count(j => j.Job.Status == "failed")} failed, " +
            $"{totalJobs - _in.Jobs.Count} acknowledged but missing from the job table; Σ failed_attempts {failedSum}; " +
            $"drained: {(_in.Drained ? "yes" : "no (deadline)")}; index rows {_in.IndexRowsPerJob.Values.Sum()}" +
            (_in.BadIndexLines > 0 ? $" (+{_in.BadIndexLines} unreadable lines)" : "") + $"; wall {_in.Wall.TotalMinutes:F1} min");
        return sb.ToString();
    }

    public string Json()
    {
        var o = new JsonObject
        {
            ["benchmark"] = "chaos",
            ["at"] = DateTimeOffset.UtcNow.ToString("O"),
            ["wall_seconds"] = Math.Round(_in.Wall.TotalSeconds, 1),
            ["cores"] = Environment.ProcessorCount,
            ["options"] = JsonSerializer.SerializeToNode(_in.Options, Opts),
            ["re_lease_timing"] = "the coordinator's own log line 'Leased job J to worker W (lease N)' (its timestamp, ms resolution) minus the bench's clock at the signal / link-down",
            ["drained"] = _in.Drained,
            ["jobs_submitted"] = _in.Acknowledged.Concat(_in.Jobs.Select(j => j.Job.JobId)).Distinct().Count(),
            ["jobs_completed"] = _in.Jobs.Count(j => j.Job.Status == "completed"),
            ["sum_failed_attempts"] = _in.Jobs.Sum(j => j.Job.FailedAttempts),
            ["rows"] = JsonSerializer.SerializeToNode(Rows.Append(Unattributed).ToList(), Opts),
            ["trials"] = JsonSerializer.SerializeToNode(_in.Trials, Opts),
            ["unplanned_exits"] = JsonSerializer.SerializeToNode(_in.UnplannedExits, Opts),
        };
        return o.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    private static readonly JsonSerializerOptions Opts = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };
}
