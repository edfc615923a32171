using System.Globalization;
using System.Text;
using Cis490.Protocols.Operator;
using Cis490.Protocols.Workers;
using Cis490.Shared.Jobs;
using Cis490.Shared.Models;
using static Cis490.Protocols.Operator.OperatorQueries;

namespace Cis490.Shell.Render;

/// <summary>The coordinator's replies as text for people. Pure functions of the reply (and of "now", for ages).</summary>
public static class Views
{
    public static string Status(StatusView s)
    {
        var sb = new StringBuilder();
        var up = s.Members.Count(m => m.Status == "up");
        var unreachable = s.Members.Count(m => !m.Reachable);
        sb.AppendLine($"cluster:  {s.Members.Count} member(s), {up} up{(unreachable > 0 ? $", {unreachable} UNREACHABLE" : "")}");
        sb.AppendLine($"workers:  {s.Workers} registered, {s.FreeSlots} free slot(s)");
        var counts = string.Join(", ", s.JobCounts.Where(kv => kv.Value > 0).Select(kv => $"{kv.Value} {kv.Key}"));
        sb.AppendLine($"jobs:     {(counts.Length > 0 ? counts : "none")}{(s.Unschedulable > 0 ? $" ({s.Unschedulable} pending cannot run on any current worker)" : "")}");
        sb.AppendLine();
        sb.Append(Members(s.Members));
        return sb.ToString();
    }

    public static string Members(IReadOnlyList<MemberView> members) =>
        members.Count == 0
            ? "(no cluster members visible from the coordinator)\n"
            : TextTable.Render(["ADDRESS", "STATUS", "REACHABLE", "ROLES", "OLDEST"],
                members.Select(m => (IReadOnlyList<string>)[m.Address, m.Status, m.Reachable ? "yes" : "NO", string.Join(",", m.Roles), m.IsOldest ? "*" : ""]));

    /// <summary>The coordinator's health: serving (with its journal position), or restarting on its node and why.</summary>
    public static string Health(CoordinatorHealth h)
    {
        var sb = new StringBuilder();
        if (h.Restarting)
            sb.AppendLine("coordinator: RESTARTING (not serving; its node starts it again with a backoff)");
        else
            sb.AppendLine($"coordinator: serving - {h.Jobs} job(s), {h.LiveLeases} live lease(s), {h.Workers} worker(s)");
        if (!h.Restarting)
            sb.AppendLine($"journal:     event {h.JournalSequenceNr}, {h.WritesInFlight} write(s) in flight{(h.WritesInFlight > 100 ? " (many: is the journal stuck?)" : "")}");
        sb.AppendLine($"restarts:    {h.Restarts} since its node started{(h.FailedStarts > 0 ? $", {h.FailedStarts} failed start(s) in a row" : "")}");
        if (h.LastFailure is { Length: > 0 } why) sb.AppendLine($"last failure: {why}");
        return sb.ToString();
    }

    public static string Cluster(ClusterView c) => $"leader: {(c.Leader.Length > 0 ? c.Leader : "(none)")}\n" + Members(c.Members);

