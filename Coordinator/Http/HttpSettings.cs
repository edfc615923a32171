using System.Net;

namespace Cis490.Coordinator.Http;

/// <summary>Typed settings of the HTTP API, read once from <c>cis490.http</c> (hocon/coordinator.conf says why each value).</summary>
public sealed record HttpSettings(
    int Port,
    string Bind,
    long MaxUploadBytes,
    long MaxBodyBytes,
    TimeSpan AskTimeout,
    TimeSpan ClaimWait,
    TimeSpan RegisterInterval,
    TimeSpan UploadKeepAliveInterval,
    TimeSpan UploadAckTimeout,
    TimeSpan WorkerIdleTimeout,
    string DataDir,
    TimeSpan HeartbeatDeadline,
    bool V1Anonymous = false,
    long MaxRequestLine = 8 * 1024,
    long MaxHeaderBytes = 32 * 1024,
    TimeSpan ClaimPollInterval = default,
    TimeSpan RetryAfter = default,
    TimeSpan LegacyHeartbeatDeadline = default)
{
    /// <summary>Whether the coordinator serves HTTP at all (port 0: no).</summary>
    public bool Enabled => Port > 0;

    /// <summary>Where uploads are spooled (and hashed) before they are streamed to the artifact store.</summary>
    public string SpoolDir => Path.Combine(DataDir, "http-incoming");

    /// <summary>The address to listen on; a host name other than <c>localhost</c> is refused (bind to an address, not a name).</summary>
    public IPAddress BindAddress =>
        Bind == "localhost" ? IPAddress.Loopback
        : IPAddress.TryParse(Bind, out var a) ? a
        : throw new Shared.Cli.CliException($"--http-bind / cis490.http.bind '{Bind}' is not an IP address (use 127.0.0.1, 0.0.0.0 or an interface address)");

    /// <summary>Whether the bind address is loopback only (127.0.0.0/8, ::1, localhost).</summary>
    public bool IsLoopback => IPAddress.IsLoopback(BindAddress);

    /// <summary>Null when the settings may be served together; otherwise why not (a usage error before anything starts).</summary>
    public string? Refusal() =>
        Enabled && V1Anonymous && !IsLoopback
            ? $"--v1-anonymous (cis490.http.v1-anonymous) with --http-bind {Bind} is refused: anonymous /v1 worker endpoints on an address " +
              "other machines reach would let anyone on that network speak for HTTP leases, and the API has no TLS yet. Give the " +
              "earlier fleet's workers the worker token (docs/http-api.md, \"Upgrading old workers\"), or bind to 127.0.0.1 and " +
              "put the workers behind a local proxy"
            : null;

    public static HttpSettings From(Akka.Configuration.Config config)
    {
        var c = config.GetConfig("cis490.http")
                ?? throw new InvalidOperationException("HOCON has no cis490.http section (is coordinator.conf loaded?)");
        var dataDir = config.GetString("cis490.coordinator.data-dir", "data");
        return new HttpSettings(
            c.GetInt("port"),
            c.GetString("bind"),
            c.GetByteSize("max-upload-size") ?? throw new InvalidOperationException("cis490.http.max-upload-size is missing"),
            c.GetByteSize("max-body-size") ?? throw new InvalidOperationException("cis490.http.max-body-size is missing"),
            c.GetTimeSpan("ask-timeout"),
            c.GetTimeSpan("claim-wait"),
            c.GetTimeSpan("register-interval"),
            c.GetTimeSpan("upload-keepalive-interval"),
            c.GetTimeSpan("upload-ack-timeout"),
            c.GetTimeSpan("worker-idle-timeout"),
            Path.GetFullPath(dataDir),
            config.GetTimeSpan("cis490.coordinator.heartbeat-deadline", TimeSpan.FromSeconds(30)),
            c.GetBoolean("v1-anonymous", false),
            c.GetByteSize("max-request-line") ?? 8 * 1024,
            c.GetByteSize("max-header-bytes") ?? 32 * 1024,
            Positive(c, "claim-poll-interval"),
            Positive(c, "retry-after"),
            Positive(c, "legacy-heartbeat-deadline"));
    }

    private static TimeSpan Positive(Akka.Configuration.Config c, string key)
    {
        var value = c.GetTimeSpan(key, TimeSpan.Zero);
        return value > TimeSpan.Zero ? value
            : throw new Shared.Cli.CliException($"cis490.http.{key} must be a positive duration (hocon/coordinator.conf), got '{c.GetString(key, "")}'");
    }
}
