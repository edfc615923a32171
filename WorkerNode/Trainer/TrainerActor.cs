using System.Diagnostics;
using System.Text.Json;
using Akka.Actor;
using Akka.Event;
using Akka.Streams;
using Akka.Streams.Dsl;
using Cis490.Protocols;
using Cis490.Protocols.Artifacts;
using Cis490.Protocols.Jobs;
using Cis490.Protocols.Serialization;
using Cis490.Protocols.Workers;
using Cis490.Shared.Artifacts;
using Cis490.Training.Data;
using Cis490.Training.Runner;
using Cis490.WorkerNode.Node;

namespace Cis490.WorkerNode.Trainer;

/// <summary>Runs one lease: starts the trainer process (or adopts one a previous actor system detached), relays its progress as
/// heartbeats, bundles the checkpoint and streams it to the artifact store, and reports the outcome. Its process is killed whenever
/// the actor stops, except when it is told to <see cref="Detach"/>: then the process runs on for the next actor system.</summary>
public sealed partial class TrainerActor : ReceiveActor, IWithTimers
{
    /// <summary>From the node, when its actor system ends for a reason other than a signal: hand the running process over to
    /// <paramref name="Into"/> and stop without killing it. <paramref name="LostSince"/>: since when no coordinator has confirmed the lease.</summary>
    public sealed record Detach(DetachedTrainers Into, DateTimeOffset LostSince) : INoSerializationVerificationNeeded;

    /// <summary>From the node: whether a coordinator is reachable. While none is, heartbeats are held (their progress lines kept,
    /// bounded) rather than buffered in a proxy that may not outlive the actor system.</summary>
    public sealed record CoordinatorReachable(bool Reachable) : INoSerializationVerificationNeeded;

    private sealed record DetachNow(DetachedTrainers Into, DateTimeOffset LostSince) : INoSerializationVerificationNeeded;
    private sealed record Bundled(TrainerBundle Bundle) : INoSerializationVerificationNeeded;
    private sealed record BundleFailed(string Error) : INoSerializationVerificationNeeded;
    private sealed class HeartbeatTick : INoSerializationVerificationNeeded { public static readonly HeartbeatTick Instance = new(); }
    private sealed class AckTimeout : INoSerializationVerificationNeeded { public static readonly AckTimeout Instance = new(); }
    private sealed class OfferAgain : INoSerializationVerificationNeeded { public static readonly OfferAgain Instance = new(); }

    /// <summary>Progress lines one heartbeat carries at most (the latest): one remote frame.</summary>
    private const int MaxLinesPerHeartbeat = 200;

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly WorkerProtocol.Lease _lease;
    private readonly TrainerTelemetry _telemetry;
    private readonly WorkerSettings _settings;
    private readonly WorkerCapability _capability;
    private readonly IActorRef _coordinator;
    private readonly ITrainerLauncher? _launcher;
    private readonly DetachedTrainer? _adopted;
    private readonly IActorRef? _dataSets;
    private readonly string _jobDir;
    private readonly Queue<string> _stderrTail = new();
    private readonly long _startedAt;
    private readonly TrainerOutputRelay _relay;
    private ITrainerProcess? _process;
    private TrainingProgress _progress;
    private readonly List<TrainingProgress> _unsent = []; // progress lines since the last heartbeat, for the coordinator's `jobs logs`
    private Dictionary<string, double> _metrics = new();
    /// <summary>The data set the checkpoint says it was trained on (null until it is read, or for an adopted trainer).</summary>
    private string? _trainedOn;
    private TrainerPhase _phase = TrainerPhase.Training;
    private Task<TrainerBundle>? _bundling;
    private TrainerBundle? _bundle;
    private int _uploadAttempts;
    private TimeSpan _lastOutput;
    private bool _silenceReported;
    private bool _startAcknowledged;
    /// <summary>The start was answered "not yet" (a coordinator that just recovered, before this worker registered again): it is
    /// reported again with the next heartbeat, so the job's start is recorded.</summary>
    private bool _resendStart;
    private bool _holding;
    private bool _detached;

    public ITimerScheduler Timers { get; set; } = null!;

    private string JobId => _lease.JobId;
    private long LeaseId => _lease.LeaseId;
    private TimeSpan Elapsed => Stopwatch.GetElapsedTime(_startedAt);