    public static string Workers(WorkerList list)
    {
        if (list.Workers.Count == 0) return "no workers registered\n";
        var table = TextTable.Render(["WORKER", "ADDRESS", "HOST", "CORES", "RAM", "CUDA", "FAMILIES", "ENGINES", "SLOTS", "RUNNING", "LAST SEEN", "STATE"],
            list.Workers.Select(w => (IReadOnlyList<string>)
            [
                w.WorkerId, w.Address, w.Capability.Hostname, w.Capability.Cores.ToString(CultureInfo.InvariantCulture),
                $"{TextTable.Num(w.Capability.RamGib, "F1")} GiB",
                w.Capability.Cuda ? $"{w.Capability.CudaDevice ?? "yes"} ({TextTable.Num(w.Capability.VramGib, "F1")} GiB)" : "no",
                Families(w.Capability), Engines(w.Capability),
                $"{w.RunningJobIds.Count}/{w.Slots}", string.Join(",", w.RunningJobIds.Select(JobIds.Short)),
                TextTable.Ago(w.LastSeen, list.At), w.Draining ? "draining" : "active",
            ]));
        // Why a worker cannot train a family, and why its CUDA is off, each on a line of its own: too long for a column.
        var notes = new StringBuilder();
        foreach (var w in list.Workers)
        {
            foreach (var (family, why) in (w.Capability.Unavailable ?? new Dictionary<string, string>()).OrderBy(u => u.Key, StringComparer.Ordinal))
                notes.AppendLine($"{w.WorkerId}: cannot train {family}: {why}");
            if (!w.Capability.Cuda && w.Capability.CudaNote is { Length: > 0 } note)
                notes.AppendLine($"{w.WorkerId}: cuda: false ({note})");
        }
        return notes.Length == 0 ? table : table + "\n" + notes;
    }

    /// <summary>The families a worker advertises: "all 8", "7/8 (no gbt)", or "all (not self-tested)" for a worker that did not say.</summary>
    public static string Families(WorkerCapability c)
    {
        if (c.Families is null) return "all (not self-tested)";
        var all = ModelCatalog.All.Keys.Order(StringComparer.Ordinal).ToList();
        var missing = all.Where(f => !c.CanTrain(f)).ToList();
        return missing.Count == 0 ? $"all {all.Count}" : $"{all.Count - missing.Count}/{all.Count} (no {string.Join(",", missing)})";
    }

    /// <summary>The engines a worker loaded in its self-test, with their versions.</summary>
    public static string Engines(WorkerCapability c) =>
        $"torch {(c.TorchVersion is { Length: > 0 } t ? t : "none")}, xgboost {c.XgboostVersion ?? "none"}";

    public static string Artifacts(ArtifactList list) =>
        list.Artifacts.Count == 0
            ? "no artifacts stored\n"
            : TextTable.Render(["SHA256", "MODEL", "MODE", "JOB", "SIZE", "STORED", "DATA SET"],
                list.Artifacts.Select(a => (IReadOnlyList<string>)
                [
                    a.Sha256[..16], a.Model, a.Mode, JobIds.Short(a.JobId), TextTable.Bytes(a.Bytes), TextTable.Time(a.StoredAt),
                    a.DataSet is { Length: >= 12 } d ? d[..12] : "",
                ]));

    /// <summary>The published data sets, oldest first; the last is what a job that names none is bound to.</summary>
    public static string DataSets(Protocols.DataSets.DataSetProtocol.DataSetList list) =>
        list.DataSets.Count == 0
            ? "no data set published (jobs train on each worker's --data folder); publish one with './cis490 data publish DIR --coordinator HOST:PORT'\n"
            : TextTable.Render(["SHA256", "NAME", "FILES", "SIZE", "PACKED", "PUBLISHED", "LATEST"],
                list.DataSets.Select((d, i) => (IReadOnlyList<string>)
                [
                    d.Sha256[..16], d.Name ?? "", d.Files.ToString(CultureInfo.InvariantCulture), TextTable.Bytes(d.ContentBytes),
                    TextTable.Bytes(d.BundleBytes), TextTable.Time(d.PublishedAt), i == list.DataSets.Count - 1 ? "*" : "",
                ]));

