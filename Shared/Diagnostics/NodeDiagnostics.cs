using Akka.Actor;
using Akka.Cluster;
using static Cis490.Protocols.Diagnostics.DiagnosticsProtocol;

namespace Cis490.Shared.Diagnostics;

/// <summary>Typed <c>cis490.diagnostics</c> settings (hocon/base.conf says why each value).</summary>
public sealed record DiagnosticsSettings(int LogLines, int MaxLinesPerReply, int HierarchyMaxActors, int ClusterEvents, TimeSpan AskTimeout)
{
    public static DiagnosticsSettings From(Akka.Configuration.Config config)
    {
        var c = config.GetConfig("cis490.diagnostics") ?? throw new InvalidOperationException("HOCON has no cis490.diagnostics section (is base.conf loaded?)");
        return new DiagnosticsSettings(c.GetInt("log-lines"), c.GetInt("max-lines-per-reply"), c.GetInt("hierarchy-max-actors"), c.GetInt("cluster-events"), c.GetTimeSpan("ask-timeout"));
    }
}

/// <summary>Every node's <c>/user/diagnostics</c>: answers <see cref="PeekLog"/> from the node's <see cref="NodeLog"/> (filled from
/// the event stream's log events, so no logger needs configuring),
/// <see cref="GetHierarchy"/> with its actor tree, and <see cref="TailCluster"/> from the membership and reachability events it
/// has seen since it started (the latest <see cref="DiagnosticsSettings.ClusterEvents"/>).</summary>
public sealed class NodeDiagnostics : ReceiveActor
{
    public const string Name = "diagnostics";

    private readonly DiagnosticsSettings _settings;
    private readonly Queue<ClusterEventView> _events = new();
    private long _seq;

    public NodeDiagnostics(DiagnosticsSettings settings)
    {
        _settings = settings;
        var log = new NodeLog(settings.LogLines);
        // Every log event of this system (what its loggers print, at akka.loglevel and above) is kept in the ring.
        Receive<Akka.Event.LogEvent>(e =>
        {
            var text = e.Message?.ToString() ?? "";
            if (e.Cause is { } cause) text += $" ({cause.GetType().Name}: {cause.Message})";
            log.Add(new DateTimeOffset(e.Timestamp.ToUniversalTime(), TimeSpan.Zero), NodeLog.LevelName(e.LogLevel()), e.LogSource, text);
        });
        var self = Context.System is ExtendedActorSystem { Provider: Akka.Remote.IRemoteActorRefProvider r } ? r.DefaultAddress.ToString() : "local";
        Receive<PeekLog>(m =>
        {
            var (lines, next, dropped) = log.Read(m.After, m.MinLevel, Math.Clamp(m.Max, 1, _settings.MaxLinesPerReply));
            Sender.Tell(new LogLines(self, lines, next, dropped));
        });
        Receive<GetHierarchy>(_ => Sender.Tell(Hierarchy((ExtendedActorSystem)Context.System, self, _settings.HierarchyMaxActors)));
        Receive<TailCluster>(m =>
        {
            var max = Math.Clamp(m.Max, 1, _settings.MaxLinesPerReply);
            var list = m.After < 0 ? _events.TakeLast(max).ToList() : _events.Where(e => e.Seq > m.After).Take(max).ToList();
            Sender.Tell(new ClusterEvents(self, list, list.Count > 0 ? Math.Max(list[^1].Seq, m.After) : Math.Max(m.After < 0 ? _seq : m.After, 0)));
        });
        Receive<ClusterEvent.IMemberEvent>(e => Record(e switch
        {
            ClusterEvent.MemberJoined => "member-joined",
            ClusterEvent.MemberWeaklyUp => "member-weakly-up",
            ClusterEvent.MemberUp => "member-up",
            ClusterEvent.MemberLeft => "member-left",
            ClusterEvent.MemberExited => "member-exited",
            ClusterEvent.MemberDowned => "member-downed",
            ClusterEvent.MemberRemoved => "member-removed",
            _ => "member-" + e.GetType().Name.Replace("Member", "").ToLowerInvariant(),
        }, e.Member));
        Receive<ClusterEvent.UnreachableMember>(e => Record("unreachable", e.Member));
        Receive<ClusterEvent.ReachableMember>(e => Record("reachable", e.Member));
    }

    public static Props Props(DiagnosticsSettings settings) => Akka.Actor.Props.Create(() => new NodeDiagnostics(settings));

    protected override void PreStart()
    {
        Context.System.EventStream.Subscribe(Self, typeof(Akka.Event.LogEvent));
        if (((ExtendedActorSystem)Context.System).Provider is not ClusterActorRefProvider) return;
        Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
            typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));
    }

    protected override void PostStop()
    {
        Context.System.EventStream.Unsubscribe(Self);
        if (((ExtendedActorSystem)Context.System).Provider is ClusterActorRefProvider) Cluster.Get(Context.System).Unsubscribe(Self);
    }

    private void Record(string what, Member m)
    {
        _events.Enqueue(new ClusterEventView(++_seq, DateTimeOffset.UtcNow, what, m.Address.ToString(), m.Status.ToString().ToLowerInvariant(), [.. m.Roles.Order()]));
        while (_events.Count > _settings.ClusterEvents) _events.Dequeue();
    }

    /// <summary>The actor tree below the root guardian (<c>/user</c>, <c>/system</c>), depth-first with children by name, at most
    /// <paramref name="max"/> actors. Read from the actors' cells, as Petabridge.Cmd's own palette does; a child that stops
    /// meanwhile is simply not listed.</summary>
    public static ActorTree Hierarchy(ExtendedActorSystem system, string node, int max)
    {
        var entries = new List<ActorEntry>();
        var truncated = false;
        void Walk(IActorRef actor, int depth)
        {
            if (entries.Count >= max)
            {
                truncated = true;
                return;
            }
            var cell = (actor as ActorRefWithCell)?.Underlying;
            entries.Add(new ActorEntry(actor.Path.ToStringWithoutAddress(), depth, TypeName(cell)));
            if (actor is not ActorRefWithCell withCell) return;
            foreach (var child in withCell.Children.OrderBy(c => c.Path.Name, StringComparer.Ordinal)) Walk(child, depth + 1);
        }
        Walk(system.Guardian, 1);
        Walk(system.SystemGuardian, 1);
        return new ActorTree(node, entries, truncated);
    }

    private static string TypeName(ICell? cell)
    {
        try
        {
            return cell?.Props.Type?.Name ?? "";
        }
        catch (Exception)
        {
            return ""; // a cell being torn down
        }
    }
}
