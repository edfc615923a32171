namespace Cis490.Coordinator.Jobs;

/// <summary>Typed settings of the coordinator, read once from <c>cis490.coordinator</c> in HOCON (hocon/coordinator.conf says why each value).</summary>
public sealed record CoordinatorSettings(
    string DataDir,
    TimeSpan HeartbeatDeadline,
    TimeSpan LeaseCheckInterval,
    TimeSpan UploadTimeout,
    int SnapshotEvery,
    string OperatorToken,
    RetryPolicy Retry,
    TimeSpan PreferCudaWait,
    TimeSpan RestartBackoffMin,
    TimeSpan RestartBackoffMax,
    string? ManifestPath = null,
    int JobLogLines = 300,
    int JobLogJobs = 500,
    TimeSpan? OperatorAskTimeout = null,
    TimeSpan RecoveredLeaseGrace = default,
    int RestartLimit = 10,
    TimeSpan? OperatorReadTry = null,
    int ManifestErrorsShown = 50,
    int ManifestIdsShown = 10,
    double SnapshotTableFraction = 0,
    int WriteBatchMaxEvents = 1000,
    double SnapshotTimeShare = 1,
    bool GatherBeforeWrite = true,
    int CollectAfterWriteOf = 0)
{
    private static double SnapshotFraction(Akka.Configuration.Config c)
    {
        var f = c.GetDouble("snapshot-table-fraction", 0);
        return f is >= 0 and <= 10 ? f : throw new InvalidOperationException(
            $"cis490.coordinator.snapshot-table-fraction must be between 0 and 10 (events between snapshots per job in the table), got {f}");
    }

    private static double SnapshotTimeShareFrom(Akka.Configuration.Config c)
    {
        var share = c.GetDouble("snapshot-time-share", 1);
        return share is > 0 and <= 1 ? share : throw new InvalidOperationException(
            $"cis490.coordinator.snapshot-time-share must be above 0 and at most 1 (the most of its time the coordinator spends saving snapshots), got {share}");
    }

    private static int CollectAfterFrom(Akka.Configuration.Config c)
    {
        var events = c.GetInt("collect-after-write-of", 0);
        return events >= 0 ? events : throw new InvalidOperationException(
            $"cis490.coordinator.collect-after-write-of must be 0 (never) or a number of events, got {events}");
    }

    public string ModelsDir => Path.Combine(DataDir, "models");

    /// <summary>Where published data sets are stored, beside the models: <c>data-sets/&lt;content hash&gt;/bundle.tar.zst</c>.</summary>
    public string DataSetsDir => Path.Combine(DataDir, "data-sets");

    /// <summary>The record's members as the compiler would print them, with the operator token left out: settings may be logged,
    /// the token never is.</summary>
    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append($"DataDir = {DataDir}, HeartbeatDeadline = {HeartbeatDeadline}, LeaseCheckInterval = {LeaseCheckInterval}, ");
        builder.Append($"UploadTimeout = {UploadTimeout}, SnapshotEvery = {SnapshotEvery}, OperatorToken = (not shown), Retry = {Retry}, ");
        builder.Append($"PreferCudaWait = {PreferCudaWait}, ManifestPath = {ManifestPath}, RestartLimit = {RestartLimit}");
        return true;
    }

    /// <summary>How long the operator endpoint waits for the coordinator's part of an answer it completes itself (a status).</summary>
    public TimeSpan AskTimeout => OperatorAskTimeout ?? TimeSpan.FromSeconds(5);

    /// <summary>How long one try of a read (a job list, a job, the workers…) waits before the endpoint asks again, within
    /// <see cref="AskTimeout"/>: a request sent while the singleton's node has crashed but is not yet removed is lost.</summary>
    public TimeSpan ReadTry => OperatorReadTry ?? TimeSpan.FromSeconds(1);

    private static int RestartLimitFrom(Akka.Configuration.Config c)
    {
        var limit = c.GetInt("restart-limit", 10);
        return limit >= 1 ? limit : throw new InvalidOperationException($"cis490.coordinator.restart-limit must be 1 or more, got {limit}");
    }

    private static int WriteBatchFrom(Akka.Configuration.Config c)
    {
        var max = c.GetInt("write-batch-max-events", 1000);
        return max >= 1 ? max : throw new InvalidOperationException($"cis490.coordinator.write-batch-max-events must be 1 or more, got {max}");
    }

    public static CoordinatorSettings From(Akka.Configuration.Config config)
    {
        var c = config.GetConfig("cis490.coordinator")
                ?? throw new InvalidOperationException("HOCON has no cis490.coordinator section (is coordinator.conf loaded?)");
        return new CoordinatorSettings(
            Path.GetFullPath(c.GetString("data-dir")),
            c.GetTimeSpan("heartbeat-deadline"),
            c.GetTimeSpan("lease-check-interval"),
            c.GetTimeSpan("upload-timeout"),
            c.GetInt("snapshot-every"),
            c.GetString("operator-token", ""),
            new RetryPolicy(c.GetTimeSpan("retry-backoff-base"), c.GetTimeSpan("retry-backoff-max")),
            c.GetTimeSpan("prefer-cuda-wait"),
            c.GetTimeSpan("restart-backoff-min"),
            c.GetTimeSpan("restart-backoff-max"),
            c.GetString("manifest", "") is { Length: > 0 } manifest ? Path.GetFullPath(manifest) : null,
            c.GetInt("job-log.lines-per-job", 300),
            c.GetInt("job-log.jobs", 500),
            c.GetTimeSpan("operator-ask-timeout", TimeSpan.FromSeconds(5)),
            c.GetTimeSpan("recovered-lease-grace", TimeSpan.FromMinutes(2)),
            RestartLimitFrom(c),
            c.GetTimeSpan("operator-read-try", TimeSpan.FromSeconds(1)),
            c.GetInt("manifest-errors-shown", 50),
            c.GetInt("manifest-ids-shown", 10),
            SnapshotFraction(c),
            WriteBatchFrom(c),
            SnapshotTimeShareFrom(c),
            c.GetBoolean("gather-before-write", true),
            CollectAfterFrom(c));
    }
}
