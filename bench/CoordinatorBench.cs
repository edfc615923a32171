using System.Diagnostics;
using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using Akka.Streams;
using Cis490.Coordinator.Jobs;
using Cis490.Protocols.Jobs;
using Cis490.Protocols.Operator;
using Cis490.Protocols.Workers;
using Cis490.Shared.Config;
using Cis490.Shared.Manifest;
using Cis490.Testing;
using Microsoft.Data.Sqlite;
using static Cis490.Protocols.Jobs.JobEvents;

namespace Cis490.Bench;

/// <summary><c>./cis490 bench coordinator</c>: the JobCoordinator in process on each journal (a fresh SQLite file, a fresh
/// PostgreSQL database): leases granted per second, and recovery time at 10 000 and 100 000 events.</summary>
public static class CoordinatorBench
{
    private const string Token = "bench-operator-token";
    private static readonly WorkerCapability Capability = new("bench-host", 2, 4, false, 0, null, "none", "bench", "Linux");

    /// <summary>A journal for one measurement; disposing it removes the database. SQLite keeps its snapshots in a file of their own,
    /// as a coordinator node does (<c>snapshots.db</c> beside <c>journal.db</c>, <see cref="Cis490.Coordinator.Persistence.JournalChoice"/>).</summary>
    private sealed record Journal(string Name, string HoconFile, string ConnectionString, string SnapshotConnectionString, Action Drop);

