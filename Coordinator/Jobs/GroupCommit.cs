using Cis490.Protocols.Jobs;
using static Cis490.Protocols.Jobs.JobEvents;

namespace Cis490.Coordinator.Jobs;

/// <summary>Group commit for the JobCoordinator: at most one journal write is in flight; every command decided meanwhile waits
/// here with its events and its held effects, and when the write ends they all go to the journal together as one write (one
/// transaction, one fsync). The effects of a batch are performed only once the whole batch is written, in the order the
/// commands were decided, and never before those of an earlier batch. Pure bookkeeping, no actors: the actor calls
/// <see cref="Add"/> for each decided command, <see cref="Next"/> whenever no write is in flight, and <see cref="Written"/> when
/// the journal confirms a batch.</summary>
/// <typeparam name="THeld">What waits with a command's events: its effects and whom to answer.</typeparam>
public sealed class GroupCommit<THeld>
{
    /// <summary>Commands that go to the journal together (or, with no events, whose effects may be performed now), in order.</summary>
    public sealed record Batch(IReadOnlyList<ICoordinatorEvent> Events, IReadOnlyList<THeld> Held);

    private readonly int _maxEvents;
    private List<ICoordinatorEvent> _events = [];
    private List<THeld> _held = [];
    private List<int> _eventCounts = []; // per waiting command, so that a batch can end between two commands

    /// <param name="maxEvents">A batch stops taking more commands once it has this many events (a command's own events always
    /// stay together, however many: one command's events are one atomic write).</param>
    public GroupCommit(int maxEvents)
    {
        if (maxEvents < 1) throw new ArgumentOutOfRangeException(nameof(maxEvents), maxEvents, "a batch must take at least one event");
        _maxEvents = maxEvents;
    }

    /// <summary>Batches handed out by <see cref="Next"/> or <see cref="TakeAll"/> and not yet <see cref="Written"/>.</summary>
    public int WritesInFlight { get; private set; }

    /// <summary>Events decided but not yet handed to the journal.</summary>
    public int WaitingEvents => _events.Count;

    /// <summary>Commands decided but not yet handed to the journal (with or without events).</summary>
    public int WaitingCommands => _held.Count;

    /// <summary>A decided command: its events (possibly none) and what is held until they, and everything decided before them,
    /// are written.</summary>
    public void Add(IReadOnlyList<ICoordinatorEvent> events, THeld held)
    {
        _events.AddRange(events);
        _held.Add(held);
        _eventCounts.Add(events.Count);
    }

    /// <summary>What may go now, when no write is in flight: null when nothing waits or a write is in flight (its end calls this
    /// again). A batch with no events holds commands that wrote nothing and waited only behind earlier writes: perform them now.
    /// A batch with events is a write: it counts as in flight until <see cref="Written"/>.</summary>
    public Batch? Next()
    {
        if (WritesInFlight > 0 || _held.Count == 0) return null;
        // Commands up to the event limit (at least one); the rest wait for the next write.
        var commands = 0;
        var events = 0;
        while (commands < _held.Count && (commands == 0 || events + _eventCounts[commands] <= _maxEvents))
            events += _eventCounts[commands++];
        return Take(commands, events);
    }

    /// <summary>Everything that waits, as one batch, even while a write is in flight (a hand-over: the journal keeps writes in
    /// order, and the node stops once they are all written). Null when nothing waits.</summary>
    public Batch? TakeAll() => _held.Count == 0 ? null : Take(_held.Count, _events.Count);

    /// <summary>The journal confirmed a batch with events: every event of it is written.</summary>
    public void Written()
    {
        if (WritesInFlight == 0) throw new InvalidOperationException("a write ended but none was in flight");
        WritesInFlight--;
    }

    private Batch Take(int commands, int events)
    {
        Batch batch;
        if (commands == _held.Count)
        {
            batch = new Batch(_events, _held);
            _events = [];
            _held = [];
            _eventCounts = [];
        }
        else
        {
            batch = new Batch(_events.GetRange(0, events), _held.GetRange(0, commands));
            _events.RemoveRange(0, events);
            _held.RemoveRange(0, commands);
            _eventCounts.RemoveRange(0, commands);
        }
        if (batch.Events.Count > 0) WritesInFlight++;
        return batch;
    }
}
