using Akka.Actor;
using static Cis490.Coordinator.Http.Workers.HttpWorkerCommands;

namespace Cis490.Coordinator.Http.Workers;

/// <summary>The HTTP-worker gateway on the coordinator node (<c>/user/http-workers</c>): one <see cref="HttpWorkerActor"/> per
/// worker id, made on the worker's first claim. A request about a lease of a worker it does not know is refused here (409).</summary>
public sealed class HttpWorkerGateway : ReceiveActor
{
    public const string Name = "http-workers";

    public HttpWorkerGateway(IActorRef coordinator, HttpSettings settings)
    {
        Receive<ICommand>(m =>
        {
            var name = ChildName(m.WorkerId);
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
                child = Context.ActorOf(HttpWorkerActor.Props(m.WorkerId, coordinator, settings), name);
            }
            child.Forward(m);
        });
    }

    public static Props Props(IActorRef coordinator, HttpSettings settings) => Akka.Actor.Props.Create(() => new HttpWorkerGateway(coordinator, settings));

    /// <summary>Worker ids are checked by the endpoints (letters, digits, '.', '_', '-'), so they are valid actor names as they are.</summary>
    private static string ChildName(string workerId) => "w-" + workerId;

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { }
    }
}