    public static int Run(string[] args, Func<string[], string, string, string> option)
    {
        var jobs = int.Parse(option(args, "--jobs", "2000"));
        var events = option(args, "--events", "10000,100000");
        var sizes = events == "none" ? [] : events.Split(',').Select(int.Parse).ToList(); // none: leases only
        var journals = option(args, "--journals", "sqlite,postgres").Split(',');
        var shapes = option(args, "--shapes", "1x1,8x4").Split(',').Select(ParseShape).ToList();
        var root = Path.GetFullPath(option(args, "--dir", Path.Combine(Path.GetTempPath(), "cis490-bench-coordinator")));
        // Extra HOCON over the production files, for trying a setting before it goes into hocon/*.conf (printed with the figures).
        _extraHocon = option(args, "--hocon", "");
        if (_extraHocon.Length > 0) Console.WriteLine($"extra HOCON: {_extraHocon}");
        Console.WriteLine($"coordinator benchmark on {Environment.ProcessorCount} cores, in {root}; journals: {string.Join(", ", journals)}");
        if (journals.Contains("postgres") && Environment.GetEnvironmentVariable(PostgresTestDatabase.EnvVar) is not { Length: > 0 })
        {
            Console.Error.WriteLine($"bench coordinator: {PostgresTestDatabase.EnvVar} is not set; ./cis490 bench coordinator sets it up as root, " +
                                    "or pass --journals sqlite");
            return 2;
        }

        // A warm-up first, not counted: a coordinator runs for days, and in a run of a few seconds the runtime's tiered JIT
        // (Akka, Akka.Persistence.Sql, linq2db and our code compiled again, optimised, as they get hot) was a large share of the CPU
        // measured. 3 000 leases were not enough: after them the JIT still took half the CPU of a 20 000-lease run (with
        // DOTNET_TieredCompilation=0 161 us/lease against 311); after 20 000 a run is within a few percent of its steady state.
        // The seed-style queue's Python needs no such warm-up.
        var warmup = int.Parse(option(args, "--warmup", "20000"));
        if (warmup > 0)
        {
            var first = MakeJournal(journals[0], root);
            try { LeaseThroughput(first, root, warmup, 8, 4).GetAwaiter().GetResult(); }
            finally { first.Drop(); }
            Console.WriteLine($"warm-up: {warmup} leases at 8 x 4 on {journals[0]}, not counted (--warmup 0: none)");
        }
        Console.WriteLine();
        Console.WriteLine($"(a) leases granted per second: {jobs} jobs (max_attempts = 1), fake workers that answer each Lease with");
        Console.WriteLine("    TrainerProtocol.Failed at once; counted: Lease messages received by the workers, from registration to the last.");
        Console.WriteLine("    Each lease persists 2 events (LeaseGranted, LeaseEnded); snapshot-every = 1000 as in production; log level ERROR.");
        Console.WriteLine($"    load average before: {LoadAverage()}");
        Console.WriteLine("    events/write: the events per journal write (group commit), from the coordinator's cis490_journal_write histogram.");
        Console.WriteLine("    bytes/lease: bytes allocated by the whole process (GC.GetTotalAllocatedBytes) from registration to the last lease,");
        Console.WriteLine("    divided by the leases: coordinator, journal, fake workers and Akka together. cpu us/lease: this process's CPU time");
        Console.WriteLine("    (user + system, all threads: JIT, GC, SQLite's fsyncs included) over the same span, per lease; less sensitive to other");
        Console.WriteLine("    load on the machine than leases/s.");
        Console.WriteLine($"{"journal",-10} {"workers x slots",16} {"leases",7} {"seconds",8} {"leases/s",9} {"events/s",9} {"events/write",13} {"bytes/lease",12} {"cpu us/lease",13}");
        var busiest = new Dictionary<string, (string Shape, double Rate)>();
        foreach (var name in journals)
            foreach (var (workers, slots) in shapes)
            {
                var journal = MakeJournal(name, root);
                try
                {
                    using var writes = new WriteCounter();
                    var (n, wall, allocated, cpu) = LeaseThroughput(journal, root, jobs, workers, slots).GetAwaiter().GetResult();
                    var rate = n / wall.TotalSeconds;
                    var perWrite = writes.Count > 0 ? 2.0 * n / writes.Count : 0; // the manifest's one write is in the count too
                    Console.WriteLine($"{name,-10} {$"{workers} x {slots}",16} {n,7} {wall.TotalSeconds,8:F2} {rate,9:F0} {2 * rate,9:F0} {perWrite,13:F1} {allocated / n,12:N0} {cpu.TotalMicroseconds / n,13:F0}");
                    if (!busiest.TryGetValue(name, out var b) || workers * slots >= ShapeSlots(b.Shape)) busiest[name] = ($"{workers} x {slots}", rate);
                }
                finally { journal.Drop(); }
            }

        // The seed-style queue, run in the same process tree right after each journal's figures, on the same job count
        // (--seed off skips it, for trying settings quickly; the README's figures always have it).
        if (option(args, "--seed", "on") == "off") busiest.Clear();
        Console.WriteLine();
        Console.WriteLine($"(c) side by side: a seed-style claim queue (bench/seed_queue.py: threaded Python HTTP server, SQLite WAL with");
        Console.WriteLine($"    synchronous=FULL like our journal, one UPDATE ... WHERE status='pending' per claim, {SeedWorkers} keep-alive client");
        Console.WriteLine($"    threads doing claim -> fail) on {jobs} jobs, against our busiest shape above.");
        Console.WriteLine($"{"journal",-10} {"ours",16} {"leases/s",9} {"seed claims/s",14} {"ratio",7}");
        foreach (var (name, (shape, rate)) in busiest)
        {
            var seed = SeedQueueBaseline.Run(SeedQueueBaseline.Script, jobs, SeedWorkers, Path.Combine(root, "seed"));
            var ratio = rate / seed.ClaimsPerSecond;
            // Issue 17's goals, for SQLite at 8 x 4: at least 10 000 leases/s and 15 times the seed-style queue.
            var goal = name == "sqlite" && shape == "8 x 4" ? $"   goals >= 10 000/s: {(rate >= 10_000 ? "met" : "MISSED")}, >= 15x: {(ratio >= 15 ? "met" : "MISSED")}" : "";
            Console.WriteLine($"{name,-10} {shape,16} {rate,9:F0} {seed.ClaimsPerSecond,14:F0} {ratio,6:F1}x{goal}");
        }
        Console.WriteLine($"    load average after: {LoadAverage()}");

        Console.WriteLine();
        Console.WriteLine("(b) recovery: a new JobCoordinator on a journal of N events (1 000 jobs added, then lease granted/ended pairs),");
        Console.WriteLine($"    written as a busy coordinator writes them: {EventsPerEntry} events per journal entry (a JEB batch, one group commit);");
        Console.WriteLine("    timed from ActorOf to the answer to its first ListJobs (commands wait for recovery); median of 3 restarts.");
        Console.WriteLine("    'every 1000' = a snapshot at every 1000th event but the last 1 000 events left after the last one, so recovery");
        Console.WriteLine("    loads a snapshot of 1 000 jobs and replays 1 000 events (the running coordinator never leaves more than 999).");
        Console.WriteLine($"{"journal",-10} {"events",8} {"snapshots",10} {"replayed",9} {"recovery s",11} {"events/s",9}");
        foreach (var name in journals)
            foreach (var size in sizes)
                foreach (var snapshots in new[] { false, true })
                {
                    var journal = MakeJournal(name, root);
                    try
                    {
                        var (median, replayed) = Recovery(journal, root, size, snapshots).GetAwaiter().GetResult();
                        Console.WriteLine($"{name,-10} {size,8} {(snapshots ? "every 1000" : "off"),10} {replayed,9} {median.TotalSeconds,11:F3} {(snapshots ? "-" : $"{replayed / median.TotalSeconds:F0}"),9}");
                    }
                    finally { journal.Drop(); }
                }
        return 0;
    }

