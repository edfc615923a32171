using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using Akka.Streams;
using Akka.Streams.Dsl;
using Cis490.Protocols;
using Cis490.Protocols.DataSets;
using Cis490.Shared.Artifacts;
using Cis490.Shared.DataSets;
using Cis490.WorkerNode.Node;

namespace Cis490.WorkerNode.Data;

/// <summary>A worker's data sets, by content hash: a lease's trainer asks for its data set, and gets the folder at once when it is
/// cached (or is the worker's pre-seeded <c>--data</c> folder), else once it has been pulled from the coordinator. One transfer per
/// data set however many leases wait for it; a dropped transfer resumes from the bytes already on disk; a transfer whose bytes do
/// not hash to what was published is refused and fetched again; past <c>data-cache-size</c> the least recently used data sets
/// that no lease is using are evicted.</summary>
public sealed class DataSetCache : ReceiveActor, IWithTimers, IWithUnboundedStash
{
    /// <summary>From a trainer: the folder of data set <paramref name="Sha256"/>, for lease <paramref name="LeaseId"/> of
    /// <paramref name="JobId"/> (the coordinator serves a lease's own data set only).</summary>
    public sealed record Ensure(string Sha256, string JobId, long LeaseId) : INoSerializationVerificationNeeded;

    /// <summary>To the trainer: the data set is in <paramref name="Dir"/>, and stays there while the trainer uses it.</summary>
    public sealed record Ready(string Sha256, string Dir) : INoSerializationVerificationNeeded;

    /// <summary>To the trainer: the data set cannot be had (the lease is gone, or every transfer failed).</summary>
    public sealed record Unavailable(string Sha256, string Reason) : INoSerializationVerificationNeeded;

    /// <summary>From a trainer that stops: it no longer uses (or waits for) the data set.</summary>
    public sealed record Release(string Sha256) : INoSerializationVerificationNeeded;

    private sealed record SeedHashed(string? Sha256, string? Problem) : INoSerializationVerificationNeeded;
    private sealed record TransferEnded(string Sha256, long Bytes, string? Error, string? ReceivedSha256 = null) : INoSerializationVerificationNeeded;
    private sealed record Installed(string Sha256, string? Problem) : INoSerializationVerificationNeeded;
    private sealed record Again(string Sha256) : INoSerializationVerificationNeeded;

    private sealed record Waiter(IActorRef Trainer, string JobId, long LeaseId);

    /// <summary>A data set being pulled: who waits for it, how many transfers it took, the bytes they carried.</summary>
    private sealed class Transfer
    {
        public readonly List<Waiter> Waiters = [];
        public readonly Stopwatch Clock = Stopwatch.StartNew();
        public int Attempts;
        public int Refused;
        public long Bytes;
        public long BundleBytes;
        public string? BundleSha256;
        public bool Streaming;
        public TimeSpan Streamed;
    }

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly DataSetFolder _folder;
    private readonly DataCacheSettings _settings;
    private readonly string? _seedDir;
    private readonly IActorRef _coordinator;
    private readonly Dictionary<string, Transfer> _transfers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _inUse = new(StringComparer.Ordinal);
    private string? _seedSha;

    public ITimerScheduler Timers { get; set; } = null!;
    public IStash Stash { get; set; } = null!;

    /// <param name="seedDir">The worker's <c>--data</c> folder (null: none): a data set already here, used without a transfer.</param>
    public DataSetCache(string cacheDir, string? seedDir, DataCacheSettings settings, IActorRef coordinator)
    {
        _folder = new DataSetFolder(cacheDir);
        _seedDir = seedDir;
        _settings = settings;
        _coordinator = coordinator;
        // Until the --data folder is hashed, requests wait (a big folder takes a while to hash, off the mailbox).
        Receive<SeedHashed>(m =>
        {
            _seedSha = m.Sha256;
            if (m.Problem is not null) _log.Warning("The --data folder {0} is not used as a data set: {1}", _seedDir, m.Problem);
            else if (m.Sha256 is not null) _log.Info("The --data folder {0} holds data set {1}: jobs bound to it train without a transfer", _seedDir, m.Sha256);
            Stash.UnstashAll();
            Become(Serving);
        });
        ReceiveAny(_ => Stash.Stash());
    }

    public static Props Props(string cacheDir, string? seedDir, DataCacheSettings settings, IActorRef coordinator) =>
        Akka.Actor.Props.Create(() => new DataSetCache(cacheDir, seedDir, settings, coordinator));

    protected override void PreStart()
    {
        var seed = _seedDir;
        Task.Run(() =>
        {
            if (seed is null || !Directory.Exists(seed)) return new SeedHashed(null, null);
            try
            {
                return new SeedHashed(DataSetContent.Hash(seed), null);
            }
            catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
            {
                return new SeedHashed(null, e.Message);
            }
        }).PipeTo(Self);
    }

