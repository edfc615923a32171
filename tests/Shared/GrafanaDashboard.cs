using System.Text.Json;
using System.Text.RegularExpressions;

namespace Cis490.Testing;

/// <summary>The Grafana dashboard the product ships (<c>deploy/grafana/cis490-fleet.json</c>), for the tests that check it.</summary>
public static partial class GrafanaDashboard
{
    /// <summary>The dashboard file, found from the test's folder up to the repository root (where Cis490.Actors.sln is).</summary>
    public static string PathInRepo()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Cis490.Actors.sln")))
                return System.IO.Path.Combine(dir.FullName, "deploy", "grafana", "cis490-fleet.json");
        throw new FileNotFoundException($"no Cis490.Actors.sln above {AppContext.BaseDirectory}: cannot find deploy/grafana/cis490-fleet.json");
    }

    public static JsonElement Load() => JsonDocument.Parse(File.ReadAllText(PathInRepo())).RootElement;

    /// <summary>Every panel's PromQL expressions (rows included).</summary>
    public static IReadOnlyList<string> Queries(JsonElement dashboard) =>
        Panels(dashboard).SelectMany(p => p.TryGetProperty("targets", out var t) ? t.EnumerateArray() : Enumerable.Empty<JsonElement>())
            .Select(t => t.GetProperty("expr").GetString()!).ToList();

    public static IEnumerable<JsonElement> Panels(JsonElement dashboard)
    {
        foreach (var p in dashboard.GetProperty("panels").EnumerateArray())
        {
            yield return p;
            if (p.TryGetProperty("panels", out var nested))
                foreach (var n in nested.EnumerateArray()) yield return n;
        }
    }

    /// <summary>The metric names a query mentions (<c>cis490_…</c> identifiers, not labels: a label is followed by = or ~ or is
    /// inside by (…)).</summary>
    public static IReadOnlyList<string> Metrics(string expr) => MetricName().Matches(expr).Select(m => m.Value).Distinct().ToList();

    [GeneratedRegex(@"\bcis490_[a-z0-9_]+")]
    private static partial Regex MetricName();
}
