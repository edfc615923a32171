using Akka.Actor;
using Akka.Cluster;
using Akka.Event;

namespace Cis490.Shared.Hosting;

/// <summary>Who the fleet keeps when members turn unreachable: a pure rule over one node's view of the membership.</summary>
/// <remarks>
/// The fleet is a few coordinator-role nodes (the job table's singleton runs on the oldest) and many workers (laptops that
/// sleep, a Pi, a GPU box). Akka's built-in strategies count workers: with keep-majority a coordinator whose workers went to
/// sleep is the minority and downs itself; with keep-oldest + down-if-alone a coordinator that lost two workers at once is
/// "alone" and downs itself. Here:
/// <list type="bullet">
/// <item>Only coordinator-role nodes decide. A worker never downs anyone, itself included: a worker cut off from every
/// coordinator ends its membership by its own rule (worker.conf coordinator-absent-timeout), keeps its trainers, and joins
/// again through its seeds; the coordinators down it meanwhile.</item>
/// <item>Unreachable workers never count against a coordinator: with every unreachable member a worker, the coordinators
/// down them.</item>
/// <item>Between coordinator nodes the side with more of them (reachable and not) survives. On a tie the side with more
/// members in all wins (workers are the witnesses that tell a crashed coordinator from a cut-off one: a crashed node sees
/// nobody), and on a tie of that too the side holding the oldest coordinator, so both sides decide the same way.</item>
/// </list>
/// </remarks>
public static class FleetDowning
{
    /// <summary>What a coordinator-role node does once the membership has been stable with unreachable members.</summary>
    public enum Decision
    {
        /// <summary>Nothing to do (no unreachable member, or this node is not a coordinator).</summary>
        None,

        /// <summary>This side survives: down every unreachable member.</summary>
        DownUnreachable,

        /// <summary>This side loses: down this node (its process exits and is started again, joining the survivors).</summary>
        DownSelf,
    }

    /// <summary>A member as the rule sees it.</summary>
    /// <param name="Address">Its unique address (address and incarnation).</param>
    public sealed record Node(string Address, bool Coordinator, bool Unreachable);

    /// <summary>The decision of the node at <paramref name="self"/>, given the members it counts, oldest first, and which of them
    /// it sees as unreachable.</summary>
    public static Decision Decide(IReadOnlyList<Node> oldestFirst, string self)
    {
        var me = oldestFirst.FirstOrDefault(n => n.Address == self);
        if (me is null || !me.Coordinator || me.Unreachable) return Decision.None;
        var lost = oldestFirst.Where(n => n.Unreachable).ToList();
        if (lost.Count == 0) return Decision.None;
        var kept = oldestFirst.Where(n => !n.Unreachable).ToList();
        var (keptCoordinators, lostCoordinators) = (kept.Count(n => n.Coordinator), lost.Count(n => n.Coordinator));
        if (keptCoordinators != lostCoordinators) return keptCoordinators > lostCoordinators ? Decision.DownUnreachable : Decision.DownSelf;
        if (kept.Count != lost.Count) return kept.Count > lost.Count ? Decision.DownUnreachable : Decision.DownSelf;
        return oldestFirst.First(n => n.Coordinator).Unreachable ? Decision.DownSelf : Decision.DownUnreachable;
    }

    /// <summary>The members a decision counts: those in the membership proper (Up, WeaklyUp, Leaving); joining, exiting, down
    /// and removed ones take no side.</summary>
    public static bool Counts(Member m) => m.Status is MemberStatus.Up or MemberStatus.WeaklyUp or MemberStatus.Leaving;
}

/// <summary>The fleet's downing provider (<c>akka.cluster.downing-provider-class</c>): runs <see cref="FleetDowningActor"/> on every
/// node with the settings of <c>cis490.downing</c> (hocon/base.conf says why each value).</summary>
public sealed class FleetDowningProvider : IDowningProvider
{
    private readonly TimeSpan _stableAfter;
    private readonly string _role;

    public FleetDowningProvider(ActorSystem system)
    {
        var c = system.Settings.Config.GetConfig("cis490.downing")
                ?? throw new InvalidOperationException("HOCON has no cis490.downing section (is base.conf loaded?)");
        _stableAfter = c.GetTimeSpan("stable-after");
        DownRemovalMargin = c.GetTimeSpan("down-removal-margin");
        _role = c.GetString("coordinator-role");
    }

    public FleetDowningProvider(ActorSystem system, Cluster cluster) : this(system) { }

    public TimeSpan DownRemovalMargin { get; }

    public Props DowningActorProps => Props.Create(() => new FleetDowningActor(_stableAfter, _role));
}

/// <summary>Applies <see cref="FleetDowning.Decide"/> once the membership and its reachability have not changed for stable-after,
/// and again every stable-after while unreachable members remain (a down takes gossip rounds to take effect).</summary>
public sealed class FleetDowningActor : ReceiveActor, IWithTimers
{
    private sealed class Stable
    {
        public static readonly Stable Instance = new();
    }

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Cluster _cluster = Cluster.Get(Context.System);

    public ITimerScheduler Timers { get; set; } = null!;

    public FleetDowningActor(TimeSpan stableAfter, string role)
    {
        Receive<ClusterEvent.IClusterDomainEvent>(_ => Timers.StartSingleTimer("stable", Stable.Instance, stableAfter));
        Receive<ClusterEvent.CurrentClusterState>(_ => Timers.StartSingleTimer("stable", Stable.Instance, stableAfter));
        Receive<Stable>(_ =>
        {
            var state = _cluster.State;
            var unreachable = state.Unreachable.Select(m => m.UniqueAddress).ToHashSet();
            if (unreachable.Count == 0) return;
            var nodes = state.Members.Where(FleetDowning.Counts).OrderBy(m => m, Member.AgeOrdering)
                .Select(m => new FleetDowning.Node(m.UniqueAddress.ToString(), m.HasRole(role), unreachable.Contains(m.UniqueAddress)))
                .ToList();
            switch (FleetDowning.Decide(nodes, _cluster.SelfUniqueAddress.ToString()))
            {
                case FleetDowning.Decision.DownUnreachable:
                    foreach (var m in state.Unreachable.Where(m => m.Status != MemberStatus.Down))
                    {
                        _log.Warning("Downing unreachable {0} ({1}): this side keeps the coordinators", m.Address, string.Join(",", m.Roles));
                        _cluster.Down(m.Address);
                    }
                    break;
                case FleetDowning.Decision.DownSelf:
                    _log.Warning("Downing this node: the other side of the partition keeps the coordinators ({0} unreachable)", unreachable.Count);
                    _cluster.Down(_cluster.SelfAddress);
                    break;
            }
            Timers.StartSingleTimer("stable", Stable.Instance, stableAfter); // again, until nobody is unreachable
        });
    }

    protected override void PreStart() =>
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot,
            typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));

    protected override void PostStop() => _cluster.Unsubscribe(Self);
}
