using System.Globalization;
using System.Text;
using System.Text.Json;
using Cis490.Protocols.Operator;
using Cis490.Protocols.Serialization;
using Cis490.Shared.Jobs;

namespace Cis490.Shell.Commands;

/// <summary>Renders the job table for people (aligned columns) and for scripts (JSON).</summary>
public static class JobsTable
{
    public static string Json(OperatorProtocol.JobList list)
    {
        return JsonSerializer.Serialize(list, Render.TextTable.JsonOptions(indented: true));
    }

    /// <remarks>No test column: training never scores the test split; test figures come from <c>./cis490 eval</c>.</remarks>
    public static string Text(IReadOnlyList<OperatorProtocol.JobView> jobs)
    {
        var rows = new List<string[]> { new[] { "JOB", "MODEL", "MODE", "HYPER", "STATUS", "TRIES", "WORKER", "PROGRESS", "DURATION", "VAL F1", "ARTIFACT" } };
        foreach (var j in jobs)
        {
            var duration = j.StartedAt is { } s ? ((j.FinishedAt ?? DateTimeOffset.UtcNow) - s).TotalSeconds.ToString("F1", CultureInfo.InvariantCulture) + "s" : "";
            var progress = j.Progress is { } p && p.TotalEpochs > 0 ? $"{100.0 * p.Epoch / p.TotalEpochs:F0}%" : j.Status == "completed" ? "100%" : "";
            var f1 = j.Metrics.TryGetValue("val_macro_f1", out var v) ? v.ToString("F3", CultureInfo.InvariantCulture)
                : j.Progress?.ValMacroF1?.ToString("F3", CultureInfo.InvariantCulture) ?? "";
            string[] cells =
            [
                JobIds.Short(j.JobId), j.Model, j.Mode, j.HyperJson, j.Status, $"{j.FailedAttempts}/{j.MaxAttempts}", j.WorkerId ?? "",
                progress, duration, f1, j.ArtifactSha256 is { } a ? a[..16] : j.LastError is { } e && j.Status == "failed" ? "error: " + e : "",
            ];
            rows.Add(cells.Select(Shared.Text.SafeText.Escape).ToArray()); // escaped before measuring: aligned, and nothing a terminal acts on
        }
        var widths = Enumerable.Range(0, rows[0].Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
        var sb = new StringBuilder();
        foreach (var r in rows)
            sb.AppendLine(string.Join("  ", r.Select((cell, c) => c == r.Length - 1 ? cell : cell.PadRight(widths[c]))).TrimEnd());
        return sb.ToString();
    }

    /// <summary>One line of counts per status, e.g. "3 completed, 1 running, 4 pending".</summary>
    public static string Summary(IReadOnlyList<OperatorProtocol.JobView> jobs) =>
        string.Join(", ", jobs.GroupBy(j => j.Status).OrderBy(g => g.Key).Select(g => $"{g.Count()} {g.Key}"));
}
