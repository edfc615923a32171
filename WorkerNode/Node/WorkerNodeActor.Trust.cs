using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Cis490.Protocols;
using Cis490.Protocols.Workers;

namespace Cis490.WorkerNode.Node;

/// <summary>Whom the node trusts: lease commands only from the coordinator, and what it does when the coordinator refuses its
/// registration.</summary>
public sealed partial class WorkerNodeActor
{
    /// <summary>Whether the sender of a lease or revoke is the coordinator: this node's singleton proxy, or an actor on a member
    /// with the coordinator role (the singleton runs on the oldest of them). Anything else is ignored and logged: a member of the
    /// cluster cannot start or stop training here by sending our messages.</summary>
    private bool FromCoordinator(IWithLease m)
    {
        if (Sender.Equals(_coordinator)) return true;
        var from = Sender.Path.Address;
        if (_coordinators.Any(c => c.Address.Equals(from))) return true;
        // A coordinator node that is leaving (a hand-over) or unreachable is still the coordinator until it is gone: its last
        // leases count (ignored, they would stay granted with nobody running them).
        if (((ExtendedActorSystem)Context.System).Provider is ClusterActorRefProvider &&
            Akka.Cluster.Cluster.Get(Context.System).State is var state &&
            state.Members.Concat(state.Unreachable).Any(mb => mb.Address.Equals(from) && mb.HasRole("coordinator")))
            return true;
        _log.Warning("Ignored {0} for job {1} lease {2} from {3}: not the coordinator (not a coordinator-role member of this cluster)",
            m.GetType().Name, m.JobId, m.LeaseId, Sender.Path);
        return false;
    }

    /// <summary>The coordinator does not take this registration (another live node holds the worker id). Said loudly every time;
    /// the node keeps asking (the holder may be a crashed incarnation not yet noticed) and, refused for longer than
    /// registration-refused-limit, stops with the reason (exit code 4): a second machine with the same --worker-id must not sit
    /// READY and idle.</summary>
    private void RegistrationRefused(WorkerProtocol.RegistrationRefused m)
    {
        var now = DateTimeOffset.UtcNow;
        _refusedSince ??= now;
        _log.Error("The coordinator refused this node's registration as worker {0}: {1}", m.WorkerId, m.Reason);
        if (now - _refusedSince < _settings.RegistrationRefusedLimit) return;
        var why = $"worker {m.WorkerId}: the coordinator has refused this node's registration for {(now - _refusedSince.Value).TotalSeconds:F0} s " +
                  $"(registration-refused-limit): {m.Reason}";
        _log.Error("{0}; stopping", why);
        CoordinatedShutdown.Get(Context.System).Run(new RegistrationRefusedReason(why));
    }

    /// <summary>The reason a node stops when its registration stays refused; the program exits non-zero with its message.</summary>
    public sealed class RegistrationRefusedReason(string message) : CoordinatedShutdown.Reason
    {
        public string Message { get; } = message;

        public override int ExitCode => 4;

        public override string ToString() => Message;
    }
}
