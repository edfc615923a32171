using Akka.Actor;
using Akka.Cluster;
using Cis490.Protocols;
using Cis490.Protocols.Operator;
using Cis490.Shared.Diagnostics;
using static Cis490.Protocols.Diagnostics.DiagnosticsProtocol;

namespace Cis490.Coordinator.Operator;

/// <summary>The diagnostics palettes: <c>log peek/tail NODE</c> and <c>actor hierarchy NODE</c> go to the named member's
/// <c>/user/diagnostics</c> (<see cref="NodeDiagnostics"/>); <c>cluster tail</c> to this node's own.</summary>
public sealed partial class OperatorEndpoint
{
    private DiagnosticsSettings? _diagnostics;

    private DiagnosticsSettings Diagnostics => _diagnostics ??= DiagnosticsSettings.From(Context.System.Settings.Config);

    private void ReceiveDiagnostics()
    {
        Receive<PeekLog>(m =>
        {
            if (!LevelOk(m.MinLevel, out var bad))
            {
                Sender.Tell(new OperatorProtocol.OperatorError(bad, ErrorKind.Invalid));
                return;
            }
            AskMember(m.Node, m);
        });
        Receive<GetHierarchy>(m => AskMember(m.Node, m));
        Receive<TailCluster>(m => AskMember(null, m));
    }

    private static bool LevelOk(string level, out string problem)
    {
        problem = $"unknown log level '{level}'; one of {string.Join(", ", Levels)}";
        return Levels.Contains(level);
    }

    /// <summary>Asks <paramref name="node"/>'s diagnostics actor (null: this node's) and pipes its answer, or a clear error, to the asker.</summary>
    private void AskMember(string? node, object query)
    {
        var replyTo = Sender;
        Address address;
        if (node is null) address = ClusterOrNull()?.SelfAddress ?? ((ExtendedActorSystem)Context.System).Provider.DefaultAddress;
        else if (FindMember(node) is { } found) address = found;
        else
        {
            var members = ClusterOrNull()?.State.Members.Select(mb => mb.Address.ToString()) ?? [];
            replyTo.Tell(new OperatorProtocol.OperatorError($"no member at '{node}'; members: {string.Join(", ", members)} (see 'cluster show')", ErrorKind.NotFound));
            return;
        }
        var timeout = Diagnostics.AskTimeout;
        Context.ActorSelection(new RootActorPath(address) / "user" / NodeDiagnostics.Name).Ask<object>(query, timeout).PipeTo(replyTo,
            failure: e => new OperatorProtocol.OperatorError(
                $"member {address} did not answer within {timeout.TotalSeconds:0.#} s ({e.GetType().Name}); is it running a version with diagnostics?",
                ErrorKind.Unavailable));
    }

    /// <summary>A member by its full address (<c>akka.tcp://cis490@HOST:PORT</c>) or by <c>HOST:PORT</c>.</summary>
    private Address? FindMember(string node)
    {
        if (ClusterOrNull() is not { } cluster) return null;
        return cluster.State.Members.Select(m => m.Address)
            .FirstOrDefault(a => a.ToString() == node || $"{a.Host}:{a.Port}" == node);
    }
}
