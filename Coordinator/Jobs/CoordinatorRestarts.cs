using Akka.Actor;

namespace Cis490.Coordinator.Jobs;

/// <summary>This node's record of its JobCoordinator incarnations (an Akka extension, one per actor system): how many times it
/// started, how many starts in a row failed to recover the job table, and the last failure. The coordinator writes it; the
/// operator endpoint reads it to answer a health probe while the coordinator is stopped between two backoff restarts, when
/// nothing else can answer for it.</summary>
public sealed class CoordinatorRestarts : IExtension
{
    private readonly object _gate = new();
    private int _starts, _failedStarts;
    private bool _running, _failing;
    private string? _lastFailure;
    private DateTimeOffset? _lastFailureAt;

    public static CoordinatorRestarts Get(ActorSystem system) => system.WithExtension<CoordinatorRestarts, Provider>();

    /// <summary>What a health probe is told.</summary>
    /// <param name="Restarting">The coordinator ran on this node and is now stopped or recovering after a failure.</param>
    /// <param name="Restarts">Starts after the first one on this node (a hand-over back to it counts too).</param>
    /// <param name="FailedStarts">Starts in a row that failed to recover the job table (0 once one succeeds).</param>
    public sealed record Snapshot(bool Restarting, int Restarts, int FailedStarts, string? LastFailure, DateTimeOffset? LastFailureAt);

    public Snapshot Now()
    {
        lock (_gate) return new(_failing && !_running, Math.Max(_starts - 1, 0), _failedStarts, _lastFailure, _lastFailureAt);
    }

    /// <summary>An incarnation is starting (before its recovery).</summary>
    public void Starting()
    {
        lock (_gate) { _starts++; _running = false; }
    }

    /// <summary>It recovered the job table and serves.</summary>
    public void Recovered()
    {
        lock (_gate) { _running = true; _failing = false; _failedStarts = 0; }
    }

    /// <summary>Its recovery failed; returns the number of failed starts in a row, this one included.</summary>
    public int FailedStart(string failure, DateTimeOffset now)
    {
        lock (_gate)
        {
            Failed(failure, now);
            return ++_failedStarts;
        }
    }

    /// <summary>A running incarnation failed (a journal write, an exception): the supervisor starts another.</summary>
    public void Crashed(string failure, DateTimeOffset now)
    {
        lock (_gate) Failed(failure, now);
    }

    /// <summary>It stopped: after a hand-over it is simply gone from this node; otherwise a restart follows.</summary>
    public void Stopped(bool handedOver)
    {
        lock (_gate)
        {
            if (!_running) return; // a failed start or a failed write already said why
            _running = false;
            if (!handedOver) Failed("it stopped unexpectedly (the node's log has the exception)", DateTimeOffset.UtcNow);
        }
    }

    private void Failed(string failure, DateTimeOffset now)
    {
        _running = false;
        _failing = true;
        _lastFailure = failure;
        _lastFailureAt = now;
    }

    private sealed class Provider : ExtensionIdProvider<CoordinatorRestarts>
    {
        public override CoordinatorRestarts CreateExtension(ExtendedActorSystem system) => new();
    }
}
