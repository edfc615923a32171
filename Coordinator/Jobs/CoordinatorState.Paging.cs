using System.Text.RegularExpressions;
using Cis490.Protocols.Jobs;
using Cis490.Protocols.Operator;

namespace Cis490.Coordinator.Jobs;

/// <summary>Answers of any size, decided as plain functions: a job list one page at a time (cursor = the last row's seq, which
/// only grows, so a page never repeats or skips a job that was there when the listing began), and a manifest's acceptance or
/// rejection summarised (counts, the first few ids or errors) so that neither outgrows one message.</summary>
public sealed partial record CoordinatorState
{
    /// <summary>The page of jobs after <see cref="OperatorProtocol.ListJobs.After"/>, at most its limit long (every row when the
    /// limit is null: an older client's unpaged request). Null with <paramref name="problem"/> when the limit is not positive.</summary>
    public OperatorProtocol.JobList? ListJobs(OperatorProtocol.ListJobs m, DateTimeOffset now, out string? problem)
    {
        problem = null;
        if (m.Limit is < 1)
        {
            problem = $"limit must be at least 1, got {m.Limit}";
            return null;
        }
        if (m.Status is null && m.Model is null) return Page(Table.JobsAfter(m.After), m.Limit, Table.Jobs.Count, now); // the index: no scan
        var matching = Table.Jobs.Values
            .Where(j => m.Status is null || j.Status == m.Status)
            .Where(j => m.Model is null || j.Spec.Model == m.Model)
            .ToList();
        var after = m.After ?? long.MinValue;
        return Page(matching.Where(j => j.Seq > after).OrderBy(j => j.Seq), m.Limit, matching.Count, now);
    }

    private OperatorProtocol.JobList Page(IEnumerable<JobState> rows, int? limit, int total, DateTimeOffset now)
    {
        if (limit is not { } n) return new(rows.Select(JobView).ToList(), now, null, total);
        var page = rows.Take(n + 1).ToList(); // one more than asked: whether a next page exists
        var next = page.Count > n ? page[n - 1].Seq : (long?)null;
        if (next is not null) page.RemoveAt(n);
        return new(page.Select(JobView).ToList(), now, next, total);
    }

    /// <summary>A rejection with the first <paramref name="shown"/> errors in full, the total and the count of each kind.</summary>
    public static OperatorProtocol.ManifestRejected Summarise(string fileName, IReadOnlyList<OperatorProtocol.ManifestError> errors, int shown)
    {
        var kinds = errors
            .GroupBy(e => KindOf(e.Message))
            .Select(g => new OperatorProtocol.ErrorKindCount(g.Key, g.Count(), g.First().ToString()))
            .OrderByDescending(k => k.Count)
            .ThenBy(k => k.Kind, StringComparer.Ordinal)
            .ToList();
        return new(fileName, errors.Take(shown).ToList(), errors.Count, kinds);
    }

    /// <summary>An acceptance with the counts and the first <paramref name="shown"/> ids of each list.</summary>
    public static OperatorProtocol.ManifestAccepted Summarise(string fileName, IReadOnlyList<string> added, IReadOnlyList<string> known, int shown) =>
        new(fileName, added.Take(shown).ToList(), known.Take(shown).ToList(), added.Count, known.Count);

    /// <summary>An error's kind: its message with quoted values and numbers masked ("job 'a' has no model" and "job 'b' has no
    /// model" are one kind).</summary>
    public static string KindOf(string message) => Numbers().Replace(Quoted().Replace(message, "'…'"), "N");

    [GeneratedRegex("'[^']*'|\"[^\"]*\"")]
    private static partial Regex Quoted();

    [GeneratedRegex(@"\d+(\.\d+)?")]
    private static partial Regex Numbers();
}
