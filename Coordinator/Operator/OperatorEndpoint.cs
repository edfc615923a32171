using Akka.Actor;
using Cis490.Protocols.Operator;

namespace Cis490.Coordinator.Operator;

/// <summary>The coordinator node's door for operator tools: registered with the ClusterClientReceptionist as <c>/user/operator</c>,
/// it forwards requests to the JobCoordinator singleton wherever it runs, so replies go straight back to the tool.</summary>
public sealed class OperatorEndpoint : ReceiveActor
{
    public const string Name = "operator";

    public OperatorEndpoint(IActorRef coordinatorProxy)
    {
        Receive<OperatorProtocol.SubmitManifest>(m => coordinatorProxy.Forward(m));
        Receive<OperatorProtocol.ListJobs>(m => coordinatorProxy.Forward(m));
        Receive<OperatorProtocol.CancelJob>(m => coordinatorProxy.Forward(m));
        Receive<OperatorProtocol.RequeueJob>(m => coordinatorProxy.Forward(m));
        Receive<OperatorProtocol.ReloadManifest>(m => coordinatorProxy.Forward(m));
        Receive<OperatorQueries.GetStatus>(m => coordinatorProxy.Forward(m));
        Receive<OperatorQueries.ShowJob>(m => coordinatorProxy.Forward(m));
        Receive<OperatorQueries.ListWorkers>(m => coordinatorProxy.Forward(m));
        Receive<OperatorQueries.ListArtifacts>(m => coordinatorProxy.Forward(m));
        Receive<OperatorQueries.GetArtifact>(m => coordinatorProxy.Forward(m));
        Receive<OperatorQueries.GetJobLogs>(m => coordinatorProxy.Forward(m));
        Receive<OperatorQueries.ShowCluster>(m => coordinatorProxy.Forward(m));
        Receive<OperatorQueries.ChangeMember>(m => coordinatorProxy.Forward(m));
    }

    public static Props Props(IActorRef coordinatorProxy) => Akka.Actor.Props.Create(() => new OperatorEndpoint(coordinatorProxy));
}
