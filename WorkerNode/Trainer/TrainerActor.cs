using System.Diagnostics;
using System.Text.Json;
using Akka.Actor;
using Akka.Event;
using Akka.Streams;
using Akka.Streams.Dsl;
using Cis490.Protocols.Artifacts;
using Cis490.Protocols.Jobs;
using Cis490.Protocols.Serialization;
using Cis490.Protocols.Workers;
using Cis490.Shared.Artifacts;
using Cis490.Training.Data;
using Cis490.Training.Runner;
using Cis490.WorkerNode.Node;

namespace Cis490.WorkerNode.Trainer;

/// <summary>Runs one lease: starts the trainer process, relays its progress as heartbeats, bundles the checkpoint and streams it to
/// the artifact store, and reports the outcome. Its process is killed whenever the actor stops.</summary>
public sealed class TrainerActor : ReceiveActor, IWithTimers
{
    private sealed record OutputLine(string Line) : INoSerializationVerificationNeeded;
    private sealed record ErrorLine(string Line) : INoSerializationVerificationNeeded;
    private sealed record Exited(int Code) : INoSerializationVerificationNeeded;
    private sealed record Bundled(string Path, string Sha256, long Bytes) : INoSerializationVerificationNeeded;
    private sealed record BundleFailed(string Error) : INoSerializationVerificationNeeded;
    private sealed class HeartbeatTick : INoSerializationVerificationNeeded { public static readonly HeartbeatTick Instance = new(); }
    private sealed class AckTimeout : INoSerializationVerificationNeeded { public static readonly AckTimeout Instance = new(); }

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly WorkerProtocol.Lease _lease;
    private readonly WorkerSettings _settings;
    private readonly WorkerCapability _capability;
    private readonly IActorRef _coordinator;
    private readonly ITrainerLauncher _launcher;
    private readonly string _jobDir;
    private readonly Queue<string> _stderrTail = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private ITrainerProcess? _process;
    private TrainingProgress _progress;
    private readonly List<TrainingProgress> _unsent = []; // progress lines since the last heartbeat, for the coordinator's `jobs logs`
    private Dictionary<string, double> _metrics = new();
    private Bundled? _bundle;
    private int _uploadAttempts;
    private TimeSpan _lastOutput;
    private bool _silenceReported;

    public ITimerScheduler Timers { get; set; } = null!;

    private string JobId => _lease.JobId;
    private long LeaseId => _lease.LeaseId;

    public TrainerActor(WorkerProtocol.Lease lease, WorkerSettings settings, WorkerCapability capability, IActorRef coordinator, ITrainerLauncher launcher)
    {
        _lease = lease;
        _settings = settings;
        _capability = capability;
        _coordinator = coordinator;
        _launcher = launcher;
        _jobDir = Path.Combine(settings.WorkDir, $"{lease.JobId[..12]}-lease{lease.LeaseId}");
        _progress = new TrainingProgress(0, 0, null, null, 0, "starting");
        Training();
    }

    public static Props Props(WorkerProtocol.Lease lease, WorkerSettings settings, WorkerCapability capability, IActorRef coordinator, ITrainerLauncher launcher) =>
        Akka.Actor.Props.Create(() => new TrainerActor(lease, settings, capability, coordinator, launcher));

    protected override void PreStart()
    {
        if (Directory.Exists(_jobDir)) Directory.Delete(_jobDir, true);
        Directory.CreateDirectory(_jobDir);
        var spec = _lease.Job;
        var request = new TrainRequest(spec.JobId, LeaseId, spec.Model, spec.Mode, spec.HyperJson, spec.SplitRecipe, spec.TrainHosts, spec.Seed,
            _settings.DataDir, Path.Combine(_jobDir, "out"), JsonSerializer.SerializeToElement(_capability, Cis490Serializer.CreateOptions(null)));
        var jobFile = Path.Combine(_jobDir, TrainRequest.FileName);
        request.Save(jobFile);

        var self = Self; // Self is not reachable from the process's event threads
        _process = _launcher.Start(jobFile,
            line => self.Tell(new OutputLine(line)),
            line => self.Tell(new ErrorLine(line)),
            code => self.Tell(new Exited(code)));
        _log.Info("Job {0} lease {1}: trainer process {2} started in {3}", JobId, LeaseId, _process.Id, _jobDir);

        _coordinator.Tell(new TrainerProtocol.Started(JobId, LeaseId, _settings.WorkerId));
        Timers.StartPeriodicTimer("heartbeat", HeartbeatTick.Instance, _settings.HeartbeatInterval);
    }

