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

    public static void AddServices(IServiceCollection services) =>
        services.AddOpenTelemetry().WithMetrics(m => m.AddMeter(Cis490Metrics.MeterName).AddPrometheusExporter());

    public static void Map(WebApplication app) => app.MapPrometheusScrapingEndpoint(Path);
}