    /// <summary>Use <see cref="Props"/> or <see cref="Adopt"/>: exactly one of <paramref name="launcher"/> and <paramref name="adopted"/> is set.</summary>
    public TrainerActor(WorkerProtocol.Lease lease, WorkerSettings settings, WorkerCapability capability, IActorRef coordinator,
        ITrainerLauncher? launcher, DetachedTrainer? adopted, IActorRef? dataSets = null)
    {
        _dataSets = dataSets;
        _lease = lease;
        _telemetry = new TrainerTelemetry(lease.JobId, lease.LeaseId, lease.Job.Model);
        _settings = settings;
        _capability = capability;
        _coordinator = coordinator;
        _launcher = launcher;
        _adopted = adopted;
        if (adopted is null)
        {
            _jobDir = JobDir(settings.WorkDir, lease);
            _startedAt = Stopwatch.GetTimestamp();
            _relay = new TrainerOutputRelay();
            _progress = new TrainingProgress(0, 0, null, null, 0, "starting");
            if (lease.Job.DataSet is not null || settings.DataDir is null) Fetching();
            else Training();
            return;
        }
        _jobDir = adopted.JobDir;
        _startedAt = adopted.StartedAt;
        _relay = adopted.Relay;
        _process = adopted.Process;
        _progress = adopted.Progress;
        _unsent.AddRange(adopted.Unsent);
        foreach (var line in adopted.StderrTail) Remember(line);
        _metrics = new Dictionary<string, double>(adopted.Metrics);
        _bundle = adopted.Bundle;
        _startAcknowledged = adopted.StartAcknowledged;
        _lastOutput = Elapsed; // silence is measured from the adoption: the relay does not hold alive lines
        switch (adopted.Phase)
        {
            case TrainerPhase.Training: Training(); break;
            case TrainerPhase.Bundling: Bundling(); break;
            default: Uploading(); break;
        }
    }

    /// <param name="dataSets">The node's <see cref="Data.DataSetCache"/>: where a lease bound to a data set gets its folder (null: only
    /// leases bound to none can run, on the worker's <c>--data</c> folder).</param>
    public static Props Props(WorkerProtocol.Lease lease, WorkerSettings settings, WorkerCapability capability, IActorRef coordinator, ITrainerLauncher launcher,
        IActorRef? dataSets = null) =>
        Akka.Actor.Props.Create(() => new TrainerActor(lease, settings, capability, coordinator, launcher, null, dataSets));

    /// <summary>A trainer actor for a process a previous actor system detached: it attaches to the process's output and carries on
    /// where the detached actor stopped (training, bundling or uploading); it starts nothing.</summary>
    public static Props Adopt(DetachedTrainer detached, WorkerSettings settings, WorkerCapability capability, IActorRef coordinator) =>
        Akka.Actor.Props.Create(() => new TrainerActor(detached.Lease, settings, capability, coordinator, null, detached));

    protected override void PreStart()
    {
        if (_adopted is { } a)
        {
            var dropped = _relay.Dropped;
            _relay.Attach(Self); // the output held while detached comes first, in order
            _log.Info("Job {0} lease {1}: adopted trainer process {2} ({3}, {4:F0} s since start; {5} output line(s) dropped while detached)",
                JobId, LeaseId, a.Process.Id, a.Phase, Elapsed.TotalSeconds, dropped);
            // The coordinator may have died before it recorded the start: report it again (a second start is refused as a
            // conflict, which for an adopted lease means it was recorded).
            if (!_startAcknowledged) _coordinator.Tell(new TrainerProtocol.Started(JobId, LeaseId, _settings.WorkerId));
            switch (a.Phase)
            {
                case TrainerPhase.Bundling: StartBundling(a.Bundling); break;
                case TrainerPhase.Uploading: Offer(); break;
            }
            Timers.StartPeriodicTimer("heartbeat", HeartbeatTick.Instance, _settings.HeartbeatInterval);
            Self.Tell(HeartbeatTick.Instance); // heartbeats resume at once, with the lines held while detached
            return;
        }

        if (Directory.Exists(_jobDir)) Directory.Delete(_jobDir, true);
        Directory.CreateDirectory(_jobDir);
        if (_lease.Job.DataSet is { } dataSet) AskForData(dataSet); // the process starts once the data set is here
        else if (_settings.DataDir is { } dataDir) StartProcess(dataDir);
        else Self.Tell(new DataUnavailable($"job {JobId} is bound to no data set (none was published when it was submitted) and this worker has no --data folder"));
        // Heartbeats from now on: while the data set travels (the lease is still only leased), then while the process trains.
        Timers.StartPeriodicTimer("heartbeat", HeartbeatTick.Instance, _settings.HeartbeatInterval);
    }

