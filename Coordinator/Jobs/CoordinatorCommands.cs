using Akka.Event;
using Cis490.Protocols;
using Cis490.Protocols.Artifacts;
using Cis490.Protocols.Jobs;
using Cis490.Protocols.Workers;

namespace Cis490.Coordinator.Jobs;

/// <summary>What <see cref="CoordinatorState.Decide"/> is asked besides the protocol messages it takes as they are
/// (<see cref="TrainerProtocol"/>, <see cref="WorkerProtocol.LeaseDeclined"/>, <see cref="ArtifactProtocol.OfferUpload"/>, the
/// operator requests and queries): facts the actor adds (who sent a registration, that a watched worker is gone, the time).</summary>
/// <remarks>Local only: the actor makes them from what it receives; none crosses a node.</remarks>
public static class CoordinatorCommands
{
    /// <summary>Marker of the commands below.</summary>
    public interface ICommand;

    /// <summary>The job table was recovered from the journal: live leases get a full heartbeat deadline from now.</summary>
    public sealed record Recovered : ICommand
    {
        public static readonly Recovered Instance = new();
    }

    /// <summary>A worker registered (or re-registered) from <paramref name="Endpoint"/> (an opaque key of the sending actor, equal
    /// for the same actor incarnation), reachable at <paramref name="Address"/>.</summary>
    public sealed record Register(WorkerProtocol.Register Message, string Endpoint, string Address) : ICommand;

    /// <summary>A worker asked for a lease (<see cref="WorkerProtocol.RequestLease"/>) from the actor at <paramref name="Endpoint"/>
    /// (the same key as <see cref="Register"/>'s): only the actor the worker registered from is served.</summary>
    public sealed record LeaseRequest(WorkerProtocol.RequestLease Message, string Endpoint) : ICommand;

    /// <summary>A message about a lease (a trainer's start, heartbeat or failure, a declined lease, an upload offer) and the path of
    /// the actor that sent it (<c>akka.tcp://cis490@HOST:PORT/user/worker/trainer-12</c>). Only the worker the lease was granted to
    /// may speak for it: its registered actor or one of its children (its trainers), on its node.</summary>
    public sealed record FromWorker(IWithLease Message, string SenderPath) : ICommand;

    /// <summary>The actor at <paramref name="Endpoint"/> is gone: its node was removed from the cluster, or it stopped.</summary>
    public sealed record EndpointGone(string Endpoint) : ICommand;

    /// <summary>The node at <paramref name="Address"/> looks lost before the cluster removes it: the connection to it dropped, or
    /// the failure detector marked it unreachable (<paramref name="Why"/>). Its workers' leases end at once (fencing keeps a
    /// worker that was only paused from completing them); it registers again if it comes back.</summary>
    public sealed record NodeLost(string Address, string Why) : ICommand;

    /// <summary>The periodic check: leases past the heartbeat deadline end; jobs whose backoff or prefer-CUDA wait is over go out.</summary>
    public sealed record Tick : ICommand
    {
        public static readonly Tick Instance = new();
    }

    /// <summary>The artifact store verified and stored an upload's bytes: the lease may complete its job.</summary>
    public sealed record Stored(ArtifactProtocol.OfferUpload Offer, bool Deduplicated) : ICommand;

    /// <summary>The data-set store verified and stored a publication's bytes: it may be recorded.</summary>
    public sealed record DataSetStored(Protocols.DataSets.DataSetInfo DataSet) : ICommand;

    /// <summary>To the data-set store: stream <paramref name="DataSet"/>'s bundle to the worker that asked, from the fetch's offset.</summary>
    public sealed record ServeDataSet(Protocols.DataSets.DataSetProtocol.Fetch Fetch, Protocols.DataSets.DataSetInfo DataSet) : ICommand;

    /// <summary>A health probe, with what only the persistent actor knows: its journal position and writes not yet confirmed.</summary>
    public sealed record CheckHealth(long SequenceNr, int WritesInFlight) : ICommand;
}

/// <summary>What the actor does once a decision's events are written. Data, not actor calls: a test reads them; the actor performs them.</summary>
public abstract record Effect
{
    /// <summary>Answer whoever sent the command.</summary>
    public sealed record Reply(object Message) : Effect;

    /// <summary>Send to the worker actor at <paramref name="Endpoint"/> (as it was when the decision was made).</summary>
    public sealed record Send(string Endpoint, object Message) : Effect;

    /// <summary>Start watching the worker actor at <paramref name="Endpoint"/>: its end comes back as <see cref="CoordinatorCommands.EndpointGone"/>.</summary>
    public sealed record Watch(string Endpoint) : Effect;

    /// <summary>Stop watching a worker actor (its worker re-registered from another one).</summary>
    public sealed record Unwatch(string Endpoint) : Effect;

    /// <summary>Hand the message to the artifact store, which answers the command's sender itself.</summary>
    public sealed record ToStore(object Message) : Effect;

    /// <summary>Hand the message to the data-set store, which answers the command's sender itself.</summary>
    public sealed record ToDataSets(object Message) : Effect;

    /// <summary>Keep a heartbeat's progress lines for <c>jobs logs</c>.</summary>
    public sealed record RecordProgress(string JobId, long LeaseId, TrainingProgress Latest, IReadOnlyList<TrainingProgress>? Lines) : Effect;

    /// <summary>Answer with the job's kept progress lines after line <paramref name="After"/>.</summary>
    public sealed record ReplyLogs(string JobId, string Status, long After) : Effect;

    /// <summary>A line for the coordinator's log, written only once what it reports is in the journal.</summary>
    public sealed record Log(LogLevel Level, string Text) : Effect;
}
