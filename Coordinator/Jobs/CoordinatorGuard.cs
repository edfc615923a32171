using Akka.Actor;
using Akka.Event;

namespace Cis490.Coordinator.Jobs;

/// <summary>The cluster singleton itself: runs the <see cref="JobCoordinator"/> as its child and starts it again, after a growing
/// pause, when it stops without being asked (Akka.Persistence stops an actor whose journal write fails: a database restart or
/// a full disk must not leave the fleet without a coordinator until someone restarts the node). On <see cref="JobCoordinator.HandOver"/>
/// it lets the coordinator finish its writes and stops with it, so the singleton can move.</summary>
public sealed class CoordinatorGuard : ReceiveActor, IWithTimers, IWithUnboundedStash
{
    private sealed class Restart : INoSerializationVerificationNeeded
    {
        public static readonly Restart Instance = new();
    }

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Props _coordinator;
    private readonly TimeSpan _minBackoff, _maxBackoff;
    private IActorRef? _child;
    private int _restarts;
    private bool _handingOver;

    public ITimerScheduler Timers { get; set; } = null!;

    public CoordinatorGuard(Props coordinator, TimeSpan minBackoff, TimeSpan maxBackoff)
    {
        _coordinator = coordinator;
        (_minBackoff, _maxBackoff) = (minBackoff, maxBackoff);

        Receive<JobCoordinator.HandOver>(m =>
        {
            _handingOver = true;
            if (_child is null) Context.Stop(Self);
            else _child.Tell(m); // it stops once its writes in flight are done; then so does this guard
        });
        Receive<Terminated>(t =>
        {
            if (!t.ActorRef.Equals(_child)) return;
            _child = null;
            if (_handingOver)
            {
                Context.Stop(Self);
                return;
            }
            var pause = TimeSpan.FromTicks(Math.Min(_maxBackoff.Ticks, _minBackoff.Ticks * (1L << Math.Min(_restarts, 20))));
            _restarts++;
            _log.Error("The JobCoordinator stopped unexpectedly (a failed journal write?); starting it again in {0} (restart {1})", pause, _restarts);
            Timers.StartSingleTimer("restart", Restart.Instance, pause);
        });
        Receive<Restart>(_ => Start());
        ReceiveAny(m =>
        {
            // Requests that arrive while the coordinator is restarting wait for it, like those the singleton proxy buffers in a move.
            if (_child is not null) _child.Forward(m);
            else Stash.Stash();
        });
    }

    public IStash Stash { get; set; } = null!;

    public static Props Props(Props coordinator, TimeSpan minBackoff, TimeSpan maxBackoff) =>
        Akka.Actor.Props.Create(() => new CoordinatorGuard(coordinator, minBackoff, maxBackoff));

    protected override void PreStart() => Start();

    private void Start()
    {
        // A fresh name each time: the previous child's name is free only once its termination is fully processed.
        _child = Context.Watch(Context.ActorOf(_coordinator, $"coordinator-{_restarts}"));
        Stash.UnstashAll();
    }
}
