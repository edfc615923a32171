using Akka.Actor;
using Cis490.WorkerNode.Data;

namespace Cis490.WorkerNode.Trainer;

public sealed partial class TrainerActor
{
    /// <summary>The lease cannot run: its data set cannot be had, or there is no data to train on.</summary>
    private sealed record DataUnavailable(string Reason) : INoSerializationVerificationNeeded;

    private void AskForData(string dataSet)
    {
        if (_dataSets is null)
        {
            Self.Tell(new DataUnavailable($"job {JobId} is bound to data set {dataSet}, and this node has no data-set cache"));
            return;
        }
        _progress = _progress with { Message = $"waiting for data set {dataSet[..12]}" };
        _dataSets.Tell(new DataSetCache.Ensure(dataSet, JobId, LeaseId));
    }

    /// <summary>Before the process starts: the lease's data set is being fetched into the cache. Heartbeats go on (the lease stays
    /// alive while its data travels); the process starts on the data set's folder once it is verified, and the attempt fails
    /// when it cannot be had. An actor system ending meanwhile stops this actor (there is no process to hand over): the next
    /// registration does not list the lease, and the coordinator gives the job out again, not counted as an attempt.</summary>
    private void Fetching()
    {
        _phase = TrainerPhase.Training;
        Receive<Detach>(_ => Context.Stop(Self));
        Receive<DataSetCache.Ready>(m =>
        {
            _progress = _progress with { Message = $"data set {m.Sha256[..12]} ready" };
            _lastOutput = Elapsed; // the process's silence is measured from its start
            StartProcess(m.Dir);
            Become(Training);
        });
        Receive<DataSetCache.Unavailable>(m => Fail($"could not get data set {m.Sha256}: {m.Reason}"));
        Receive<DataUnavailable>(m => Fail(m.Reason));
        Common();
        Receive<TrainerOutputRelay.Line>(_ => { });
    }
}
