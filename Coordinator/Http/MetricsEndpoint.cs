using Cis490.Shared.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;

namespace Cis490.Coordinator.Http;

/// <summary><c>GET /metrics</c>: the product's meter (<see cref="Cis490Metrics"/>) in Prometheus's text format, by OpenTelemetry's
/// Prometheus exporter. Open like a health check (counts and timings only: no job ids, paths or tokens); the API is on loopback
/// unless the operator binds it wider.</summary>
public static class MetricsEndpoint
{
    public const string Path = "/metrics";

    /// <summary>.NET's own runtime meter (GC heap sizes and collections, working set, thread pool, JIT): with the product's meter it
    /// says what the coordinator's memory is made of (bench scale reads the GC heap from it).</summary>
    public const string RuntimeMeter = "System.Runtime";

    public static void AddServices(IServiceCollection services) =>
        services.AddOpenTelemetry().WithMetrics(m => m.AddMeter(Cis490Metrics.MeterName, RuntimeMeter).AddPrometheusExporter());

    public static void Map(WebApplication app) => app.MapPrometheusScrapingEndpoint(Path);
}