    /// <summary>Starts the trainer process on <paramref name="dataDir"/> (the bound data set's folder, or the worker's --data).</summary>
    private void StartProcess(string dataDir)
    {
        var spec = _lease.Job;
        var request = new TrainRequest(spec.JobId, LeaseId, spec.Model, spec.Mode, spec.HyperJson, spec.SplitRecipe, spec.TrainHosts, spec.Seed,
            dataDir, Path.Combine(_jobDir, "out"), JsonSerializer.SerializeToElement(_capability, Cis490Serializer.CreateOptions(null)), spec.DataSet);
        var jobFile = Path.Combine(_jobDir, TrainRequest.FileName);
        request.Save(jobFile);

        _relay.Attach(Self); // the process's event threads reach this actor (or, once detached, the next one) through the relay
        _process = _launcher!.Start(jobFile, _relay.Output, _relay.Error, _relay.Exit);
        _log.Info("Job {0} lease {1}: trainer process {2} started in {3} on data {4}", JobId, LeaseId, _process.Id, _jobDir, dataDir);
        _coordinator.Tell(new TrainerProtocol.Started(JobId, LeaseId, _settings.WorkerId));
    }

    protected override void PostStop()
    {
        if (_lease.Job.DataSet is { } dataSet) _dataSets?.Tell(new Data.DataSetCache.Release(dataSet)); // may be evicted once no lease uses it
        if (_detached) return; // the process runs on; the next actor system's trainer adopts it
        KillProcess();
        try { if (Directory.Exists(_jobDir)) Directory.Delete(_jobDir, true); }
        catch (IOException e) { _log.Warning("Could not remove {0}: {1}", _jobDir, e.Message); }
    }

    private void Common()
    {
        Receive<HeartbeatTick>(_ => Beat());
        Receive<TrainerProtocol.Refused>(m =>
        {
            if (m.Kind == ErrorKind.Conflict && _adopted is not null)
            {
                _startAcknowledged = true; // the repeated start of an adopted lease: the coordinator had recorded it
                return;
            }
            if (m.Kind == ErrorKind.Unavailable)
            {
                if (!_startAcknowledged) _resendStart = true;
                // A coordinator that just recovered hears a lease only from its worker once that worker has registered again
                // (the node registers at once and every register-interval): not a lost lease, training goes on.
                _log.Info("Job {0} lease {1}: the coordinator cannot hear this lease yet ({2}); training goes on", JobId, LeaseId, m.Reason);
                return;
            }
            _log.Warning("Job {0} lease {1}: the coordinator refused this lease ({2}); stopping", JobId, LeaseId, m.Reason);
            Finish();
        });
        Receive<TrainerProtocol.Acknowledged>(_ => _startAcknowledged = true);
        Receive<TrainerOutputRelay.ErrorLine>(m => Remember(m.Text));
        Receive<CoordinatorReachable>(m =>
        {
            _holding = !m.Reachable;
            if (m.Reachable) SendHeartbeat(); // what was held goes out at once
        });
        Receive<Detach>(m =>
        {
            if (_process is null) return;
            _relay.Detach();
            // Lines the relay delivered before it let go are in the mailbox ahead of this: they are read before the hand-over.
            Self.Tell(new DetachNow(m.Into, m.LostSince));
        });
        Receive<DetachNow>(m =>
        {
            m.Into.Add(new DetachedTrainer(_lease, _jobDir, _process!, _relay, _phase, _startedAt, _progress, [.. _unsent], [.. _stderrTail],
                _bundling, _bundle, _metrics, _startAcknowledged, m.LostSince));
            _log.Warning("Job {0} lease {1}: actor system ending; trainer process {2} keeps running ({3}) for the next one to adopt",
                JobId, LeaseId, _process!.Id, _phase);
            _detached = true;
            Context.Stop(Self);
        });
    }

