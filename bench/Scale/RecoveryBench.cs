using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Cis490.Shell.Demo;
using Microsoft.Data.Sqlite;

namespace Cis490.Bench.Scale;

/// <summary><c>./cis490 bench recovery</c> (issue 17: recovery of 100 000 jobs ≤ 1 s): only the restart of <c>bench scale</c>, many
/// times. Once, it makes a data directory as <c>bench scale</c> leaves it — a real coordinator process, a 100 000-job manifest through
/// the real shell, a simulated fleet leasing and completing jobs until the snapshot holds every job and the wanted number of events
/// lie behind it, then SIGKILL — and keeps it. Then, per run, a copy of it is recovered by a fresh coordinator process started as
/// <c>bench scale</c> restarts it (the same program, the ReadyToRun one <c>./cis490</c> publishes, and the same environment), until it
/// answers with every job, and is SIGKILLed again. It prints each run's <c>cis490_recovery</c> and phases and their medians: seconds
/// of both cores once, then a few seconds a run, instead of <c>bench scale</c>'s six minutes.</summary>
public static class RecoveryBench
{
    public const string Usage =
        "usage: bench recovery [--jobs 100000] [--workers 400] [--completed 16000] [--events 1300] [--runs 5] [--dir DIR] [--remake] [--config FILE.conf] [--in-process]\n" +
        "                      [--compare OTHER/Cis490.Coordinator.dll]\n" +
        "       (made once into DIR/pristine and reused: --jobs jobs submitted, --workers simulated workers run jobs of 0.5-2 s until\n" +
        "        --completed jobs are done, and stop with --events events (±250) after the newest snapshot; --remake makes it again;\n" +
        "        --runs restarts of a fresh copy, each a new coordinator process; --config: HOCON for the coordinator in the runs;\n" +
        "        --in-process: first the snapshot's read, decode and indexing timed in this process, the first time and the best of 5;\n" +
        "        --compare: another coordinator program (e.g. a ReadyToRun publish of main) restarted in turn with this one, same data)";

    private sealed record Options(int Jobs, int Workers, int Completed, int Events, int Runs, string Dir, bool Remake, string? Config, bool InProcess,
        string? Compare);

    /// <summary>What the made data directory holds (DIR/pristine/made.json).</summary>
    private sealed record Made(int Jobs, long Completed, long SnapshotBytes, long SnapshotSeq, long EventsAfter, string MadeAt);

