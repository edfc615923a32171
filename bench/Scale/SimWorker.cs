using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;
using Cis490.Protocols;
using Cis490.Protocols.Artifacts;
using Cis490.Protocols.Jobs;
using Cis490.Protocols.Workers;

namespace Cis490.Bench.Scale;

/// <summary>One simulated worker of <c>bench scale</c>: a distinct worker identity (its own actor, so the coordinator binds its
/// leases to it) that speaks the real worker protocol through the cluster and our serializer, as <c>WorkerNodeActor</c> and
/// <c>TrainerActor</c> do, with no trainer process: it registers (and re-registers at the production interval with the lease it
/// holds), reports each lease Started, heartbeats at the production interval, and after a random "training" time offers a tiny
/// artifact (distinct bytes per lease), streams it into the store's StreamRef and waits for <c>UploadCompleted</c>. One slot.</summary>
public sealed class SimWorker : ReceiveActor, IWithTimers
{
    /// <summary>Tells the worker the measuring window has begun (latencies are recorded from now on).</summary>
    public sealed class Measure : INoSerializationVerificationNeeded { public static readonly Measure Instance = new(); }

    /// <summary>Heartbeat flood: send <paramref name="Count"/> heartbeats of the running lease back to back, then a repeated
    /// Started, whose refusal (the coordinator answers in order) says all of them were handled.</summary>
    public sealed record Flood(int Count) : INoSerializationVerificationNeeded;

    private sealed class RegisterTick : INoSerializationVerificationNeeded { public static readonly RegisterTick Instance = new(); }
    private sealed class HeartbeatTick : INoSerializationVerificationNeeded { public static readonly HeartbeatTick Instance = new(); }
    private sealed class TrainingDone : INoSerializationVerificationNeeded { public static readonly TrainingDone Instance = new(); }
    private sealed record UploadSent(long LeaseId, long At) : INoSerializationVerificationNeeded;

    private readonly string _workerId;
    private readonly IActorRef _coordinator;
    private readonly WorkerCapability _capability;
    private readonly ScaleStats _stats;
    private readonly ScaleTimings _timings;
    private readonly Random _random;
    private WorkerProtocol.Lease? _lease;
    private byte[]? _artifact;
    private string _sha = "";
    private long _lastLeaseSeen;
    private long _leaseAt;
    /// <summary>When this worker's slot became free as far as the coordinator can know: its registration, or the moment its
    /// upload stream finished (the store then tells the coordinator). -1: not free (a lease is running).</summary>
    private long _freeSince = -1;
    private bool _first = true;
    private bool _measuring;
    private int _flooding;
    private long _floodLease;
    private bool _uploading;

    public ITimerScheduler Timers { get; set; } = null!;

    public SimWorker(string workerId, IActorRef coordinator, WorkerCapability capability, ScaleStats stats, ScaleTimings timings, int seed)
    {
        _workerId = workerId;
        _coordinator = coordinator;
        _capability = capability;
        _stats = stats;
        _timings = timings;
        _random = new Random(seed);

        Receive<RegisterTick>(_ => Register());
        Receive<WorkerProtocol.Registered>(_ => { });
        Receive<WorkerProtocol.RegistrationRefused>(m => _stats.Error($"{_workerId}: registration refused: {m.Reason}"));
        Receive<WorkerProtocol.Lease>(OnLease);
        Receive<TrainerProtocol.Acknowledged>(_ => { });
        Receive<HeartbeatTick>(_ => Beat());
        Receive<TrainingDone>(_ => Offer());
        Receive<ArtifactProtocol.UploadReady>(m =>
        {
            if (_lease is null || m.LeaseId != _lease.LeaseId) return;
            var leaseId = m.LeaseId;
            Source.Single(_artifact!)
                .WatchTermination(Keep.Right)
                .To(m.Sink.Sink)
                .Run(Context.Materializer())
                .ContinueWith(t => t.IsCompletedSuccessfully ? new UploadSent(leaseId, Stopwatch.GetTimestamp()) : (object)new UploadSent(leaseId, -1))
                .PipeTo(Self);
        });
        Receive<UploadSent>(m =>
        {
            if (_lease is null || m.LeaseId != _lease.LeaseId) return;
            if (m.At < 0) { _stats.Error($"{_workerId}: the upload stream of lease {m.LeaseId} failed"); return; }
            _freeSince = m.At;
        });
        Receive<ArtifactProtocol.UploadCompleted>(m =>
        {
            if (_lease is null || m.LeaseId != _lease.LeaseId) return;
            _stats.Completed(_measuring);
            Idle();
        });
        Receive<ArtifactProtocol.UploadRefused>(m =>
        {
            _stats.Error($"{_workerId}: upload of lease {m.LeaseId} refused: {m.Reason}");
            if (_lease is null || m.LeaseId != _lease.LeaseId) return;
            if (m.LeaseLost) Idle();
            else Timers.StartSingleTimer("offer", TrainingDone.Instance, _timings.HeartbeatInterval);
        });
        Receive<WorkerProtocol.RevokeLease>(m =>
        {
            if (_lease is null || m.LeaseId != _lease.LeaseId || _uploading)
            {
                // A re-registration that listed the lease crossed its completion (the real node lists a lease until its trainer
                // is done, too): the coordinator says it has ended, and the UploadCompleted on its way says how.
                _stats.RacedCompletion();
                return;
            }
            _stats.Revoked();
            Idle();
        });
        Receive<TrainerProtocol.Refused>(m =>
        {
            if (_floodLease != 0 && m.LeaseId == _floodLease)
            {
                // The marker's refusal (a second start: conflict; or stale, when the lease completed meanwhile).
                _stats.FloodAnswered(_flooding);
                _floodLease = 0;
                return;
            }
            if (m.Kind == ErrorKind.StaleLease && (_lease is null || m.LeaseId != _lease.LeaseId || _uploading))
            {
                // A heartbeat that crossed the completion on the wire (sent after the store had the bytes, before UploadCompleted
                // came back): a real trainer sees the same; the UploadCompleted on its way ends the lease here.
                _stats.RacedCompletion();
                return;
            }
            _stats.Error($"{_workerId}: lease {m.LeaseId} refused ({m.Kind}): {m.Reason}");
            if (_lease is not null && m.LeaseId == _lease.LeaseId && m.Kind != ErrorKind.Unavailable) Idle();
        });
        Receive<Measure>(_ => _measuring = true);
        Receive<Flood>(m =>
        {
            if (_lease is null) { _stats.FloodAnswered(0); return; }
            var progress = new TrainingProgress(0, 1, null, null, 0, "bench flood");
            for (var i = 0; i < m.Count; i++) _coordinator.Tell(new TrainerProtocol.Heartbeat(_lease.JobId, _lease.LeaseId, progress, []));
            _flooding = m.Count;
            _floodLease = _lease.LeaseId;
            _coordinator.Tell(new TrainerProtocol.Started(_lease.JobId, _lease.LeaseId, _workerId)); // refused (already running): the marker
        });
    }