    /// <summary>Client threads of the seed-style queue: the earlier fleet's 8 workers (issue 17).</summary>
    private const int SeedWorkers = 8;

    private static int ShapeSlots(string shape) => shape.Split(" x ").Select(int.Parse).Aggregate(1, (a, b) => a * b);

    /// <summary>The machine's load average (1, 5, 15 min), to print beside figures taken on a shared machine.</summary>
    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    /// <summary>"8x4": 8 workers of 4 slots each.</summary>
    private static (int Workers, int Slots) ParseShape(string shape)
    {
        var parts = shape.Split('x');
        if (parts.Length != 2 || !int.TryParse(parts[0], out var w) || !int.TryParse(parts[1], out var s) || w < 1 || s < 1)
            throw new ArgumentException($"--shapes: '{shape}' is not WORKERSxSLOTS (e.g. 8x4)");
        return (w, s);
    }

    private static Journal MakeJournal(string name, string root)
    {
        switch (name)
        {
            case "sqlite":
                var dir = Path.Combine(root, "sqlite-" + Guid.NewGuid().ToString("N")[..8]);
                Directory.CreateDirectory(dir);
                var (journalFile, snapshotFile) = ($"Data Source={Path.Combine(dir, "journal.db")}", $"Data Source={Path.Combine(dir, "snapshots.db")}");
                // As a coordinator node prepares its files before it starts (JournalChoice): checked and in WAL mode. Without this
                // the files stayed in SQLite's default rollback-journal mode, two fsyncs and a journal file made and deleted per
                // commit, unlike any coordinator (and unlike the seed-style queue beside it, which runs WAL).
                if (Cis490.Coordinator.Persistence.SqliteFiles.Prepare(journalFile, snapshotFile, "bench coordinator") is { } problem)
                    throw new InvalidOperationException(problem);
                return new Journal(name, "persistence-sqlite.conf", journalFile, snapshotFile, () =>
                {
                    SqliteConnection.ClearAllPools();
                    Directory.Delete(dir, true);
                });
            case "postgres":
                var db = PostgresTestDatabase.Create("cis490_bench");
                return new Journal(name, "persistence-postgres.conf", db.ConnectionString, db.ConnectionString, db.Dispose);
            default:
                throw new ArgumentException($"--journals: unknown journal '{name}' (sqlite, postgres)");
        }
    }

    /// <summary>--hocon: settings laid over the production files for every system this benchmark makes.</summary>
    private static string _extraHocon = "";

    private static ActorSystem MakeSystem(Journal journal, string root, int snapshotEvery)
    {
        var dataDir = Path.Combine(root, "data-" + Guid.NewGuid().ToString("N")[..8]);
        Config config = HoconLoader.Load(["coordinator.conf", journal.HoconFile], $"""
            akka.actor.provider = local
            # The coordinator logs every lease and every ended lease; on a console that would be most of what is measured.
            akka.loglevel = ERROR
            cis490.coordinator.data-dir = {HoconLoader.Quote(dataDir)}
            cis490.coordinator.snapshot-every = {snapshotEvery}
            cis490.coordinator.operator-token = "{Token}"
            akka.persistence.journal.sql.connection-string = {HoconLoader.Quote(journal.ConnectionString)}
            akka.persistence.snapshot-store.sql.connection-string = {HoconLoader.Quote(journal.SnapshotConnectionString)}
            {_extraHocon}
            """).WithFallback(ActorMaterializer.DefaultConfig());
        var system = Cis490.Coordinator.Persistence.SqliteDurability.CreateSystem("bench", config); // as the coordinator node makes it
        // The data directory holds only what this system wrote (tokens, artifacts); a run used to leave one per system behind.
        system.RegisterOnTermination(() =>
        {
            try { if (Directory.Exists(dataDir)) Directory.Delete(dataDir, true); }
            catch (IOException e) { Console.Error.WriteLine($"bench coordinator: could not remove {dataDir}: {e.Message}"); }
        });
        return system;
    }

