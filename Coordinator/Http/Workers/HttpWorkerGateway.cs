using Akka.Actor;
using static Cis490.Coordinator.Http.Workers.HttpWorkerCommands;

namespace Cis490.Coordinator.Http.Workers;

/// <summary>The HTTP-worker gateway on the coordinator node (<c>/user/http-workers</c>): one <see cref="HttpWorkerActor"/> per
/// worker id, made on the worker's first claim. It keeps an index of which worker holds which job's lease, so that a request naming
/// only the job (the earlier fleet's workers send no lease id, and perhaps no worker id) reaches the worker it was granted to —
/// and only from the address that claimed it. A request about a lease of a worker it does not know is refused here (409).</summary>
public sealed class HttpWorkerGateway : ReceiveActor
{
    public const string Name = "http-workers";

    /// <summary>Who holds (or last held) a job's lease, and from where it was claimed.</summary>
    private sealed record Holder(string WorkerId, long LeaseId, string ClientAddress, bool Live);

    private readonly Dictionary<string, Holder> _holders = new(StringComparer.Ordinal);
    private readonly Queue<string> _endedOrder = new();
    private readonly int _rememberEnded;

    public HttpWorkerGateway(IActorRef coordinator, HttpSettings settings, int rememberEnded = 4096)
    {
        _rememberEnded = rememberEnded;
        Receive<LeaseBound>(OnBound);
        Receive<ICommand>(m =>
        {
            if (m.WorkerId is null && m is ILeaseCommand anonymous)
            {
                RouteByJob(anonymous);
                return;
            }
            var name = ChildName(m.WorkerId!);
            var child = Context.Child(name);
            if (child.IsNobody())
            {
                if (m is ILeaseCommand l)
                {
                    if (l is Upload u) TryDelete(u.Path);
                    Sender.Tell(new Rejected(RejectKind.StaleLease, l.JobId, l.LeaseId,
                        $"worker {m.WorkerId} holds no lease here (the coordinator restarted, or the worker never claimed); claim again"));
                    return;
                }
                child = Context.ActorOf(HttpWorkerActor.Props(m.WorkerId!, coordinator, settings), name);
            }
            child.Forward(m);
        });
    }

    public static Props Props(IActorRef coordinator, HttpSettings settings) => Akka.Actor.Props.Create(() => new HttpWorkerGateway(coordinator, settings, 4096));

    private void OnBound(LeaseBound b)
    {
        if (b.Live)
        {
            _holders[b.JobId] = new Holder(b.WorkerId, b.LeaseId, b.ClientAddress, true);
            return;
        }
        if (!_holders.TryGetValue(b.JobId, out var h) || h.WorkerId != b.WorkerId || h.LeaseId != b.LeaseId) return;
        _holders[b.JobId] = h with { Live = false };
        _endedOrder.Enqueue(b.JobId);
        while (_endedOrder.Count > _rememberEnded)
        {
            var old = _endedOrder.Dequeue();
            if (_holders.TryGetValue(old, out var o) && !o.Live) _holders.Remove(old);
        }
    }

    /// <summary>A request that names no worker: it is about the job's lease, held by the worker that claimed it from this address.
    /// From another address it is refused (it cannot be that worker's, and fencing must not let it speak for the lease).</summary>
    private void RouteByJob(ILeaseCommand l)
    {
        if (!_holders.TryGetValue(l.JobId, out var h))
        {
            Sender.Tell(new Rejected(RejectKind.StaleLease, l.JobId, l.LeaseId,
                $"no HTTP worker holds job {l.JobId} (its lease ended, or the coordinator node restarted); claim again"));
            return;
        }
        if (h.ClientAddress.Length > 0 && h.ClientAddress != l.ClientAddress && h.Live)
        {
            Sender.Tell(new Rejected(RejectKind.StaleLease, l.JobId, l.LeaseId,
                $"job {l.JobId} is leased to HTTP worker {h.WorkerId}, claimed from {h.ClientAddress}, not from {l.ClientAddress}; " +
                "send the worker_id the claim was made with"));
            return;
        }
        var child = Context.Child(ChildName(h.WorkerId));
        if (child.IsNobody())
        {
            Sender.Tell(new Rejected(RejectKind.StaleLease, l.JobId, l.LeaseId, $"lease {h.LeaseId} of job {l.JobId} has ended; claim again"));
            return;
        }
        child.Forward(l);
    }

    /// <summary>Worker ids are checked by the endpoints (letters, digits, '.', '_', '-'), so they are valid actor names as they are.</summary>
    private static string ChildName(string workerId) => "w-" + workerId;

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { }
    }
}
