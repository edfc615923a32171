using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;

namespace Cis490.Coordinator.Persistence;

/// <summary>Runs one empty recovery against the journal and the snapshot store when a coordinator node starts, then stops.
/// <para>A standby coordinator node never touches the journal until the singleton moves to it; its first recovery then pays for
/// starting the persistence plugins, opening the connection pool and compiling their query paths: 1.5–2 s measured on a
/// PostgreSQL journal, a fifth of the crash take-over budget (issue 13: SIGKILL of the singleton's node → the job table
/// answering on the other in ≤ 10 s). Paid here, at start-up, the take-over's recovery is only the reading of the events.</para>
/// <para>It only reads: a persistence id that is never written (<see cref="PersistenceIdValue"/>), so any number of nodes may
/// warm up at once, also beside the running singleton. A failure is logged and left to the coordinator's own recovery, which
/// reports journal problems loudly (JobCoordinator.OnRecoveryFailure).</para>
/// <para>Beside it, <see cref="RecoveryWarmup"/> compiles the job table's recovery code (issue 17: recovery of 100 000 jobs ≤ 1 s).</para></summary>
public sealed class JournalWarmup : ReceivePersistentActor
{
    public const string PersistenceIdValue = "cis490-journal-warmup";

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    private readonly string _persistenceId;
    private readonly Recovery _recovery;
    private readonly bool _replaysOne;

    public override string PersistenceId => _persistenceId;

    public override Recovery Recovery => _recovery;

    /// <param name="replaysOne">Instead of the id never written: the job coordinator's own id, no snapshot and at most one event read
    /// (<see cref="Akka.Persistence.Recovery"/>'s replayMax). An empty id's recovery never runs the journal's replay (the highest
    /// sequence number is 0), whose stream a restarted coordinator otherwise builds and compiles mid-recovery (~250 methods, issue 17);
    /// one event runs it. Still only a read: the coordinator may be running beside it.</param>
    public JournalWarmup(bool replaysOne = false)
    {
        _replaysOne = replaysOne;
        _persistenceId = replaysOne ? Jobs.JobCoordinator.PersistenceIdValue : PersistenceIdValue;
        _recovery = replaysOne ? new Recovery(SnapshotSelectionCriteria.None, long.MaxValue, replayMax: 1) : Recovery.Default;
        Recover<RecoveryCompleted>(_ =>
        {
            if (_replaysOne) _log.Info("Journal replay warmed up on this node ({0} ms)", _clock.ElapsedMilliseconds);
            else _log.Info("Journal and snapshot store ready on this node ({0} ms): a take-over here recovers without starting them", _clock.ElapsedMilliseconds);
            Context.Stop(Self);
        });
        // Nothing is ever written under the warm-up's own id; anything found is left alone (and said). The coordinator's event is only read.
        RecoverAny(e =>
        {
            if (!_replaysOne) _log.Warning("Journal warm-up found an event under {0}: {1} (left alone)", PersistenceIdValue, e.GetType().Name);
        });
        CommandAny(_ => { });
    }

    /// <summary>Beside the plugins' start, the job table's recovery code is compiled on a made-up table (<see cref="RecoveryWarmup"/>),
    /// on the thread pool: it needs no actor and the journal is not touched.</summary>
    protected override void PreStart()
    {
        base.PreStart();
        if (_replaysOne) return;
        var log = _log;
        var system = Context.System;
        Task.Run(() => RecoveryWarmup.Run(system)).ContinueWith(t =>
        {
            if (t.IsFaulted) log.Warning("Recovery warm-up failed ({0}): a recovery compiles its code as it goes", t.Exception!.GetBaseException().Message);
            else log.Info("Recovery code warmed up on a made-up table ({0} ms)", (long)t.Result.TotalMilliseconds);
        }, TaskScheduler.Default);
    }

    protected override void OnRecoveryFailure(Exception reason, object? message = null)
    {
        _log.Warning("Journal warm-up failed ({0}): the coordinator's own recovery will say whether the journal is usable", reason.GetBaseException().Message);
    }

    public static Props Props(bool replaysOne = false) => Akka.Actor.Props.Create(() => new JournalWarmup(replaysOne));
}