    private static string Manifest(int jobs) => string.Join("\n", Enumerable.Range(1, jobs).Select(i =>
        $"[[jobs]]\nmodel = \"knn\"\nmode = \"realistic\"\nseed = {i}\nmax_attempts = 1\n"));

    private static async Task<(int Leases, TimeSpan Wall, long Allocated, TimeSpan Cpu)> LeaseThroughput(Journal journal, string root, int jobs, int workers, int slots)
    {
        var system = MakeSystem(journal, root, 1000);
        try
        {
            var coordinator = system.ActorOf(JobCoordinator.Props(CoordinatorSettings.From(system.Settings.Config)), "coordinator");
            var accepted = await coordinator.Ask<object>(new OperatorProtocol.SubmitManifest("bench.toml", Manifest(jobs), Token), TimeSpan.FromMinutes(2));
            if (accepted is not OperatorProtocol.ManifestAccepted { AddedCount: var added } || added != jobs)
                throw new InvalidOperationException($"the bench manifest was not accepted: {accepted}");
            var counter = new LeaseCounter(jobs);
            var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
            var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            for (var w = 0; w < workers; w++)
            {
                var worker = system.ActorOf(Props.Create(() => new FailingWorker(counter)), $"worker-{w}");
                coordinator.Tell(new WorkerProtocol.Register($"worker-{w}", Capability, slots, []), worker);
            }
            if (await Task.WhenAny(counter.Done.Task, Task.Delay(TimeSpan.FromMinutes(5))) != counter.Done.Task)
                throw new TimeoutException($"only {counter.Count} of {jobs} leases within 5 minutes");
            var wall = clock.Elapsed;
            var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
            return (counter.Count, wall, GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore, cpu);
        }
        finally { await system.Terminate(); }
    }

    private static async Task<(TimeSpan Median, long Replayed)> Recovery(Journal journal, string root, int events, bool snapshots)
    {
        var system = MakeSystem(journal, root, snapshots ? 1000 : 0);
        try
        {
            var written = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
            var lastSnapshot = snapshots ? (events - 1000) / 1000 * 1000 : 0;
            var writer = system.ActorOf(Props.Create(() => new JournalWriter(MakeEvents(events), lastSnapshot, written)), "writer");
            if (await Task.WhenAny(written.Task, Task.Delay(TimeSpan.FromMinutes(10))) != written.Task)
                throw new TimeoutException($"writing {events} events took over 10 minutes");
            await writer.GracefulStop(TimeSpan.FromSeconds(30));
            var replayed = events - lastSnapshot;

            var settings = CoordinatorSettings.From(system.Settings.Config);
            var times = new List<TimeSpan>();
            for (var run = 0; run < 3; run++)
            {
                var clock = Stopwatch.StartNew();
                var coordinator = system.ActorOf(JobCoordinator.Props(settings), $"coordinator-{run}");
                var list = await coordinator.Ask<OperatorProtocol.JobList>(new OperatorProtocol.ListJobs(null, null), TimeSpan.FromMinutes(5));
                times.Add(clock.Elapsed);
                if (list.Jobs.Count != 1000) throw new InvalidOperationException($"recovered {list.Jobs.Count} jobs, expected 1000");
                await coordinator.GracefulStop(TimeSpan.FromSeconds(30), JobCoordinator.HandOver.Instance);
            }
            return (times.Order().ElementAt(1), replayed);
        }
        finally { await system.Terminate(); }
    }

