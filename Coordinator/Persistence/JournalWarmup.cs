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

    public override string PersistenceId => PersistenceIdValue;

    public JournalWarmup()
    {
        Recover<RecoveryCompleted>(_ =>
        {
            _log.Info("Journal and snapshot store ready on this node ({0} ms): a take-over here recovers without starting them", _clock.ElapsedMilliseconds);
            Context.Stop(Self);
        });
        // Nothing is ever written under this id; anything found is left alone (and said).
        RecoverAny(e => _log.Warning("Journal warm-up found an event under {0}: {1} (left alone)", PersistenceIdValue, e.GetType().Name));
        CommandAny(_ => { });
    }

    /// <summary>Beside the plugins' start, the job table's recovery code is compiled on a made-up table (<see cref="RecoveryWarmup"/>),
    /// on the thread pool: it needs no actor and the journal is not touched.</summary>
    protected override void PreStart()
    {
        base.PreStart();
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

    public static Props Props() => Akka.Actor.Props.Create(() => new JournalWarmup());
}