    /// <summary>Relays liveness to the coordinator: always once the process has exited (bundling, uploading), and while training
    /// only when the process has printed something within the silence limit; a stopped or wedged trainer lets its lease expire.</summary>
    private void Beat()
    {
        if (_resendStart && !_startAcknowledged)
        {
            _resendStart = false;
            _coordinator.Tell(new TrainerProtocol.Started(JobId, LeaseId, _settings.WorkerId));
        }
        var silent = Elapsed - _lastOutput;
        if (_process is { HasExited: false } && silent > _settings.TrainerSilenceLimit)
        {
            if (!_silenceReported)
                _log.Warning("Job {0} lease {1}: trainer process {2} silent for {3:F0} s; no heartbeats until it speaks again",
                    JobId, LeaseId, _process.Id, silent.TotalSeconds);
            _silenceReported = true;
            return;
        }
        _silenceReported = false;
        SendHeartbeat();
    }

    private void Training()
    {
        _phase = TrainerPhase.Training;
        Common();
        Receive<TrainerOutputRelay.Line>(m =>
        {
            _lastOutput = Elapsed;
            ReadProgress(m.Text);
        });
        Receive<TrainerOutputRelay.Exited>(m =>
        {
            SendHeartbeat(); // the last progress lines reach `jobs logs` even when the job ends between two heartbeats
            if (m.Code != 0)
            {
                var tail = string.Join("\n", _stderrTail);
                Fail($"trainer process exited with code {m.Code}{(tail.Length > 0 ? ": " + tail : "")}");
                return;
            }
            _log.Info("Job {0} lease {1}: training finished in {2:F1} s; bundling", JobId, LeaseId, Elapsed.TotalSeconds);
            try
            {
                var checkpoint = Checkpoint.Load(Path.Combine(_jobDir, "out"));
                _metrics = new Dictionary<string, double>(checkpoint.Metrics);
                _trainedOn = checkpoint.Lineage.DataSet;
            }
            catch (Exception e) when (e is IOException or InvalidDataException or JsonException)
            {
                Fail($"the trainer exited cleanly but left no readable checkpoint: {e.Message}");
                return;
            }
            StartBundling(null);
            Become(Bundling);
        });
    }

    /// <summary>Bundles the checkpoint off the mailbox; <paramref name="running"/>: a bundling a detached actor started, still going.</summary>
    private void StartBundling(Task<TrainerBundle>? running)
    {
        var outDir = Path.Combine(_jobDir, "out");
        var bundlePath = Path.Combine(_jobDir, ArtifactBundle.FileName);
        _bundling = running ?? Task.Run(() =>
        {
            var (sha, bytes) = ArtifactBundle.Create(outDir, bundlePath);
            return new TrainerBundle(bundlePath, sha, bytes);
        });
        _bundling.PipeTo(Self, success: b => new Bundled(b), failure: e => new BundleFailed(e.GetBaseException().Message));
    }

    private void Bundling()
    {
        _phase = TrainerPhase.Bundling;
        Common();
        Receive<TrainerOutputRelay.Line>(_ => { });
        Receive<BundleFailed>(m => Fail($"could not bundle the checkpoint: {m.Error}"));
        Receive<Bundled>(m =>
        {
            _bundle = m.Bundle;
            _bundling = null;
            Offer();
            Become(Uploading);
        });
    }

    private void Uploading()
    {
        _phase = TrainerPhase.Uploading;
        Common();
        Receive<TrainerOutputRelay.Line>(_ => { });
        Receive<ArtifactProtocol.UploadReady>(m =>
        {
            _log.Info("Job {0} lease {1}: streaming {2} bytes to the artifact store", JobId, LeaseId, _bundle!.Bytes);
            _telemetry.UploadStarted();
            Shared.Artifacts.BundleStreams.FromFile(_bundle.Path, Context.System.Settings.Config).RunWith(m.Sink.Sink, Context.Materializer());
        });
        Receive<ArtifactProtocol.UploadCompleted>(m =>
        {
            _log.Info("Job {0} lease {1}: completed, artifact {2}{3}", JobId, LeaseId, m.Sha256, m.Deduplicated ? " (deduplicated)" : "");
            _telemetry.UploadEnded(ok: true, _bundle!.Bytes);
            Finish();
        });
        Receive<ArtifactProtocol.UploadRefused>(m =>
        {
            if (m.Kind == ErrorKind.Unavailable)
            {
                // Not yet heard (the coordinator just recovered; this worker registers again at once): offer again after a
                // heartbeat interval, without spending one of the upload attempts.
                _log.Info("Job {0} lease {1}: the coordinator cannot take the upload yet ({2}); offering again in {3:F0} s", JobId, LeaseId, m.Reason,
                    _settings.HeartbeatInterval.TotalSeconds);
                Timers.Cancel("ack");
                _uploadAttempts--;
                Timers.StartSingleTimer("offer-again", OfferAgain.Instance, _settings.HeartbeatInterval);
                return;
            }
            RetryUpload($"upload refused: {m.Reason}", stale: m.LeaseLost);
        });
        Receive<OfferAgain>(_ => Offer());
        Receive<AckTimeout>(_ => RetryUpload($"no answer from the artifact store within {_settings.UploadAckTimeout.TotalSeconds:F0} s", stale: false));
    }

