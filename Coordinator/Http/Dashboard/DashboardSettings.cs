namespace Cis490.Coordinator.Http.Dashboard;

/// <summary>Typed settings of the dashboard, read once from <c>cis490.http.dashboard</c> (hocon/coordinator.conf says why each value).</summary>
public sealed record DashboardSettings(
    TimeSpan SnapshotInterval,
    TimeSpan QueryTimeout,
    TimeSpan ClientRetry,
    TimeSpan GoneLinger,
    int MaxCurves,
    int MaxCurvePoints,
    int SubscriberBuffer,
    int MaxJobDetails,
    string EvaluationDir,
    int MaxJobs = 500)
{
    public static DashboardSettings From(Akka.Configuration.Config config, string dataDir)
    {
        var c = config.GetConfig("cis490.http.dashboard")
                ?? throw new InvalidOperationException("HOCON has no cis490.http.dashboard section (is coordinator.conf loaded?)");
        var settings = new DashboardSettings(
            c.GetTimeSpan("snapshot-interval"),
            c.GetTimeSpan("query-timeout"),
            c.GetTimeSpan("client-retry"),
            c.GetTimeSpan("gone-linger"),
            c.GetInt("max-curves"),
            c.GetInt("max-curve-points"),
            c.GetInt("subscriber-buffer"),
            c.GetInt("max-job-details"),
            Path.GetFullPath(Path.Combine(dataDir, c.GetString("evaluation-dir", "reports/eval"))),
            c.GetInt("max-jobs", 500));
        if (settings.SnapshotInterval <= TimeSpan.Zero) throw new InvalidOperationException("cis490.http.dashboard.snapshot-interval must be positive");
        if (settings.MaxJobs < 1) throw new InvalidOperationException("cis490.http.dashboard.max-jobs must be at least 1");
        if (settings.MaxCurves < 1 || settings.MaxCurvePoints < 1 || settings.SubscriberBuffer < 4)
            throw new InvalidOperationException("cis490.http.dashboard: max-curves and max-curve-points must be at least 1, subscriber-buffer at least 4");
        return settings;
    }
}
