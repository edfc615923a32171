namespace Cis490.Protocols.Workers;

/// <summary>Messages between a worker node and the JobCoordinator about membership and leases.</summary>
public static class WorkerProtocol
{
    /// <summary>Worker → coordinator, at start and every re-register interval: who I am, how many slots, which leases I hold.
    /// The sender is the worker node actor; re-registering is idempotent and survives a coordinator restart or hand-over.</summary>
    /// <param name="Draining">The node is shutting down: it takes no new leases, and hands back what it cannot finish.</param>
    /// <param name="LastLeaseSeen">The highest lease id this worker incarnation has received (0: none, or a worker that predates
    /// the field). A lease granted to it up to that id that is not in <paramref name="Held"/> is not running there: the
    /// coordinator ends it at once. A lease above it may still be on its way, so it is left alone.</param>
    public sealed record Register(string WorkerId, WorkerCapability Capability, int Slots, IReadOnlyList<HeldLease> Held, bool Draining = false,
        long LastLeaseSeen = 0)
        : ICis490Message;

    /// <summary>A lease the worker says it is running.</summary>
    public sealed record HeldLease(string JobId, long LeaseId) : ICis490Message;

    /// <summary>Coordinator → worker: this registration is not accepted (<paramref name="Kind"/> <see cref="ErrorKind.Conflict"/>:
    /// the worker id is held by another live node). The worker keeps asking at its register interval and stops, loudly, when
    /// the refusal lasts (worker.conf registration-refused-limit).</summary>
    public sealed record RegistrationRefused(string WorkerId, string Reason, ErrorKind Kind) : ICis490Message;

    /// <summary>Coordinator → worker: registration seen.</summary>
    public sealed record Registered(string WorkerId, int RunningLeases) : ICis490Message;

    /// <summary>Coordinator → worker: run this job under this lease id.</summary>
    public sealed record Lease(Jobs.JobSpec Job, long LeaseId) : IWithLease
    {
        public string JobId => Job.JobId;
    }

    /// <summary>Worker → coordinator: the lease was not taken up (no free slot, draining); not a failed attempt.</summary>
    public sealed record LeaseDeclined(string JobId, long LeaseId, string Reason) : IWithLease;

    /// <summary>Coordinator → worker: stop this lease (it was cancelled, expired or re-leased).</summary>
    public sealed record RevokeLease(string JobId, long LeaseId, string Reason) : IWithLease;

    /// <summary>Worker → coordinator: lease me one job now, if one fits (a pull, for workers that ask rather than offer slots:
    /// the HTTP gateway's workers, which register with no free slot so that no lease is ever pushed to them unasked). The sender
    /// must be the worker's registered actor. The answer is a <see cref="Lease"/> sent to that actor, or <see cref="NoLease"/>.</summary>
    /// <param name="HeartbeatDeadlineSeconds">The heartbeat deadline this worker's leases need (a polling HTTP worker that beats
    /// every 30 s needs more than a worker node's); null: the coordinator's own.</param>
    public sealed record RequestLease(string WorkerId, double? HeartbeatDeadlineSeconds = null) : ICis490Message;

    /// <summary>Coordinator → worker: no job for <see cref="RequestLease"/> now; <paramref name="Reason"/> says why (nothing pending,
    /// backoff, constraints), <paramref name="RetryAfterSeconds"/> when it is worth asking again.</summary>
    public sealed record NoLease(string WorkerId, string Reason, double RetryAfterSeconds) : ICis490Message;
}