    public static string Job(JobDetail d)
    {
        var j = d.Job;
        var s = d.Spec;
        var needs = s.Needs;
        var constraints = needs.IsNone ? null : string.Join(", ", new[]
        {
            needs.RequireCuda ? "requires CUDA" : null, needs.PreferCuda ? "prefers CUDA" : null,
            needs.MinVramGib > 0 ? $"≥ {TextTable.Num(needs.MinVramGib, "F1")} GiB VRAM" : null,
            needs.MinRamGib > 0 ? $"≥ {TextTable.Num(needs.MinRamGib, "F1")} GiB RAM" : null,
            needs.AllowedHosts.Count > 0 ? $"hosts {string.Join(",", needs.AllowedHosts)}" : null,
        }.Where(x => x is not null));
        var lease = j.WorkerId is not null && j.Status is "leased" or "running" ? $", lease {j.LeaseId} on {j.WorkerId}" : "";
        var sb = new StringBuilder(TextTable.Fields(
        [
            ("job", j.JobId),
            ("model", $"{j.Model} {j.Mode}  hyper {j.HyperJson}"),
            ("status", $"{j.Status} (failed attempts {j.FailedAttempts}/{j.MaxAttempts}{lease})"),
            ("data set", s.DataSet ?? "none bound (trained on the worker's --data folder)"),
            ("split", $"{s.SplitRecipe}  train hosts {(s.TrainHosts.Count > 0 ? string.Join(",", s.TrainHosts) : "(all)")}  seed {s.Seed}  priority {s.Priority}"),
            ("placement", constraints),
            ("added", TextTable.Time(j.AddedAt)),
            ("started", TextTable.Time(j.StartedAt)),
            ("finished", TextTable.Time(j.FinishedAt)),
            ("retry at", TextTable.Time(d.RetryAt)),
            ("cannot run", d.Unschedulable),
            ("progress", j.Progress is { } p ? TextTable.ProgressBar(p) : null),
            ("artifact", j.ArtifactSha256),
            ("metrics", j.Metrics.Count > 0 ? string.Join("  ", j.Metrics.OrderBy(m => m.Key).Select(m => $"{m.Key} {TextTable.Num(m.Value)}")) : null),
            ("last error", j.LastError),
        ]));
        sb.AppendLine();
        sb.Append(d.Attempts.Count == 0
            ? "no attempts yet\n"
            : TextTable.Render(["LEASE", "WORKER", "LEASED", "STARTED", "ENDED", "OUTCOME", "ERROR"],
                d.Attempts.Select(a => (IReadOnlyList<string>)
                [
                    a.LeaseId.ToString(CultureInfo.InvariantCulture), a.WorkerId, TextTable.Time(a.LeasedAt), TextTable.Time(a.StartedAt),
                    TextTable.Time(a.EndedAt), a.Outcome, a.Error ?? "",
                ])));
        return sb.ToString();
    }

    /// <summary>One progress line: <c>#12  10:42:07Z  lease 3  epoch 4/40  loss 0.512  val F1 0.701  8.2s  message</c>.</summary>
    public static string LogLine(LogLine l)
    {
        var p = l.Progress;
        var parts = new List<string>
        {
            $"#{l.Number}", l.At.ToUniversalTime().ToString("HH:mm:ss'Z'", CultureInfo.InvariantCulture), $"lease {l.LeaseId}",
        };
        if (p.TotalEpochs > 0) parts.Add($"epoch {p.Epoch}/{p.TotalEpochs}");
        if (TextTable.Num(p.Loss) is { Length: > 0 } loss) parts.Add($"loss {loss}");
        if (TextTable.Num(p.ValMacroF1) is { Length: > 0 } f1) parts.Add($"val F1 {f1}");
        parts.Add($"{TextTable.Num(p.ElapsedSeconds, "F1")}s");
        if (p.Message.Length > 0) parts.Add(p.Message);
        return string.Join("  ", parts);
    }

    /// <summary>The one-line verdict on a job that ended.</summary>
    public static string Outcome(OperatorProtocol.JobView j) => j.Status switch
    {
        "completed" => $"job {JobIds.Short(j.JobId)} completed: artifact {j.ArtifactSha256}" +
                       (j.Metrics.TryGetValue("val_macro_f1", out var f1) ? $", val macro F1 {TextTable.Num(f1)}" : ""),
        _ => $"job {JobIds.Short(j.JobId)} {j.Status}{(j.LastError is { } e ? $": {e}" : "")}",
    };
}