    /// <summary>1 000 jobs added, then LeaseGranted/LeaseEnded pairs (handed back, not counted as attempts) round the jobs:
    /// valid events made by the job table's own functions, so the coordinator folds them as it would its own.</summary>
    private static List<ICoordinatorEvent> MakeEvents(int count)
    {
        var specs = ManifestLoader.Parse("bench.toml", Manifest(1000)).Jobs;
        var now = DateTimeOffset.UtcNow;
        var table = JobTable.Empty;
        var events = new List<ICoordinatorEvent>(count);
        foreach (var added in table.AddJobs(specs, "bench.toml", now)) { table = table.Apply(added); events.Add(added); }
        for (var i = 0; events.Count < count; i++)
        {
            var jobId = specs[i % specs.Count].JobId;
            var granted = (LeaseGranted)table.Grant(jobId, "worker-" + i % 8, now).Event!;
            table = table.Apply(granted);
            events.Add(granted);
            if (events.Count == count) break;
            var ended = table.EndLease(jobId, granted.LeaseId, "handed back", false, now).Event!;
            table = table.Apply(ended);
            events.Add(ended);
        }
        return events;
    }

    /// <summary>Counts the coordinator's journal writes while it lives (each records one cis490_journal_write measurement).</summary>
    private sealed class WriteCounter : IDisposable
    {
        private readonly System.Diagnostics.Metrics.MeterListener _listener = new();
        private long _count;
        public long Count => Interlocked.Read(ref _count);

        public WriteCounter()
        {
            var journalWrite = Cis490.Shared.Telemetry.Cis490Metrics.JournalWrite; // created (static init) before the listener starts
            _listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument == journalWrite) l.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<double>((_, _, _, _) => Interlocked.Increment(ref _count));
            _listener.Start();
        }

        public void Dispose() => _listener.Dispose();
    }

    internal sealed class LeaseCounter(int target)
    {
        private int _count;
        public int Count => Volatile.Read(ref _count);
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Increment()
        {
            if (Interlocked.Increment(ref _count) == target) Done.TrySetResult();
        }
    }

    /// <summary>A worker that fails every lease at once: the coordinator persists the end and grants the next.</summary>
    internal sealed class FailingWorker : ReceiveActor
    {
        public FailingWorker(LeaseCounter counter)
        {
            Receive<WorkerProtocol.Lease>(m =>
            {
                counter.Increment();
                Sender.Tell(new TrainerProtocol.Failed(m.JobId, m.LeaseId, "bench: fails at once"));
            });
            ReceiveAny(_ => { }); // Registered, Acknowledged
        }
    }

    /// <summary>Events per journal entry in the recovery journals: a busy coordinator's group commit (8 x 4 workers: ~32 events a
    /// write); 40 divides the 1 000-event snapshot interval, so the snapshots fall where the coordinator's own would.</summary>
    private const int EventsPerEntry = 40;

    /// <summary>Writes the events under the coordinator's persistence id as the coordinator does (entries of
    /// <see cref="EventsPerEntry"/> events, <see cref="Batch"/>), with a snapshot of the folded table at every 1000th event up to
    /// <paramref name="lastSnapshot"/>, then reports the sequence number.</summary>
    private sealed class JournalWriter : ReceivePersistentActor
    {
        private int _pendingSnapshots;
        private bool _written;

        public override string PersistenceId => JobCoordinator.PersistenceIdValue;

        public JournalWriter(List<ICoordinatorEvent> events, long lastSnapshot, TaskCompletionSource<long> done)
        {
            var table = JobTable.Empty;
            long applied = 0;
            void Finish()
            {
                if (_written && _pendingSnapshots == 0) done.TrySetResult(LastSequenceNr);
            }
            Recover<RecoveryCompleted>(_ => Self.Tell("write"));
            Command<string>(_ =>
            {
                // 25 entries (1 000 events) per atomic write, as a busy coordinator's writes would come; one huge write would be unlike it.
                var entries = events.Chunk(EventsPerEntry).Select(c => c.Length == 1 ? (object)c[0] : new Batch(c)).ToList();
                foreach (var chunk in entries.Chunk(1000 / EventsPerEntry))
                    PersistAll(chunk, entry =>
                    {
                        foreach (var e in entry is Batch b ? b.Events : [(ICoordinatorEvent)entry])
                        {
                            table = table.Apply(e);
                            applied++;
                        }
                        if (applied % 1000 == 0 && applied <= lastSnapshot)
                        {
                            _pendingSnapshots++;
                            SaveSnapshot(table.ToSnapshot());
                        }
                    });
                DeferAsync(0, _ => { _written = true; Finish(); });
            });
            Command<SaveSnapshotSuccess>(_ => { _pendingSnapshots--; Finish(); });
            Command<SaveSnapshotFailure>(f => done.TrySetException(f.Cause));
        }
    }
}