    public static Props Props(string workerId, IActorRef coordinator, WorkerCapability capability, ScaleStats stats, ScaleTimings timings, int seed) =>
        Akka.Actor.Props.Create(() => new SimWorker(workerId, coordinator, capability, stats, timings, seed));

    protected override void PreStart()
    {
        _freeSince = Stopwatch.GetTimestamp();
        Register();
        // Re-registration as a worker node does it (register-interval), with the lease it holds; spread over the interval.
        Timers.StartPeriodicTimer("register", RegisterTick.Instance,
            TimeSpan.FromMilliseconds(_random.NextDouble() * _timings.RegisterInterval.TotalMilliseconds) + _timings.RegisterInterval, _timings.RegisterInterval);
    }

    private void Register()
    {
        IReadOnlyList<WorkerProtocol.HeldLease> held = _lease is null ? [] : [new WorkerProtocol.HeldLease(_lease.JobId, _lease.LeaseId)];
        _coordinator.Tell(new WorkerProtocol.Register(_workerId, _capability, 1, held, LastLeaseSeen: _lastLeaseSeen));
    }

    private void OnLease(WorkerProtocol.Lease m)
    {
        _lastLeaseSeen = Math.Max(_lastLeaseSeen, m.LeaseId);
        if (_lease is not null)
        {
            // One slot: a second lease is declined, as a full node does (handed back, not a failed attempt).
            _stats.Error($"{_workerId}: lease {m.LeaseId} arrived while lease {_lease.LeaseId} runs; declined");
            _coordinator.Tell(new WorkerProtocol.LeaseDeclined(m.JobId, m.LeaseId, "bench: no free slot"));
            return;
        }
        var now = Stopwatch.GetTimestamp();
        if (_freeSince >= 0) _stats.Leased(Stopwatch.GetElapsedTime(_freeSince, now), _first, _measuring);
        _first = false;
        _freeSince = -1;
        _lease = m;
        _leaseAt = now;
        _artifact = Encoding.UTF8.GetBytes($"cis490 bench scale: artifact of job {m.JobId} lease {m.LeaseId} by {_workerId}\n");
        _sha = Convert.ToHexStringLower(SHA256.HashData(_artifact));
        _coordinator.Tell(new TrainerProtocol.Started(m.JobId, m.LeaseId, _workerId));
        Timers.StartPeriodicTimer("heartbeat", HeartbeatTick.Instance, _timings.HeartbeatInterval);
        var (min, max) = _timings.Duration;
        Timers.StartSingleTimer("done", TrainingDone.Instance, min + (max - min) * _random.NextDouble());
    }

    private void Beat()
    {
        if (_lease is null) return;
        var elapsed = Stopwatch.GetElapsedTime(_leaseAt).TotalSeconds;
        _coordinator.Tell(new TrainerProtocol.Heartbeat(_lease.JobId, _lease.LeaseId, new TrainingProgress(1, 1, 0.5, null, elapsed, "bench"), []));
        _stats.HeartbeatSent(_measuring);
    }

    private void Offer()
    {
        if (_lease is null) return;
        _uploading = true;
        _coordinator.Tell(new ArtifactProtocol.OfferUpload(_lease.JobId, _lease.LeaseId, _lease.Job.Model, _lease.Job.Mode, _sha, _artifact!.Length,
            new Dictionary<string, double> { ["val_macro_f1"] = 0.5 }));
    }

    /// <summary>The lease is over (completed, revoked, lost): the slot is free from now on, for the coordinator too.</summary>
    private void Idle()
    {
        _lease = null;
        _artifact = null;
        _uploading = false;
        Timers.Cancel("heartbeat");
        Timers.Cancel("done");
        Timers.Cancel("offer");
        if (_freeSince < 0) _freeSince = Stopwatch.GetTimestamp();
    }
}

/// <summary>The production intervals the simulated workers keep (from hocon/worker.conf) and the simulated training time.</summary>
public sealed record ScaleTimings(TimeSpan HeartbeatInterval, TimeSpan RegisterInterval, (TimeSpan Min, TimeSpan Max) Duration);
