using Cis490.Shared.Telemetry;
using Cis490.Testing;
using Xunit;

namespace Cis490.Shared.Tests;

/// <summary>The shipped Grafana dashboard is valid JSON, and every query in it names metrics the product exports.</summary>
public sealed class GrafanaDashboardTests
{
    [Fact]
    public void The_dashboard_is_valid_json_and_every_query_names_only_metrics_the_product_exports()
    {
        var dashboard = GrafanaDashboard.Load(); // throws on invalid JSON
        Assert.False(string.IsNullOrWhiteSpace(dashboard.GetProperty("title").GetString()));
        var queries = GrafanaDashboard.Queries(dashboard);
        Assert.True(queries.Count >= 15, $"only {queries.Count} queries");
        var used = new HashSet<string>();
        foreach (var q in queries)
        {
            var metrics = GrafanaDashboard.Metrics(q);
            Assert.True(metrics.Count > 0, $"query names no cis490 metric: {q}");
            foreach (var m in metrics)
            {
                var baseName = Cis490Metrics.Histograms.FirstOrDefault(h => m == h + "_bucket" || m == h + "_sum" || m == h + "_count") ?? m;
                Assert.True(Cis490Metrics.Exported.Contains(baseName) && (baseName == m) != Cis490Metrics.Histograms.Contains(baseName),
                    $"query names {m}, which the product does not export (a histogram is queried as _bucket, _sum or _count): {q}");
                used.Add(baseName);
            }
        }
        // Every panel has a title and a description (docs/metrics.md describes them), and every exported metric is on the dashboard.
        foreach (var p in GrafanaDashboard.Panels(dashboard).Where(p => p.GetProperty("type").GetString() != "row"))
            Assert.False(string.IsNullOrWhiteSpace(p.GetProperty("description").GetString()), $"panel {p.GetProperty("title")} has no description");
        Assert.Empty(Cis490Metrics.Exported.Except(used));
    }
}