    public static int Run(string[] args)
    {
        Options o;
        try { o = Parse(args); }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }
        try { return RunAsync(o).GetAwaiter().GetResult(); }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException or HttpRequestException or IOException)
        {
            Console.Error.WriteLine($"bench recovery: {e.Message}");
            return 1;
        }
    }

    private static async Task<int> RunAsync(Options o)
    {
        var program = Environment.GetEnvironmentVariable("CIS490_COORDINATOR_DLL") is { Length: > 0 } dll ? Path.GetFullPath(dll) : null;
        if (program is not null && !File.Exists(program)) throw new FileNotFoundException($"CIS490_COORDINATOR_DLL names {program}, which does not exist", program);
        var env = new Dictionary<string, string> { ["CIS490_OPERATOR_TOKEN"] = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)) };
        // As bench scale and ./cis490 coordinator: the coordinator's GC budget, for the coordinator process only.
        if (Environment.GetEnvironmentVariable("CIS490_COORDINATOR_GEN0SIZE") is { Length: > 0 } gen0) env["DOTNET_GCgen0size"] = gen0;
        Console.WriteLine($"recovery benchmark on {Environment.ProcessorCount} cores (load average {ScaleBench.LoadAverage()}); coordinator program: " +
                          $"{program ?? NodeProcess.ProgramPath("Cis490.Coordinator") + " (the build output, JIT-compiled)"}" +
                          (env.TryGetValue("DOTNET_GCgen0size", out var g) ? $"; DOTNET_GCgen0size={g}" : "; the runtime's GC defaults"));

        var pristine = Path.Combine(o.Dir, "pristine");
        var madeFile = Path.Combine(pristine, "made.json");
        Made? made = !o.Remake && File.Exists(madeFile) ? JsonSerializer.Deserialize<Made>(await File.ReadAllTextAsync(madeFile)) : null;
        if (made is not null && made.Jobs != o.Jobs)
            throw new InvalidOperationException($"{pristine} holds {made.Jobs} jobs, not {o.Jobs}: give --remake (or another --dir)");
        if (made is null)
        {
            made = await Make(o, pristine, program, env);
            await File.WriteAllTextAsync(madeFile, JsonSerializer.Serialize(made));
        }
        else Console.WriteLine($"reusing {pristine} (made {made.MadeAt}; --remake makes it again)");
        Console.WriteLine($"the data directory: {made.Jobs} jobs ({made.Completed} completed by the fleet), snapshot {made.SnapshotBytes / 1e6:F1} MB at event " +
                          $"{made.SnapshotSeq} + {made.EventsAfter} events after it");

        if (o.InProcess) InProcess(pristine);

        // With --compare, the other program's runs alternate with this one's, so both meet the same load.
        var programs = new List<(string Name, string? Dll)> { ("this", program) };
        if (o.Compare is { } other) programs.Add(("compared", other));
        var runs = programs.ToDictionary(p => p.Name, _ => new List<RunFigures>());
        for (var r = 1; r <= o.Runs; r++)
            foreach (var (name, path) in programs)
            {
                var figures = await RecoverOnce(o, $"{r}{(programs.Count > 1 ? "-" + name : "")}", pristine, path, env);
                runs[name].Add(figures);
                Console.WriteLine($"run {r}{(programs.Count > 1 ? $" ({name})" : "")}: cis490_recovery {figures.Recovery * 1000:F0} ms = load {figures.Load * 1000:F0} + " +
                                  $"index {figures.Index * 1000:F0} + replay {figures.Replay * 1000:F0} ms; process start → READY {figures.Ready:F2} s, → answering " +
                                  $"with all jobs {figures.Answering:F2} s (load average {figures.LoadAverage})");
                foreach (var line in figures.LogLines) Console.WriteLine($"    {line}");
            }
        static double Median(IEnumerable<double> values)
        {
            var v = values.Order().ToList();
            return v.Count % 2 == 1 ? v[v.Count / 2] : (v[v.Count / 2 - 1] + v[v.Count / 2]) / 2;
        }
        if (o.Runs == 0) return 0;
        Console.WriteLine();
        foreach (var (name, path) in programs)
        {
            var f = runs[name];
            Console.WriteLine($"median of {f.Count}{(programs.Count > 1 ? $" ({name}: {path ?? "the build output"})" : "")}: cis490_recovery " +
                              $"{Median(f.Select(x => x.Recovery)) * 1000:F0} ms (min {f.Min(x => x.Recovery) * 1000:F0}, max {f.Max(x => x.Recovery) * 1000:F0}); " +
                              $"load {Median(f.Select(x => x.Load)) * 1000:F0} ms, index {Median(f.Select(x => x.Index)) * 1000:F0} ms, replay " +
                              $"{Median(f.Select(x => x.Replay)) * 1000:F0} ms; READY {Median(f.Select(x => x.Ready)):F2} s, answering " +
                              $"{Median(f.Select(x => x.Answering)):F2} s    goal <= 1 s: {(Median(f.Select(x => x.Recovery)) <= 1 ? "met" : "MISSED")}");
        }
        Console.WriteLine($"load average now {ScaleBench.LoadAverage()}");
        return 0;
    }

    private sealed record RunFigures(double Recovery, double Load, double Index, double Replay, double Ready, double Answering, string LoadAverage,
        IReadOnlyList<string> LogLines);

    /// <summary>A fresh copy of the made data directory, recovered by a new coordinator process until it answers with every job; then SIGKILL.</summary>
    private static async Task<RunFigures> RecoverOnce(Options o, string run, string pristine, string? program, Dictionary<string, string> env)
    {
        var dataDir = Path.Combine(o.Dir, "run");
        if (Directory.Exists(dataDir)) Directory.Delete(dataDir, true);
        Directory.CreateDirectory(dataDir);
        foreach (var f in Directory.GetFiles(pristine)) File.Copy(f, Path.Combine(dataDir, Path.GetFileName(f)));
        var httpPort = NodeProcess.FreePort();
        string[] args = ["--port", NodeProcess.FreePort().ToString(CultureInfo.InvariantCulture), "--data-dir", dataDir, "--http-port",
            httpPort.ToString(CultureInfo.InvariantCulture), .. o.Config is { } c ? ["--config", c] : Array.Empty<string>()];
        var loadAverage = ScaleBench.LoadAverage();
        var clock = Stopwatch.StartNew();
        var coordinator = NodeProcess.Start($"recovery-{run}", "Cis490.Coordinator", args, Path.Combine(o.Dir, "logs"), env, program: program);
        using var probe = new CoordinatorProbe(httpPort);
        try
        {
            await coordinator.WaitReady(TimeSpan.FromMinutes(2));
            var ready = clock.Elapsed.TotalSeconds;
            await probe.WaitAnswering(o.Jobs, TimeSpan.FromMinutes(2));
            var answering = clock.Elapsed.TotalSeconds;
            var metrics = await probe.Metrics();
            double Metric(string name) => CoordinatorProbe.Find(metrics, name) ?? throw new InvalidOperationException($"the coordinator's /metrics has no {name}");
            var figures = new RunFigures(Metric("cis490_recovery_seconds_sum"), Metric("cis490_recovery_phase_seconds_sum|phase=load"),
                Metric("cis490_recovery_phase_seconds_sum|phase=index"), Metric("cis490_recovery_phase_seconds_sum|phase=replay"), ready, answering,
                loadAverage, []);
            coordinator.Kill();
            await coordinator.WaitExit(TimeSpan.FromSeconds(30));
            // The coordinator's own account: its start-up timeline, the warm-up's journal start, the recovery's phases with JIT and GC.
            var lines = File.ReadLines(coordinator.LogPath)
                .Where(l => l.Contains("Start-up:") || l.Contains("Journal and snapshot store ready") || l.Contains("recovery phases") || l.Contains("Recovery timeline"))
                .Select(l => l.Length > 400 ? l[..400] + "…" : l).ToList();
            return figures with { LogLines = lines };
        }
        finally
        {
            coordinator.Kill();
            coordinator.Dispose();
        }
    }

    /// <summary>Makes the data directory: a coordinator, the manifest through the shell, the fleet until enough is done, SIGKILL.</summary>
    private static async Task<Made> Make(Options o, string dataDir, string? program, Dictionary<string, string> env)
    {
        if (Directory.Exists(dataDir)) Directory.Delete(dataDir, true);
        var port = NodeProcess.FreePort();
        var httpPort = NodeProcess.FreePort();
        var address = $"127.0.0.1:{port}";
        Console.WriteLine($"making {dataDir}: {o.Jobs} jobs, {o.Workers} simulated workers until {o.Completed} jobs completed and {o.Events} events after a snapshot");
        var coordinator = NodeProcess.Start("make", "Cis490.Coordinator",
            ["--port", port.ToString(CultureInfo.InvariantCulture), "--data-dir", dataDir, "--http-port", httpPort.ToString(CultureInfo.InvariantCulture)],
            Path.Combine(o.Dir, "logs"), env, program: program);
        using var probe = new CoordinatorProbe(httpPort);
        SimFleet? fleet = null;
        try
        {
            await coordinator.WaitReady(TimeSpan.FromMinutes(2));
            await probe.WaitAnswering(0, TimeSpan.FromMinutes(1));
            var manifest = Path.Combine(o.Dir, "recovery.toml");
            await File.WriteAllTextAsync(manifest, ScaleBench.Manifest(o.Jobs));
            var clock = Stopwatch.StartNew();
            var submit = await ScaleBench.Program(env, "Cis490.Shell", "manifest", "submit", manifest, "--coordinator", address);
            if (submit.Exit != 0 || !submit.Stdout.Contains($"{o.Jobs} new job(s) pending"))
                throw new InvalidOperationException($"manifest submit failed (exit {submit.Exit}): {submit.Stderr}{submit.Stdout}");
            Console.WriteLine($"  submitted in {clock.Elapsed.TotalSeconds:F1} s");
            // Every job is in the journal up to here: a snapshot at or after this event holds them all.
            var submitted = Scalar(Path.Combine(dataDir, "journal.db"), "SELECT max(sequence_number) FROM journal");

            fleet = await SimFleet.Join($"akka.tcp://cis490@{address}", (TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(2)), (o.Workers + 99) / 100);
            fleet.Start(o.Workers, 490);
            clock.Restart();
            while (true)
            {
                if (clock.Elapsed > TimeSpan.FromMinutes(15))
                    throw new TimeoutException($"the fleet did not reach {o.Completed} completed jobs and {o.Events} events after a snapshot in 15 minutes " +
                                               $"({fleet.Stats.CompletedCount} completed)");
                await Task.Delay(100);
                if (fleet.Stats.CompletedCount < o.Completed) continue;
                var seq = Scalar(Path.Combine(dataDir, "snapshots.db"), "SELECT max(sequence_number) FROM snapshot");
                if (seq < submitted) continue;
                var after = Scalar(Path.Combine(dataDir, "journal.db"), $"SELECT count(*) FROM journal WHERE sequence_number > {seq}");
                if (after < o.Events || after > o.Events + 250) continue;
                coordinator.Kill();
                await coordinator.WaitExit(TimeSpan.FromSeconds(30));
                var completed = fleet.Stats.CompletedCount;
                var snapshot = CoordinatorProbe.Snapshot(dataDir) ?? throw new InvalidOperationException("no snapshot after the kill");
                var finalSeq = Scalar(Path.Combine(dataDir, "snapshots.db"), "SELECT max(sequence_number) FROM snapshot");
                Console.WriteLine($"  the fleet ran {clock.Elapsed.TotalSeconds:F0} s; SIGKILL with snapshot {snapshot.Bytes / 1e6:F1} MB + {snapshot.EventsAfter} events after it");
                return new Made(o.Jobs, completed, snapshot.Bytes, finalSeq, snapshot.EventsAfter, DateTimeOffset.UtcNow.ToString("u", CultureInfo.InvariantCulture));
            }
        }
        finally
        {
            coordinator.Kill();
            coordinator.Dispose();
            if (fleet is not null) await fleet.DisposeAsync();
        }
    }

    /// <summary>The table's own part, in this process (JIT-compiled, not the coordinator's start): the newest snapshot's blob read
    /// with plain Microsoft.Data.Sqlite, decoded by the codec, indexed by <c>JobTable.FromSnapshot</c>; the first time (cold) and the
    /// best of five. A quick loop for the decode and the index, apart from the plugins' start.</summary>
    private static void InProcess(string pristine)
    {
        var options = Protocols.Serialization.Cis490Serializer.CreateOptions(null);
        for (var round = 0; round < 6; round++)
        {
            var clock = Stopwatch.StartNew();
            byte[] blob;
            using (var c = new SqliteConnection($"Data Source={Path.Combine(pristine, "snapshots.db")};Mode=ReadOnly;Pooling=False"))
            {
                c.Open();
                using var cmd = c.CreateCommand();
                cmd.CommandText = "SELECT snapshot FROM snapshot ORDER BY sequence_number DESC LIMIT 1";
                blob = (byte[])cmd.ExecuteScalar()!;
            }
            var read = clock.Elapsed.TotalMilliseconds;
            clock.Restart();
            var snapshot = Protocols.Serialization.JobTableSnapshotCodec.Read(blob, options);
            var decode = clock.Elapsed.TotalMilliseconds;
            clock.Restart();
            var table = Coordinator.Jobs.JobTable.FromSnapshot(snapshot);
            var index = clock.Elapsed.TotalMilliseconds;
            Console.WriteLine($"in this process, {(round == 0 ? "first" : $"again ({round})")}: blob of {blob.Length / 1e6:F1} MB read in {read:F0} ms, " +
                              $"decoded in {decode:F0} ms, indexed in {index:F0} ms ({table.Jobs.Count} jobs, {table.PendingCount} pending, {table.LiveCount} live)");
            GC.Collect();
        }
    }

    /// <summary>One number from one of the coordinator's SQLite files, read-only (the coordinator may be writing it: WAL).</summary>
    private static long Scalar(string file, string sql)
    {
        using var c = new SqliteConnection($"Data Source={file};Mode=ReadOnly;Pooling=False");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        return cmd.ExecuteScalar() is { } v and not DBNull ? Convert.ToInt64(v, CultureInfo.InvariantCulture) : -1;
    }

    private static Options Parse(string[] args)
    {
        var known = new HashSet<string> { "--jobs", "--workers", "--completed", "--events", "--runs", "--dir", "--config", "--compare" };
        for (var i = 1; i < args.Length; i++)
        {
            if (args[i] is "--remake" or "--in-process") continue;
            if (!known.Contains(args[i])) throw new ArgumentException($"bench recovery: unknown option '{args[i]}'\n{Usage}");
            if (++i >= args.Length) throw new ArgumentException($"bench recovery: {args[i - 1]} needs a value\n{Usage}");
        }
        string Get(string name, string fallback)
        {
            var i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        }
        int Count(string name, string fallback, int min) =>
            int.TryParse(Get(name, fallback), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min
                ? n : throw new ArgumentException($"bench recovery: {name} must be an integer >= {min}, got '{Get(name, fallback)}'");
        var jobs = Count("--jobs", "100000", 1);
        var config = Get("--config", "") is { Length: > 0 } c
            ? File.Exists(c) ? Path.GetFullPath(c) : throw new ArgumentException($"bench recovery: --config {c}: no such file")
            : null;
        return new Options(jobs, Count("--workers", "400", 1), Count("--completed", "16000", 0), Count("--events", "1300", 0), Count("--runs", "5", 0),
            Path.GetFullPath(Get("--dir", Path.Combine(Path.GetTempPath(), $"cis490-bench-recovery-{jobs}"))), args.Contains("--remake"), config, args.Contains("--in-process"),
            Get("--compare", "") is { Length: > 0 } other
                ? File.Exists(other) ? Path.GetFullPath(other) : throw new ArgumentException($"bench recovery: --compare {other}: no such file")
                : null);
    }
}