    private void Serving()
    {
        Receive<Ensure>(Serve);
        Receive<Release>(m =>
        {
            if (_inUse.TryGetValue(m.Sha256, out var n) && n > 0) _inUse[m.Sha256] = n - 1;
            if (_transfers.TryGetValue(m.Sha256, out var t)) t.Waiters.RemoveAll(w => w.Trainer.Equals(Sender));
        });
        Receive<DataSetProtocol.FetchReady>(Stream);
        Receive<DataSetProtocol.FetchRefused>(Refused);
        Receive<TransferEnded>(Ended);
        Receive<Installed>(Install);
        Receive<Again>(m => Request(m.Sha256));
    }

    private void Serve(Ensure m)
    {
        if (m.Sha256 == _seedSha)
        {
            Sender.Tell(new Ready(m.Sha256, _seedDir!));
            return;
        }
        if (!DataSetContent.IsHash(m.Sha256))
        {
            Sender.Tell(new Unavailable(m.Sha256, $"'{m.Sha256}' is not a data-set content hash"));
            return;
        }
        if (_folder.Has(m.Sha256))
        {
            _folder.Touch(m.Sha256);
            _inUse[m.Sha256] = _inUse.GetValueOrDefault(m.Sha256) + 1;
            _log.Info("Data set {0}: in the cache ({1}); no transfer", m.Sha256, _folder.Dir(m.Sha256));
            Sender.Tell(new Ready(m.Sha256, _folder.Dir(m.Sha256)));
            return;
        }
        var fresh = !_transfers.TryGetValue(m.Sha256, out var transfer);
        transfer ??= _transfers[m.Sha256] = new Transfer();
        transfer.Waiters.Add(new Waiter(Sender, m.JobId, m.LeaseId));
        if (fresh) Request(m.Sha256);
    }

    /// <summary>Asks the coordinator for the bytes from what is already on disk, on behalf of the first lease still waiting.</summary>
    private void Request(string sha)
    {
        if (!_transfers.TryGetValue(sha, out var t)) return;
        if (t.Waiters.Count == 0)
        {
            _transfers.Remove(sha); // nobody waits any more; what arrived stays on disk for the next lease to resume
            _log.Info("Data set {0}: no lease waits for it any more; {1} bytes kept for a later transfer to resume", sha, _folder.Received(sha));
            return;
        }
        var w = t.Waiters[0];
        _folder.PrepareIncoming(); // made on the first transfer: a worker that never pulls a data set leaves no folders behind
        var offset = _folder.Received(sha);
        t.Attempts++;
        _log.Info("Data set {0}: asking the coordinator for it (transfer {1} of at most {2}, for job {3} lease {4}){5}", sha, t.Attempts,
            _settings.FetchAttempts, w.JobId, w.LeaseId, offset > 0 ? $", resuming from byte {offset}" : "");
        _coordinator.Tell(new DataSetProtocol.Fetch(w.JobId, w.LeaseId, sha, offset));
        Timers.StartSingleTimer($"answer-{sha}", new TransferEnded(sha, 0, $"the coordinator did not answer the fetch within {_settings.IdleTimeout.TotalSeconds:F0} s"),
            _settings.IdleTimeout);
    }

    private void Stream(DataSetProtocol.FetchReady m)
    {
        if (!_transfers.TryGetValue(m.Sha256, out var t) || t.Streaming) return;
        Timers.Cancel($"answer-{m.Sha256}");
        if (m.Offset != _folder.Received(m.Sha256))
        {
            Self.Tell(new TransferEnded(m.Sha256, 0, $"the coordinator offered bytes from {m.Offset}, this worker holds {_folder.Received(m.Sha256)}"));
            return;
        }
        t.Streaming = true;
        t.BundleSha256 = m.BundleSha256;
        t.BundleBytes = m.BundleBytes;
        var sha = m.Sha256;
        var offset = m.Offset;
        // Written and hashed in one pass (the bytes already on disk of a resumed transfer are hashed first): the install checks
        // that hash instead of reading the whole bundle back.
        m.Source.Source
            .IdleTimeout(_settings.IdleTimeout)
            .RunWith(BundleStreams.ToFile(_folder.PartPath(sha), m.BundleBytes, offset), Context.Materializer())
            .ContinueWith(task => task.IsCompletedSuccessfully ? new TransferEnded(sha, task.Result.Bytes - offset, null, task.Result.Sha256)
                : new TransferEnded(sha, Math.Max(0, _folder.Received(sha) - offset), task.IsCanceled ? "the transfer was cancelled" : task.Exception!.GetBaseException().Message))
            .PipeTo(Self);
    }

    private void Refused(DataSetProtocol.FetchRefused m)
    {
        if (!_transfers.TryGetValue(m.Sha256, out var t)) return;
        Timers.Cancel($"answer-{m.Sha256}");
        if (m.Kind is ErrorKind.StaleLease or ErrorKind.NotFound)
        {
            // That lease is gone; another lease waiting for the same data set may still ask.
            foreach (var w in t.Waiters.Where(w => w.JobId == m.JobId && w.LeaseId == m.LeaseId).ToList())
            {
                w.Trainer.Tell(new Unavailable(m.Sha256, m.Reason));
                t.Waiters.Remove(w);
            }
            t.Attempts--;
            Request(m.Sha256);
            return;
        }
        if (m.Kind == ErrorKind.Unavailable)
        {
            Self.Tell(new TransferEnded(m.Sha256, 0, $"the coordinator cannot serve it now: {m.Reason}"));
            return;
        }
        Fail(m.Sha256, t, $"the coordinator refused to send it: {m.Reason}");
    }

