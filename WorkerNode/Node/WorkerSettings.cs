namespace Cis490.WorkerNode.Node;

/// <summary>Typed settings of a worker node, read once from <c>cis490.worker</c> (hocon/worker.conf says why each value).</summary>
public sealed record WorkerSettings(
    string WorkerId,
    int Slots,
    string DataDir,
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
    TimeSpan RegistrationRefusedLimit = default)
{
    public static WorkerSettings From(Akka.Configuration.Config config, string workerId, string dataDir, string workDir)
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
            c.GetTimeSpan("registration-refused-limit", TimeSpan.FromSeconds(60)));
    }
}
