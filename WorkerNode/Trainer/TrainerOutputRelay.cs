using Akka.Actor;

namespace Cis490.WorkerNode.Trainer;

/// <summary>Carries one trainer process's output to the actor that supervises it; between two actor systems (the node was downed,
/// or left to find a restarted coordinator) no actor is attached and the relay holds the output, bounded, for the next one.</summary>
/// <remarks>The process's callbacks run on the launcher's threads, the attach and detach on actor threads: one lock orders them,
/// so every line reaches exactly one actor (or the held queue) in the order the process printed it.</remarks>
public sealed class TrainerOutputRelay
{
    /// <summary>A line on the trainer's stdout.</summary>
    public sealed record Line(string Text) : INoSerializationVerificationNeeded;

    /// <summary>A line on the trainer's stderr.</summary>
    public sealed record ErrorLine(string Text) : INoSerializationVerificationNeeded;

    /// <summary>The process exited, after its last line.</summary>
    public sealed record Exited(int Code) : INoSerializationVerificationNeeded;

    /// <summary>Held while detached, newest kept: the latest progress (a heartbeat carries at most 200 lines), the stderr tail, the exit.
    /// The trainer's once-a-second alive lines are not held: an attached actor measures silence from its own attach.</summary>
    public const int MaxHeld = 400;

    private readonly object _gate = new();
    private readonly Queue<object> _held = new();
    private IActorRef? _target;

    /// <summary>Lines dropped (oldest first) while detached because more than <see cref="MaxHeld"/> were waiting.</summary>
    public int Dropped { get; private set; }

    public void Output(string line) => Deliver(new Line(line));

    public void Error(string line) => Deliver(new ErrorLine(line));

    public void Exit(int code) => Deliver(new Exited(code));

    /// <summary>From now on output goes to <paramref name="target"/>, after everything held while detached.</summary>
    public void Attach(IActorRef target)
    {
        lock (_gate)
        {
            while (_held.TryDequeue(out var m)) target.Tell(m);
            _target = target;
        }
    }

    /// <summary>From now on output is held until the next <see cref="Attach"/>.</summary>
    public void Detach()
    {
        lock (_gate)
        {
            _target = null;
            Dropped = 0;
        }
    }

    private void Deliver(object message)
    {
        lock (_gate)
        {
            if (_target is not null)
            {
                _target.Tell(message);
                return;
            }
            if (message is Line { Text: var text } && text == TrainerOutput.Alive) return;
            _held.Enqueue(message);
            if (_held.Count <= MaxHeld) return;
            _held.Dequeue(); // the exit is always the newest: never the one dropped
            Dropped++;
        }
    }
}