    private void Ended(TransferEnded m)
    {
        if (!_transfers.TryGetValue(m.Sha256, out var t)) return;
        Timers.Cancel($"answer-{m.Sha256}");
        t.Streaming = false;
        t.Bytes += m.Bytes;
        if (m.Error is not null)
        {
            if (t.Attempts >= _settings.FetchAttempts)
            {
                Fail(m.Sha256, t, $"{t.Attempts} transfer(s) failed, the last: {m.Error}");
                return;
            }
            _log.Warning("Data set {0}: the transfer dropped after {1} bytes ({2}); {3} bytes on disk, resuming in {4:F0} s", m.Sha256, m.Bytes, m.Error,
                _folder.Received(m.Sha256), _settings.RetryDelay.TotalSeconds);
            Timers.StartSingleTimer($"again-{m.Sha256}", new Again(m.Sha256), _settings.RetryDelay);
            return;
        }
        var (folder, sha, bundleSha, bundleBytes, received) = (_folder, m.Sha256, t.BundleSha256!, t.BundleBytes, m.ReceivedSha256!);
        t.Streamed = t.Clock.Elapsed;
        Task.Run(() => folder.Install(sha, bundleSha, bundleBytes, received))
            .PipeTo(Self, success: problem => new Installed(sha, problem), failure: e => new Installed(sha, e.GetBaseException().Message));
    }

    /// <summary>A data-set transfer for the fleet's metrics (<c>cis490_transfers_total{direction="dataset"}</c>): verified and
    /// installed, or refused (its bytes did not hash to what was published).</summary>
    private static void Count(string outcome, long bytes)
    {
        var direction = new KeyValuePair<string, object?>("direction", "dataset");
        Shared.Telemetry.Cis490Metrics.Transfers.Add(1, direction, new KeyValuePair<string, object?>("outcome", outcome));
        if (bytes > 0) Shared.Telemetry.Cis490Metrics.TransferBytes.Add(bytes, direction);
    }

    private void Install(Installed m)
    {
        if (!_transfers.TryGetValue(m.Sha256, out var t)) return;
        if (m.Problem is not null)
        {
            t.Refused++;
            Count("refused", 0);
            if (t.Attempts >= _settings.FetchAttempts)
            {
                Fail(m.Sha256, t, $"{t.Attempts} transfer(s), the last refused: {m.Problem}");
                return;
            }
            _log.Warning("Data set {0}: REFUSED the transfer ({1}); its bytes are deleted and the data set is fetched again", m.Sha256, m.Problem);
            Request(m.Sha256);
            return;
        }
        _transfers.Remove(m.Sha256);
        Count("ok", t.Bytes);
        var seconds = Math.Max(t.Clock.Elapsed.TotalSeconds, 1e-3);
        var streamed = Math.Max(t.Streamed.TotalSeconds, 1e-3);
        _log.Info("Data set {0}: pulled from the coordinator and verified: {1}; in {2}", m.Sha256,
            $"{t.Bytes} bytes transferred and hashed in {streamed:F2} s ({t.Bytes / 1e6 / streamed:F1} MB/s), unpacked and content-checked in " +
            $"{seconds - streamed:F2} s, {t.Attempts} transfer(s), {t.Refused} refused", _folder.Dir(m.Sha256));
        _inUse[m.Sha256] = _inUse.GetValueOrDefault(m.Sha256) + t.Waiters.Count;
        foreach (var w in t.Waiters) w.Trainer.Tell(new Ready(m.Sha256, _folder.Dir(m.Sha256)));
        Evict();
    }

    private void Fail(string sha, Transfer t, string reason)
    {
        _transfers.Remove(sha);
        _log.Error("Data set {0}: cannot be had: {1}", sha, reason);
        foreach (var w in t.Waiters) w.Trainer.Tell(new Unavailable(sha, reason));
    }

    /// <summary>Past the cache's size, the least recently used data sets no lease is using go.</summary>
    private void Evict()
    {
        try
        {
            var entries = _folder.Entries().Select(e => new CacheEntry(e.Sha256, e.Bytes, e.LastUsedUtc, _inUse.GetValueOrDefault(e.Sha256) > 0)).ToList();
            foreach (var e in DataSetCachePolicy.ToEvict(entries, _settings.MaxBytes))
            {
                _folder.Delete(e.Sha256);
                _log.Info("Data set {0}: evicted from the cache ({1} bytes, last used {2:u}; the cache holds at most {3} bytes)", e.Sha256, e.Bytes,
                    e.LastUsedUtc, _settings.MaxBytes);
            }
        }
        catch (IOException e)
        {
            _log.Warning("The data-set cache {0} could not be trimmed: {1}", _folder.Root, e.Message);
        }
    }
}
