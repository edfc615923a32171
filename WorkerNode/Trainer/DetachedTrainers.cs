using Cis490.Protocols.Jobs;
using Cis490.Protocols.Workers;

namespace Cis490.WorkerNode.Trainer;

/// <summary>Where a lease's work stood when its trainer actor let go of it: still training, bundling the finished checkpoint, or
/// holding a bundle to upload.</summary>
public enum TrainerPhase
{
    Training,
    Bundling,
    Uploading,
}

/// <summary>A finished checkpoint, bundled for upload.</summary>
public sealed record TrainerBundle(string Path, string Sha256, long Bytes);

/// <summary>A trainer whose actor system ended while its process ran: everything the next system's trainer actor needs to carry on
/// with the same process and lease.</summary>
/// <param name="StartedAt">The trainer's start (<see cref="System.Diagnostics.Stopwatch.GetTimestamp"/>): its elapsed time goes on.</param>
/// <param name="Unsent">Progress lines not yet relayed in a heartbeat (the relay holds those printed since).</param>
/// <param name="Bundling">The bundle being made when the system ended (phase <see cref="TrainerPhase.Bundling"/>).</param>
/// <param name="StartAcknowledged">The coordinator acknowledged the lease's start; if not, the adopting actor reports it again.</param>
/// <param name="LostSince">Since when no coordinator has confirmed this lease: <c>coordinator-lost-keep</c> after it, the trainer is stopped.</param>
public sealed record DetachedTrainer(
    WorkerProtocol.Lease Lease,
    string JobDir,
    ITrainerProcess Process,
    TrainerOutputRelay Relay,
    TrainerPhase Phase,
    long StartedAt,
    TrainingProgress Progress,
    IReadOnlyList<TrainingProgress> Unsent,
    IReadOnlyList<string> StderrTail,
    Task<TrainerBundle>? Bundling,
    TrainerBundle? Bundle,
    IReadOnlyDictionary<string, double> Metrics,
    bool StartAcknowledged,
    DateTimeOffset LostSince)
{
    /// <summary>Kills the process and removes the lease's folder: nobody will take this lease up.</summary>
    public void Abandon(TimeSpan grace)
    {
        Relay.Detach();
        Process.Kill(grace);
        Process.Dispose();
        try { if (Directory.Exists(JobDir)) Directory.Delete(JobDir, true); }
        catch (IOException) { } // best effort: the next lease of the job uses a folder of its own
        catch (UnauthorizedAccessException) { }
    }
}

/// <summary>The worker process's trainers between two actor systems: one system's node actor detaches its running trainers here when
/// the system ends for any reason but a signal, and the next system's node actor adopts them. Lives as long as the process.</summary>
public sealed class DetachedTrainers
{
    private readonly object _gate = new();
    private readonly Dictionary<long, DetachedTrainer> _byLease = new();

    public int Count
    {
        get { lock (_gate) return _byLease.Count; }
    }

    public void Add(DetachedTrainer trainer)
    {
        lock (_gate) _byLease[trainer.Lease.LeaseId] = trainer;
    }

    /// <summary>Takes every detached trainer (the caller owns them now).</summary>
    public IReadOnlyList<DetachedTrainer> TakeAll()
    {
        lock (_gate)
        {
            var all = _byLease.Values.OrderBy(t => t.Lease.LeaseId).ToList();
            _byLease.Clear();
            return all;
        }
    }

    /// <summary>Takes the trainers that no coordinator has confirmed since before <paramref name="cutoff"/> (the caller stops them).</summary>
    public IReadOnlyList<DetachedTrainer> TakeLostBefore(DateTimeOffset cutoff)
    {
        lock (_gate)
        {
            var expired = _byLease.Values.Where(t => t.LostSince < cutoff).OrderBy(t => t.Lease.LeaseId).ToList();
            foreach (var t in expired) _byLease.Remove(t.Lease.LeaseId);
            return expired;
        }
    }
}
