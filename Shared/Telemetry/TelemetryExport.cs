using System.Diagnostics.Metrics;
using Akka.Actor;
using Akka.Cluster;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Cis490.Shared.Telemetry;

/// <summary>Typed <c>cis490.telemetry</c> settings (hocon/base.conf says why each value).</summary>
/// <param name="OtlpEndpoint">Where traces go by OTLP (empty: no trace export; OTEL_EXPORTER_OTLP_ENDPOINT is used when this is empty).</param>
/// <param name="OtlpProtocol">grpc or http/protobuf.</param>
/// <param name="MetricsBind">The address a worker's metrics listener binds (loopback unless the operator opens it).</param>
/// <param name="WorkerMetricsPort">The worker's Prometheus listener's port; 0: off.</param>
public sealed record TelemetrySettings(string OtlpEndpoint, string OtlpProtocol, string MetricsBind, int WorkerMetricsPort)
{
    public static TelemetrySettings From(Akka.Configuration.Config config)
    {
        var c = config.GetConfig("cis490.telemetry") ?? throw new InvalidOperationException("HOCON has no cis490.telemetry section (is base.conf loaded?)");
        var endpoint = c.GetString("otlp-endpoint", "");
        if (endpoint.Length == 0) endpoint = Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT") ?? "";
        if (endpoint.Length > 0 && !Uri.TryCreate(endpoint, UriKind.Absolute, out _))
            throw new Cli.CliException($"cis490.telemetry.otlp-endpoint must be an absolute URI such as http://127.0.0.1:4317, got '{endpoint}'");
        var protocol = c.GetString("otlp-protocol", "grpc");
        if (protocol is not ("grpc" or "http/protobuf"))
            throw new Cli.CliException($"cis490.telemetry.otlp-protocol must be grpc or http/protobuf, got '{protocol}'");
        var port = c.GetInt("worker-metrics-port", 0);
        if (port is < 0 or > 65535) throw new Cli.CliException($"cis490.telemetry.worker-metrics-port must be a TCP port or 0 (off), got {port}");
        return new TelemetrySettings(endpoint, protocol, c.GetString("metrics-bind", "127.0.0.1"), port);
    }
}

/// <summary>Starts what exports the product's telemetry on a node: OTLP traces when an endpoint is configured, and a worker's
/// Prometheus listener when a port is. The coordinator's <c>/metrics</c> is on its HTTP API (Coordinator/Http).</summary>
public static class TelemetryExport
{
    /// <summary>A tracer provider exporting <see cref="JobTracing"/>'s spans by OTLP, or null when no endpoint is configured.</summary>
    public static TracerProvider? StartTracing(TelemetrySettings settings, string serviceName)
    {
        if (settings.OtlpEndpoint.Length == 0) return null;
        return Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(ResourceBuilder.CreateDefault().AddService(serviceName))
            .AddSource(JobTracing.SourceName)
            .AddOtlpExporter(o =>
            {
                o.Protocol = settings.OtlpProtocol == "grpc" ? OtlpExportProtocol.Grpc : OtlpExportProtocol.HttpProtobuf;
                o.Endpoint = TracesEndpoint(settings);
            })
            .Build();
    }

    /// <summary>The exporter's endpoint. Over http/protobuf an endpoint set in code is used as it is, so a collector's base
    /// address (<c>http://collector:4318</c>, as OTEL_EXPORTER_OTLP_ENDPOINT is written) gets the traces path <c>/v1/traces</c>.</summary>
    public static Uri TracesEndpoint(TelemetrySettings settings)
    {
        var uri = new Uri(settings.OtlpEndpoint);
        return settings.OtlpProtocol == "http/protobuf" && uri.AbsolutePath == "/" ? new Uri(uri, "v1/traces") : uri;
    }

    /// <summary>A worker's metrics on <c>http://BIND:PORT/metrics</c>, or null when the port is 0 (the default).</summary>
    public static MeterProvider? StartWorkerMetrics(TelemetrySettings settings)
    {
        if (settings.WorkerMetricsPort == 0) return null;
        return Sdk.CreateMeterProviderBuilder()
            .AddMeter(Cis490Metrics.MeterName)
            .AddPrometheusHttpListener(o =>
            {
                o.Host = settings.MetricsBind;
                o.Port = settings.WorkerMetricsPort;
                o.ScrapeEndpointPath = "/metrics";
            })
            .Build();
    }

    /// <summary>Reports <paramref name="system"/>'s view of the cluster to <c>cis490_cluster_members</c> (by member status and
    /// reachability: at most 7 × 2 series) until the system terminates.</summary>
    public static void ReportMembers(ActorSystem system)
    {
        var cluster = Cluster.Get(system);
        var report = Cis490Metrics.ReportMembers(() => Members(cluster.State));
        system.WhenTerminated.ContinueWith(_ => report.Dispose());
    }

    public static IEnumerable<Measurement<long>> Members(ClusterEvent.CurrentClusterState state)
    {
        var unreachable = state.Unreachable;
        return state.Members
            .GroupBy(m => (Status: m.Status.ToString().ToLowerInvariant(), Reachable: !unreachable.Contains(m)))
            .Select(g => new Measurement<long>(g.Count(),
                new KeyValuePair<string, object?>("status", g.Key.Status),
                new KeyValuePair<string, object?>("reachability", g.Key.Reachable ? "reachable" : "unreachable")));
    }
}
