using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Cis490.Shared.Telemetry;

/// <summary>Every metric the product exports, as BCL instruments on one <see cref="Meter"/> (<c>Cis490</c>). Names follow Prometheus
/// conventions as the OpenTelemetry Prometheus exporter writes them: a counter gains <c>_total</c>, a unit of <c>s</c> gains
/// <c>_seconds</c>, so <c>cis490_leases_granted</c> is scraped as <c>cis490_leases_granted_total</c>. Labels come from small fixed
/// sets (status, outcome, family, direction, worker): never a job id, lease id or path. <see cref="Exported"/> lists the
/// scraped names (the Grafana dashboard's test checks every query against it).</summary>
public static class Cis490Metrics
{
    public const string MeterName = "Cis490";

    public static readonly Meter Meter = new(MeterName, "1.0");

    // --- coordinator: the job table and its journal ---
    public static readonly Counter<long> LeasesGranted = Meter.CreateCounter<long>("cis490_leases_granted", null, "leases granted to workers");
    public static readonly Counter<long> LeasesEnded = Meter.CreateCounter<long>("cis490_leases_ended", null,
        "leases ended, by outcome (completed, failed, returned, expired, lost, cancelled) and model family");
    /// <summary>Bucket bounds for the coordinator's latencies, in seconds: OpenTelemetry's defaults (0, 5, 10, 25 … 10 000) are
    /// made for milliseconds and would put every lease and journal write in the first bucket; these resolve the 100 ms goal
    /// of issue 17 and the seconds of a stall.</summary>
    private static readonly InstrumentAdvice<double> Seconds = new()
        { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300] };

    public static readonly Histogram<double> LeaseLatency = Meter.CreateHistogram("cis490_lease_latency", "s",
        "time a job waited as pending (since added or since its previous attempt ended) before a lease was granted", advice: Seconds);
    public static readonly Counter<long> HeartbeatsReceived = Meter.CreateCounter<long>("cis490_heartbeats_received", null, "trainer heartbeats the coordinator received");
    public static readonly Histogram<double> JournalWrite = Meter.CreateHistogram("cis490_journal_write", "s",
        "time from handing a write (the events of one or more decisions, group commit) to the journal to the last of them being written", advice: Seconds);
    public static readonly Histogram<double> SnapshotSave = Meter.CreateHistogram("cis490_snapshot_save", "s", "time to save a job-table snapshot", advice: Seconds);
    public static readonly Histogram<double> Recovery = Meter.CreateHistogram("cis490_recovery", "s",
        "time the coordinator took to recover its job table (snapshot plus replay) when it started", advice: Seconds);
    public static readonly Histogram<double> RecoveryPhase = Meter.CreateHistogram("cis490_recovery_phase", "s",
        "the parts of cis490_recovery, by phase: load (actor start → snapshot offered: plugins' start, snapshot read and decoded), " +
        "index (the table built from the snapshot), replay (the events after it)", advice: Seconds);
    public static readonly Counter<long> ArtifactsStored = Meter.CreateCounter<long>("cis490_artifacts_stored", null, "artifacts stored (deduplicated=true: the bytes were already there)");
    public static readonly Counter<long> ArtifactBytesStored = Meter.CreateCounter<long>("cis490_artifact_stored_bytes", null, "bytes of the artifacts stored");
    public static readonly Counter<long> JobsAdded = Meter.CreateCounter<long>("cis490_jobs_added", null, "jobs a manifest brought in, by model family");

    // --- workers ---
    public static readonly Counter<long> HeartbeatsSent = Meter.CreateCounter<long>("cis490_heartbeats_sent", null, "heartbeats this worker's trainers sent");
    public static readonly Counter<long> TrainerEpochs = Meter.CreateCounter<long>("cis490_trainer_epochs", null, "training epochs finished, by model family");
    public static readonly Histogram<double> TrainerEpochSeconds = Meter.CreateHistogram<double>("cis490_trainer_epoch", "s", "seconds one epoch took, by model family");
    /// <summary>Artifact bytes moved between nodes (direction=upload: a worker's bundle to the store). Data-set transfers have no
    /// code path yet; when they do they count here with direction=dataset.</summary>
    public static readonly Counter<long> Transfers = Meter.CreateCounter<long>("cis490_transfers", null, "artifact/data-set transfers, by direction and outcome");
    public static readonly Counter<long> TransferBytes = Meter.CreateCounter<long>("cis490_transfer_bytes", null, "bytes of finished transfers, by direction");

    /// <summary>Gauges read at scrape time from whatever registered a source on this process (the coordinator singleton, a
    /// worker node actor); a source that goes away unregisters, so a stopped actor reports nothing rather than stale values.</summary>
    private static readonly ConcurrentDictionary<object, Func<IEnumerable<Measurement<long>>>> JobSources = new();
    private static readonly ConcurrentDictionary<object, Func<IEnumerable<Measurement<long>>>> MemberSources = new();
    private static readonly ConcurrentDictionary<object, Func<IEnumerable<Measurement<long>>>> SlotSources = new();
    private static readonly ConcurrentDictionary<object, Func<IEnumerable<Measurement<long>>>> BusySources = new();

    static Cis490Metrics()
    {
        Meter.CreateObservableGauge("cis490_jobs", () => JobSources.Values.SelectMany(f => f()), null, "jobs in the coordinator's table, by status");
        Meter.CreateObservableGauge("cis490_cluster_members", () => MemberSources.Values.SelectMany(f => f()), null,
            "cluster members as this node sees them, by member status and reachability");
        Meter.CreateObservableGauge("cis490_worker_slots", () => SlotSources.Values.SelectMany(f => f()), null, "training slots of a worker");
        Meter.CreateObservableGauge("cis490_worker_slots_busy", () => BusySources.Values.SelectMany(f => f()), null, "training slots of a worker running a job");
        // What this process's memory is made of, beside its RSS: the coordinator's job table lives in the managed heap.
        Meter.CreateObservableGauge("cis490_gc_heap", () => GC.GetGCMemoryInfo().HeapSizeBytes, "By",
            "managed heap size at the last garbage collection (live objects, plus garbage of generations that collection did not cover)");
        // Where a latency tail may come from: the time this process stood still for the garbage collector, and how many
        // collections of each generation ran (a gen2 over a large heap is the expensive kind).
        Meter.CreateObservableCounter("cis490_gc_pause", () => GC.GetTotalPauseDuration().TotalSeconds, "s",
            "time this process was paused by garbage collections since it started");
        Meter.CreateObservableCounter("cis490_gc_collections", () => new[]
        {
            new Measurement<long>(GC.CollectionCount(0), new KeyValuePair<string, object?>("generation", "0")),
            new Measurement<long>(GC.CollectionCount(1), new KeyValuePair<string, object?>("generation", "1")),
            new Measurement<long>(GC.CollectionCount(2), new KeyValuePair<string, object?>("generation", "2")),
        }, null, "garbage collections since this process started, by generation (a gen2 counts in gen1 and gen0 too)");
    }

    /// <summary>Registers the job table's counts by status; dispose to stop reporting.</summary>
    public static IDisposable ReportJobs(Func<IEnumerable<Measurement<long>>> read) => Register(JobSources, read);

    public static IDisposable ReportMembers(Func<IEnumerable<Measurement<long>>> read) => Register(MemberSources, read);

    public static IDisposable ReportSlots(Func<IEnumerable<Measurement<long>>> slots, Func<IEnumerable<Measurement<long>>> busy)
    {
        var a = Register(SlotSources, slots);
        var b = Register(BusySources, busy);
        return new Both(a, b);
    }

    private static IDisposable Register(ConcurrentDictionary<object, Func<IEnumerable<Measurement<long>>>> into, Func<IEnumerable<Measurement<long>>> read)
    {
        var key = new object();
        into[key] = () =>
        {
            try
            {
                return read().ToList();
            }
            catch (Exception)
            {
                return []; // a source torn down mid-scrape: nothing to report this time
            }
        };
        return new Unregister(() => into.TryRemove(key, out _));
    }

    /// <summary>A model family as a label: one of the catalogue's families, else "other" (a label set must stay bounded even
    /// if a manifest names a model this version does not know).</summary>
    public static string Family(string? model) => model is not null && Models.ModelCatalog.All.ContainsKey(model) ? model : "other";

    /// <summary>Every metric name as Prometheus scrapes it (histograms add <c>_bucket</c>, <c>_sum</c>, <c>_count</c>).</summary>
    public static readonly IReadOnlyList<string> Exported =
    [
        "cis490_jobs", "cis490_jobs_added_total", "cis490_leases_granted_total", "cis490_leases_ended_total", "cis490_lease_latency_seconds",
        "cis490_heartbeats_received_total", "cis490_journal_write_seconds", "cis490_snapshot_save_seconds", "cis490_recovery_seconds",
        "cis490_artifacts_stored_total", "cis490_artifact_stored_bytes_total", "cis490_cluster_members",
        "cis490_heartbeats_sent_total", "cis490_trainer_epochs_total", "cis490_trainer_epoch_seconds", "cis490_transfers_total",
        "cis490_transfer_bytes_total", "cis490_worker_slots", "cis490_worker_slots_busy",
    ];

    /// <summary>The scraped names of the histograms among <see cref="Exported"/>.</summary>
    public static readonly IReadOnlyList<string> Histograms =
        ["cis490_lease_latency_seconds", "cis490_journal_write_seconds", "cis490_snapshot_save_seconds", "cis490_recovery_seconds", "cis490_trainer_epoch_seconds"];

    private sealed class Unregister(Action action) : IDisposable
    {
        public void Dispose() => action();
    }

    private sealed class Both(IDisposable a, IDisposable b) : IDisposable
    {
        public void Dispose()
        {
            a.Dispose();
            b.Dispose();
        }
    }
}
