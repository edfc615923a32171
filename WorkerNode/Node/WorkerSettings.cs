namespace Cis490.WorkerNode.Node;

/// <summary>Typed settings of a worker node, read once from <c>cis490.worker</c> (hocon/worker.conf says why each value).</summary>
/// <param name="DataDir">The <c>--data</c> folder: a pre-seeded data set (used without a transfer when a job is bound to its content
/// hash) and what a job bound to no data set trains on; null when the worker was given none.</param>
public sealed record WorkerSettings(
    string WorkerId,
    int Slots,
    string? DataDir,
    string WorkDir,
    TimeSpan RegisterInterval,
    TimeSpan HeartbeatInterval,
    TimeSpan UploadAckTimeout,
    int UploadAttempts,
    TimeSpan TrainerStopGrace,
    TimeSpan CoordinatorAbsentTimeout,
    TimeSpan DrainGrace,
    TimeSpan TrainerSilenceLimit,
    TimeSpan CoordinatorLostKeep,
    TimeSpan RegistrationRefusedLimit = default,
    DataCacheSettings? DataCache = null)
{
    /// <summary>The data-set cache's settings (defaults when built by hand in a test).</summary>
    public DataCacheSettings Cache => DataCache ?? DataCacheSettings.Default;

    /// <summary>Where pulled data sets are kept: <c>WORK-DIR/data-sets/&lt;content hash&gt;/</c>.</summary>
    public string DataCacheDir => Path.Combine(WorkDir, "data-sets");

    public static WorkerSettings From(Akka.Configuration.Config config, string workerId, string? dataDir, string workDir)
    {
        var c = config.GetConfig("cis490.worker")
                ?? throw new InvalidOperationException("HOCON has no cis490.worker section (is worker.conf loaded?)");
        return new WorkerSettings(
            workerId,
            c.GetInt("slots"),
            dataDir,
            workDir,
            c.GetTimeSpan("register-interval"),
            c.GetTimeSpan("heartbeat-interval"),
            c.GetTimeSpan("upload-ack-timeout"),
            c.GetInt("upload-attempts"),
            c.GetTimeSpan("trainer-stop-grace"),
            c.GetTimeSpan("coordinator-absent-timeout"),
            c.GetTimeSpan("drain-grace"),
            c.GetTimeSpan("trainer-silence-limit"),
            c.GetTimeSpan("coordinator-lost-keep"),
            c.GetTimeSpan("registration-refused-limit", TimeSpan.FromSeconds(60)),
            DataCacheSettings.From(c));
    }
}

/// <summary>The data-set cache's settings (<c>cis490.worker.data-cache</c>; hocon/worker.conf says why each value).</summary>
/// <param name="MaxBytes">Past this many bytes of unpacked data sets, the least recently used ones not in use are evicted.</param>
/// <param name="FetchAttempts">Transfers of one data set (dropped or refused for a bad hash) before the leases waiting for it fail.</param>
/// <param name="RetryDelay">Pause before a dropped transfer is resumed.</param>
/// <param name="IdleTimeout">A transfer (or the coordinator's answer to a fetch) silent for this long is dropped and resumed.</param>
public sealed record DataCacheSettings(long MaxBytes, int FetchAttempts, TimeSpan RetryDelay, TimeSpan IdleTimeout)
{
    public static readonly DataCacheSettings Default = new(20L << 30, 5, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(30));

    public static DataCacheSettings From(Akka.Configuration.Config worker)
    {
        var max = worker.GetByteSize("data-cache-size") ?? Default.MaxBytes;
        var attempts = worker.GetInt("data-fetch-attempts", Default.FetchAttempts);
        if (max <= 0) throw new InvalidOperationException($"cis490.worker.data-cache-size must be positive, got {max}");
        if (attempts < 1) throw new InvalidOperationException($"cis490.worker.data-fetch-attempts must be 1 or more, got {attempts}");
        return new DataCacheSettings(max, attempts, worker.GetTimeSpan("data-fetch-retry-delay", Default.RetryDelay),
            worker.GetTimeSpan("data-fetch-idle-timeout", Default.IdleTimeout));
    }
}