    /// <summary>The lease's own folder under the work directory, from a well-formed job id only (the node declines any other), and
    /// checked to be inside the work directory: it is removed recursively before a run.</summary>
    internal static string JobDir(string workDir, WorkerProtocol.Lease lease)
    {
        if (!Cis490.Shared.Jobs.JobIds.IsWellFormed(lease.JobId))
            throw new ArgumentException($"job id of lease {lease.LeaseId} is not 64 hex digits; no folder is made from it");
        var root = Path.GetFullPath(workDir);
        var dir = Path.GetFullPath(Path.Combine(root, $"{lease.JobId[..12]}-lease{lease.LeaseId}"));
        if (Path.GetDirectoryName(dir) != root.TrimEnd(Path.DirectorySeparatorChar))
            throw new ArgumentException($"the folder of lease {lease.LeaseId} would be outside the work directory {root}");
        return dir;
    }

    private void SendHeartbeat()
    {
        if (_holding) return; // no coordinator to hear it: the lines stay in _unsent (bounded) until one is back
        _telemetry.Heartbeat();
        _coordinator.Tell(new TrainerProtocol.Heartbeat(JobId, LeaseId, _progress with { ElapsedSeconds = Elapsed.TotalSeconds }, [.. _unsent]));
        _unsent.Clear();
    }

    private void Offer()
    {
        _uploadAttempts++;
        _coordinator.Tell(new ArtifactProtocol.OfferUpload(JobId, LeaseId, _lease.Job.Model, _lease.Job.Mode, _bundle!.Sha256, _bundle.Bytes, _metrics,
            _trainedOn ?? _lease.Job.DataSet));
        Timers.StartSingleTimer("ack", AckTimeout.Instance, _settings.UploadAckTimeout);
    }

    private void RetryUpload(string why, bool stale)
    {
        _telemetry.UploadEnded(ok: false, _bundle?.Bytes ?? 0);
        if (stale)
        {
            _log.Warning("Job {0} lease {1}: {2}; this worker no longer owns the job", JobId, LeaseId, why);
            Finish();
            return;
        }
        if (_uploadAttempts >= _settings.UploadAttempts)
        {
            Fail($"{why} (after {_uploadAttempts} upload attempts)");
            return;
        }
        _log.Warning("Job {0} lease {1}: {2}; offering the bundle again", JobId, LeaseId, why);
        Offer();
    }

    private void ReadProgress(string line)
    {
        if (TrainerOutput.ReadProgress(line) is not { } p)
        {
            if (line != TrainerOutput.Alive) _log.Debug("trainer output (not a progress line): {0}", line);
            return;
        }
        _progress = new TrainingProgress(p.Epoch, p.TotalEpochs, p.Loss, p.ValMacroF1, p.ElapsedSeconds, p.Message);
        _telemetry.Progress(p.Epoch, p.ElapsedSeconds);
        // Bounded: a trainer printing faster than it heartbeats (or while heartbeats are held) keeps its latest lines.
        if (_unsent.Count == MaxLinesPerHeartbeat) _unsent.RemoveAt(0);
        _unsent.Add(_progress);
    }

    private void Fail(string error)
    {
        _log.Error("Job {0} lease {1} failed: {2}", JobId, LeaseId, error);
        _coordinator.Tell(new TrainerProtocol.Failed(JobId, LeaseId, error));
        Finish();
    }

    private void Finish()
    {
        Context.Parent.Tell(new WorkerNodeActor.TrainerDone(JobId, LeaseId));
        Context.Stop(Self);
    }

    private void Remember(string line)
    {
        _stderrTail.Enqueue(line);
        while (_stderrTail.Count > 20) _stderrTail.Dequeue();
    }

    private void KillProcess()
    {
        _process?.Kill(_settings.TrainerStopGrace);
        _process?.Dispose();
    }
}