    protected override void PostStop()
    {
        KillProcess();
        try { if (Directory.Exists(_jobDir)) Directory.Delete(_jobDir, true); }
        catch (IOException e) { _log.Warning("Could not remove {0}: {1}", _jobDir, e.Message); }
    }

    private void Common()
    {
        Receive<HeartbeatTick>(_ => Beat());
        Receive<TrainerProtocol.Refused>(m =>
        {
            _log.Warning("Job {0} lease {1}: the coordinator refused this lease ({2}); stopping", JobId, LeaseId, m.Reason);
            Finish();
        });
        Receive<TrainerProtocol.Acknowledged>(_ => { });
        Receive<ErrorLine>(m => Remember(m.Line));
    }

    /// <summary>Relays liveness to the coordinator: always once the process has exited (bundling, uploading), and while training
    /// only when the process has printed something within the silence limit; a stopped or wedged trainer lets its lease expire.</summary>
    private void Beat()
    {
        var silent = _clock.Elapsed - _lastOutput;
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
        Common();
        Receive<OutputLine>(m =>
        {
            _lastOutput = _clock.Elapsed;
            ReadProgress(m.Line);
        });
        Receive<Exited>(m =>
        {
            SendHeartbeat(); // the last progress lines reach `jobs logs` even when the job ends between two heartbeats
            if (m.Code != 0)
            {
                var tail = string.Join("\n", _stderrTail);
                Fail($"trainer process exited with code {m.Code}{(tail.Length > 0 ? ": " + tail : "")}");
                return;
            }
            _log.Info("Job {0} lease {1}: training finished in {2:F1} s; bundling", JobId, LeaseId, _clock.Elapsed.TotalSeconds);
            var outDir = Path.Combine(_jobDir, "out");
            var bundlePath = Path.Combine(_jobDir, ArtifactBundle.FileName);
            try
            {
                _metrics = new Dictionary<string, double>(Checkpoint.Load(outDir).Metrics);
            }
            catch (Exception e) when (e is IOException or InvalidDataException or JsonException)
            {
                Fail($"the trainer exited cleanly but left no readable checkpoint: {e.Message}");
                return;
            }
            Task.Run(() =>
            {
                var (sha, bytes) = ArtifactBundle.Create(outDir, bundlePath);
                return (object)new Bundled(bundlePath, sha, bytes);
            }).PipeTo(Self, failure: e => new BundleFailed(e.GetBaseException().Message));
            Become(Bundling);
        });
    }

    private void Bundling()
    {
        Common();
        Receive<OutputLine>(_ => { });
        Receive<BundleFailed>(m => Fail($"could not bundle the checkpoint: {m.Error}"));
        Receive<Bundled>(m =>
        {
            _bundle = m;
            Offer();
            Become(Uploading);
        });
    }

    private void Uploading()
    {
        Common();
        Receive<ArtifactProtocol.UploadReady>(m =>
        {
            _log.Info("Job {0} lease {1}: streaming {2} bytes to the artifact store", JobId, LeaseId, _bundle!.Bytes);
            FileIO.FromFile(new FileInfo(_bundle.Path), ArtifactProtocol.MaxChunkBytes)
                .Select(bs => bs.ToArray())
                .RunWith(m.Sink.Sink, Context.Materializer());
        });
        Receive<ArtifactProtocol.UploadCompleted>(m =>
        {
            _log.Info("Job {0} lease {1}: completed, artifact {2}{3}", JobId, LeaseId, m.Sha256, m.Deduplicated ? " (deduplicated)" : "");
            Finish();
        });
        Receive<ArtifactProtocol.UploadRefused>(m => RetryUpload($"upload refused: {m.Reason}", stale: m.LeaseLost));
        Receive<AckTimeout>(_ => RetryUpload($"no answer from the artifact store within {_settings.UploadAckTimeout.TotalSeconds:F0} s", stale: false));
    }

    private void SendHeartbeat()
    {
        _coordinator.Tell(new TrainerProtocol.Heartbeat(JobId, LeaseId, _progress with { ElapsedSeconds = _clock.Elapsed.TotalSeconds }, [.. _unsent]));
        _unsent.Clear();
    }

    private void Offer()
    {
        _uploadAttempts++;
        _coordinator.Tell(new ArtifactProtocol.OfferUpload(JobId, LeaseId, _lease.Job.Model, _lease.Job.Mode, _bundle!.Sha256, _bundle.Bytes, _metrics));
        Timers.StartSingleTimer("ack", AckTimeout.Instance, _settings.UploadAckTimeout);
    }

    private void RetryUpload(string why, bool stale)
    {
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
        // Bounded: a trainer printing faster than it heartbeats keeps its latest 200 lines per heartbeat (one remote frame).
        if (_unsent.Count == 200) _unsent.RemoveAt(0);
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
