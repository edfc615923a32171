using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Cis490.Shell.Demo;

namespace Cis490.Bench.Scale;

/// <summary><c>./cis490 bench scale</c> (issue 17): a real coordinator process (SQLite journal, snapshots on, as shipped) with
/// 100 000 jobs submitted through <c>manifest submit</c>, and 1 000 simulated workers (<see cref="SimWorker"/>, ten actor systems in
/// this process) registering, leasing, heartbeating and completing on the production intervals. Prints the coordinator's
/// memory per job, lease latency, heartbeat handling, recovery of the whole table after a SIGKILL, and <c>jobs list --all</c> time.</summary>
public static partial class ScaleBench
{
    public static int Run(string[] args)
    {
        ScaleOptions o;
        try { o = ScaleOptions.Parse(args); }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }
        var root = Directory.CreateTempSubdirectory("cis490-bench-scale-").FullName;
        try { return RunAsync(o, root).GetAwaiter().GetResult(); }
        finally
        {
            if (o.Keep) Console.WriteLine($"kept: {root}");
            else
                try { Directory.Delete(root, true); }
                catch (IOException) { }
                catch (UnauthorizedAccessException) { }
        }
    }

    private static async Task<int> RunAsync(ScaleOptions o, string root)
    {
        var logs = Path.Combine(root, "logs");
        var dataDir = Path.Combine(root, "data");
        var port = NodeProcess.FreePort();
        var httpPort = NodeProcess.FreePort();
        var address = $"127.0.0.1:{port}";
        var token = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        var env = new Dictionary<string, string> { ["CIS490_OPERATOR_TOKEN"] = token };
        // The coordinator's GC budget as ./cis490 coordinator sets it (the script exports it; the runtime reads it only from the
        // environment), for the coordinator process only: the fleet in this process keeps the runtime's defaults.
        if (Environment.GetEnvironmentVariable("CIS490_COORDINATOR_GEN0SIZE") is { Length: > 0 } gen0) env["DOTNET_GCgen0size"] = gen0;
        string[] coordinatorArgs = ["--port", port.ToString(), "--data-dir", dataDir, "--http-port", httpPort.ToString(), .. o.Config is { } c ? ["--config", c] : Array.Empty<string>()];
        var report = new ScaleReport { Workers = o.Workers, Jobs = o.Jobs, DurationSeconds = [o.DurationMin.TotalSeconds, o.DurationMax.TotalSeconds],
            BusyMinutes = o.Busy.TotalMinutes, Cores = Environment.ProcessorCount, LoadBefore = LoadAverage() };
        Console.WriteLine($"scale benchmark on {Environment.ProcessorCount} cores (load average {report.LoadBefore}): a coordinator process " +
                          $"(SQLite journal, snapshot-every as shipped) with {o.Jobs} jobs, {o.Workers} simulated workers in this process;");
        Console.WriteLine($"simulated jobs run {o.DurationMin.TotalSeconds:0.#}-{o.DurationMax.TotalSeconds:0.#} s; busy window {o.Busy.TotalMinutes:0.##} min; in {root}");

        // The coordinator program ./cis490 coordinator runs (it sets CIS490_COORDINATOR_DLL: the ReadyToRun publish), else the build output.
        var program = Environment.GetEnvironmentVariable("CIS490_COORDINATOR_DLL") is { Length: > 0 } dll ? Path.GetFullPath(dll) : null;
        if (program is not null && !File.Exists(program)) throw new FileNotFoundException($"CIS490_COORDINATOR_DLL names {program}, which does not exist", program);
        report.CoordinatorProgram = program ?? NodeProcess.ProgramPath("Cis490.Coordinator");
        Console.WriteLine($"coordinator program: {report.CoordinatorProgram}{(program is null ? " (the build output, JIT-compiled)" : "")}" +
                          (o.Config is null ? "" : $"; its extra config: {o.Config}") +
                          (env.TryGetValue("DOTNET_GCgen0size", out var g) ? $"; DOTNET_GCgen0size={g}" : "; the runtime's GC defaults"));
        var coordinator = NodeProcess.Start("coordinator", "Cis490.Coordinator", coordinatorArgs, logs, env, program: program);
        using var probe = new CoordinatorProbe(httpPort);
        using var stalls = new StallWatch();
        try
        {
            await coordinator.WaitReady(TimeSpan.FromMinutes(2));
            await probe.WaitAnswering(0, TimeSpan.FromMinutes(1));
            await Task.Delay(TimeSpan.FromSeconds(3)); // start-up settles (JIT, cluster gossip)
            var (emptyRss, _) = CoordinatorProbe.Memory(coordinator.Pid);
            var emptyHeap = await probe.GcHeap();
            // The same process start on an empty journal: what recovery costs before any job (the journal's cold start, JIT).
            report.EmptyRecoverySeconds = CoordinatorProbe.Find(await probe.Metrics(), "cis490_recovery_seconds_sum");

            // 1. The jobs, as an operator submits them: the real shell, one manifest, streamed.
            var manifest = Path.Combine(root, "scale.toml");
            await File.WriteAllTextAsync(manifest, Manifest(o.Jobs));
            var clock = Stopwatch.StartNew();
            var submit = await Program(env, "Cis490.Shell", "manifest", "submit", manifest, "--coordinator", address);
            report.SubmitSeconds = clock.Elapsed.TotalSeconds;
            if (submit.Exit != 0 || !submit.Stdout.Contains($"{o.Jobs} new job(s) pending"))
                throw new InvalidOperationException($"manifest submit failed (exit {submit.Exit}): {submit.Stderr}{submit.Stdout}");
            Console.WriteLine($"manifest submit of {o.Jobs} jobs ({new FileInfo(manifest).Length / 1e6:F1} MB): {report.SubmitSeconds:F1} s");
            await Task.Delay(TimeSpan.FromSeconds(3));
            var (loadedRss, loadedHwm) = CoordinatorProbe.Memory(coordinator.Pid);
            var loadedHeap = await probe.GcHeap();
            report.EmptyRssMb = emptyRss / 1e6;
            report.LoadedRssMb = loadedRss / 1e6;
            report.LoadedHwmMb = loadedHwm / 1e6;
            report.RssPerJobBytes = (loadedRss - emptyRss) / (double)o.Jobs;
            report.GcHeapPerJobBytes = loadedHeap is { } lh && emptyHeap is { } eh ? (lh - eh) / o.Jobs : null;

            // 2. The fleet.
            var before = await probe.Metrics();
            await using (var fleet = await SimFleet.Join($"akka.tcp://cis490@{address}", (o.DurationMin, o.DurationMax), (o.Workers + 99) / 100))
            {
                clock.Restart();
                fleet.Start(o.Workers, o.Seed);
                var ramp = TimeSpan.FromMinutes(2);
                while (fleet.Stats.FirstLeases < Math.Min(o.Workers, o.Jobs) && clock.Elapsed < ramp) await Task.Delay(50);
                report.RampSeconds = clock.Elapsed.TotalSeconds;
                report.FirstLease = fleet.Stats.FirstLeaseLatency();
                Console.WriteLine($"{fleet.Stats.FirstLeases} of {o.Workers} workers (on {fleet.Members} cluster members in this process) registered and got a first lease in {report.RampSeconds:F1} s; " +
                                  $"registration → first lease: {report.FirstLease.Ms}");

                var startMetrics = await probe.Metrics();
                fleet.Tell(SimWorker.Measure.Instance);
                stalls.Reset();
                clock.Restart();
                var load = new List<string>();
                while (clock.Elapsed < o.Busy)
                {
                    await Task.Delay(TimeSpan.FromSeconds(Math.Min(15, o.Busy.TotalSeconds)));
                    load.Add(LoadAverage());
                }
                var window = clock.Elapsed;
                var endMetrics = await probe.Metrics();
                report.LoadDuring = load;
                report.BusyLease = fleet.Stats.BusyLeaseLatency();
                (report.BenchStallWorstSeconds, report.BenchStallTotalSeconds, report.BenchStalls) = stalls.Read();
                report.Completed = fleet.Stats.CompletedMeasured;
                report.CompletionsPerSecond = fleet.Stats.CompletedMeasured / window.TotalSeconds;
                double Delta(string prefix) => (CoordinatorProbe.Find(endMetrics, prefix, "_total") ?? 0) - (CoordinatorProbe.Find(startMetrics, prefix, "_total") ?? 0);
                report.HeartbeatsSentPerSecond = fleet.Stats.HeartbeatsMeasured / window.TotalSeconds;
                report.HeartbeatsHandledPerSecond = Delta("cis490_heartbeats_received") / window.TotalSeconds;
                report.BusyRssMb = CoordinatorProbe.Memory(coordinator.Pid).Rss / 1e6;
                // The coordinator's side of the same window, from its own metrics: what a lease waits behind inside it.
                report.JournalWriteP50 = CoordinatorProbe.Quantile(startMetrics, endMetrics, "cis490_journal_write_seconds", 0.50);
                report.JournalWriteP99 = CoordinatorProbe.Quantile(startMetrics, endMetrics, "cis490_journal_write_seconds", 0.99);
                report.JournalWriteMax = CoordinatorProbe.Quantile(startMetrics, endMetrics, "cis490_journal_write_seconds", 1.0);
                report.SnapshotsSaved = (long)CoordinatorProbe.Delta(startMetrics, endMetrics, "cis490_snapshot_save_seconds", "_count");
                report.SnapshotSaveMax = CoordinatorProbe.Quantile(startMetrics, endMetrics, "cis490_snapshot_save_seconds", 1.0);
                report.CoordinatorGcPauseSeconds = CoordinatorProbe.Delta(startMetrics, endMetrics, "cis490_gc_pause_seconds", "_total");
                report.CoordinatorGen2 = (long)CoordinatorProbe.Delta(startMetrics, endMetrics, "cis490_gc_collections_total|generation=2", "");
                report.CoordinatorGcs = (long)CoordinatorProbe.Delta(startMetrics, endMetrics, "cis490_gc_collections_total|generation=0", "");
                Console.WriteLine($"busy window {window.TotalSeconds:F0} s: {report.Completed} jobs completed ({report.CompletionsPerSecond:F1}/s, each with an " +
                                  $"artifact upload); load average {string.Join(" | ", load)}");
                Console.WriteLine($"lease latency (slot free → next lease at the worker), fleet busy: {report.BusyLease.Ms}");
                Console.WriteLine($"inside the coordinator in the window: journal writes p50 ≤ {Ms(report.JournalWriteP50)}, p99 ≤ {Ms(report.JournalWriteP99)}, " +
                                  $"max ≤ {Ms(report.JournalWriteMax)} (histogram bucket bounds); {report.SnapshotsSaved} snapshots saved (longest ≤ {Ms(report.SnapshotSaveMax)}); " +
                                  $"GC: {report.CoordinatorGcs} collections, {report.CoordinatorGen2} of them gen2, {report.CoordinatorGcPauseSeconds * 1000:F0} ms paused in all");
                Console.WriteLine($"this process (the fleet) stalled {report.BenchStalls} times over 100 ms in the window (worst {report.BenchStallWorstSeconds:F2} s, " +
                                  $"{report.BenchStallTotalSeconds:F1} s in all): the machine's load, and part of every latency above");
                Console.WriteLine($"heartbeats at the production interval ({fleet.Timings.HeartbeatInterval.TotalSeconds:0.#} s): sent {report.HeartbeatsSentPerSecond:F0}/s, " +
                                  $"handled by the coordinator {report.HeartbeatsHandledPerSecond:F0}/s");

                var (flooded, floodWall) = await fleet.Flood(20, TimeSpan.FromMinutes(2));
                report.HeartbeatCapacityPerSecond = flooded / floodWall.TotalSeconds;
                Console.WriteLine($"heartbeat capacity: {flooded} heartbeats sent at once (20 per running lease) handled in {floodWall.TotalSeconds:F2} s: " +
                                  $"{report.HeartbeatCapacityPerSecond:F0}/s");
                report.Errors = fleet.Stats.ErrorCount;
                report.Revoked = fleet.Stats.RevokedCount;
                report.RacedHeartbeats = fleet.Stats.Raced;
                Console.WriteLine($"fleet: {fleet.Stats.Leases} leases, {fleet.Stats.CompletedCount} completed, {report.Revoked} revoked, " +
                                  $"{report.RacedHeartbeats} heartbeats or registrations crossed their completion (refused as stale, expected), {report.Errors} errors");
                foreach (var e in fleet.Stats.FirstErrors()) Console.WriteLine($"  fleet error: {e}");
            }
            var after = await probe.Metrics();
            report.LeasesGranted = (long)((CoordinatorProbe.Find(after, "cis490_leases_granted", "_total") ?? 0) - (CoordinatorProbe.Find(before, "cis490_leases_granted", "_total") ?? 0));

            // 3. The whole table through the real shell.
            clock.Restart();
            var list = await Program(env, "Cis490.Shell", "shell", "--coordinator", address, "jobs", "list", "--all", "--json");
            report.ListAllSeconds = clock.Elapsed.TotalSeconds;
            if (list.Exit != 0) throw new InvalidOperationException($"jobs list --all --json failed (exit {list.Exit}): {list.Stderr}");
            var rows = JsonDocument.Parse(list.Stdout).RootElement.GetProperty("jobs").GetArrayLength();
            if (rows != o.Jobs) throw new InvalidOperationException($"jobs list --all --json listed {rows} jobs, not {o.Jobs}");
            Console.WriteLine($"jobs list --all --json (the shell, a new process): {rows} rows in {report.ListAllSeconds:F1} s");

            // 4. Recovery of the whole table: SIGKILL, start again on the same journal, time to the first answer.
            if (CoordinatorProbe.Snapshot(dataDir) is { } snap)
            {
                report.SnapshotMb = snap.Bytes / 1e6;
                report.EventsAfterSnapshot = snap.EventsAfter;
            }
            coordinator.Kill();
            await coordinator.WaitExit(TimeSpan.FromSeconds(30));
            coordinator.Dispose();
            clock.Restart();
            coordinator = NodeProcess.Start("coordinator-2", "Cis490.Coordinator", coordinatorArgs, logs, env, program: program);
            await coordinator.WaitReady(TimeSpan.FromMinutes(2));
            report.RestartReadySeconds = clock.Elapsed.TotalSeconds;
            await probe.WaitAnswering(o.Jobs, TimeSpan.FromMinutes(5));
            report.RestartAnswerSeconds = clock.Elapsed.TotalSeconds;
            var recovered = await probe.Metrics();
            report.RecoverySeconds = CoordinatorProbe.Find(recovered, "cis490_recovery_seconds_sum");
            report.RecoveryPhases = new[] { "load", "index", "replay" }
                .ToDictionary(p => p, p => CoordinatorProbe.Find(recovered, $"cis490_recovery_phase_seconds_sum|phase={p}"));
            report.TableRecoverySeconds = TableRecovery(coordinator.LogPath);
            Console.WriteLine($"recovery phases (cis490_recovery_phase_seconds): actor start → snapshot offered (the journal plugins' start, the snapshot " +
                              $"read and decoded) {Ms(report.RecoveryPhases["load"])}, table indexed {Ms(report.RecoveryPhases["index"])}, events replayed " +
                              $"{Ms(report.RecoveryPhases["replay"])}");
            await Task.Delay(TimeSpan.FromSeconds(3));
            var recoveredRss = CoordinatorProbe.Memory(coordinator.Pid).Rss;
            var recoveredHeap = await probe.GcHeap();
            report.RecoveredRssMb = recoveredRss / 1e6;
            report.RecoveredGcHeapMb = recoveredHeap / 1e6;
            report.RecoveredRssPerJobBytes = (recoveredRss - emptyRss) / (double)o.Jobs;
            report.RecoveredGcHeapPerJobBytes = recoveredHeap is { } rh && emptyHeap is { } eh2 ? (rh - eh2) / o.Jobs : null;
            Console.WriteLine($"recovery after SIGKILL (snapshot {report.SnapshotMb:F1} MB + {report.EventsAfterSnapshot} events): job table recovered in " +
                              $"{report.RecoverySeconds:F2} s (cis490_recovery; the same start on the empty journal: {report.EmptyRecoverySeconds:F2} s); process start → READY {report.RestartReadySeconds:F1} s, → first answer with all jobs " +
                              $"{report.RestartAnswerSeconds:F1} s");

            report.LoadAfter = LoadAverage();
            Summary(report);
            if (o.Out is not null) await File.WriteAllTextAsync(o.Out, JsonSerializer.Serialize(report, new JsonSerializerOptions
                { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
            return 0;
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException or HttpRequestException or JsonException)
        {
            Console.Error.WriteLine($"bench scale: {e.Message}; the coordinator's log ({coordinator.LogPath}) ends:");
            Console.Error.WriteLine(string.Join("\n", File.ReadLines(coordinator.LogPath).TakeLast(15)));
            return 1;
        }
        finally
        {
            coordinator.Terminate();
            if (!await coordinator.WaitExit(TimeSpan.FromSeconds(30))) coordinator.Kill();
            coordinator.Dispose();
        }
    }

    internal static string Ms(double? seconds) => seconds is { } s ? double.IsPositiveInfinity(s) ? "∞" : $"{s * 1000:0.#} ms" : "n/a";

    private static void Summary(ScaleReport r)
    {
        static string Goal(bool? met) => met switch { true => "met", false => "MISSED", null => "not measured" };
        Console.WriteLine();
        Console.WriteLine($"summary ({r.Workers} workers, {r.Jobs} jobs; load average before {r.LoadBefore}, after {r.LoadAfter}):");
        Console.WriteLine($"  coordinator RSS: empty {r.EmptyRssMb:F0} MB, {r.Jobs} jobs loaded {r.LoadedRssMb:F0} MB (peak {r.LoadedHwmMb:F0} MB), fleet busy " +
                          $"{r.BusyRssMb:F0} MB, recovered from the journal {r.RecoveredRssMb:F0} MB (GC heap {r.RecoveredGcHeapMb:F0} MB)");
        Console.WriteLine($"  memory per job (minus the empty coordinator, ÷ jobs): after the submit {r.RssPerJobBytes:F0} B RSS, {r.GcHeapPerJobBytes:F0} B GC heap; " +
                          $"recovered {r.RecoveredRssPerJobBytes:F0} B RSS, {r.RecoveredGcHeapPerJobBytes:F0} B GC heap    goal <= 2048 B: " +
                          Goal(Math.Max(r.RssPerJobBytes, r.RecoveredRssPerJobBytes) <= 2048));
        Console.WriteLine($"  lease latency, fleet busy: p50 {r.BusyLease?.P50 * 1000:F1} ms, p99 {r.BusyLease?.P99 * 1000:F1} ms    goal p99 <= 100 ms: " +
                          Goal(r.BusyLease is { Count: > 0 } b ? b.P99 <= 0.1 : null));
        Console.WriteLine($"  heartbeats handled: {r.HeartbeatsHandledPerSecond:F0}/s at the production interval; capacity {r.HeartbeatCapacityPerSecond:F0}/s");
        Console.WriteLine($"  recovery of the whole table: {r.RecoverySeconds:F2} s, of which the journal's cold start (an empty table's recovery) " +
                          $"{r.EmptyRecoverySeconds:F2} s    goal <= 1 s: {Goal(r.RecoverySeconds is { } s ? s <= 1 : null)}" +
                          $"; from the journal being ready to the table recovered (coordinator log): {r.TableRecoverySeconds:F2} s: " +
                          Goal(r.TableRecoverySeconds is { } tr ? tr <= 1 : null));
        Console.WriteLine($"  jobs list --all --json: {r.ListAllSeconds:F1} s; manifest submit: {r.SubmitSeconds:F1} s");
    }

    /// <summary>From the coordinator's log: the time from its journal and snapshot store being ready (the warm-up's line) to the job
    /// table being recovered (the coordinator's line): the table's own part of the recovery, without the plugins' cold start.</summary>
    private static double? TableRecovery(string log)
    {
        DateTime? ready = null, recovered = null;
        foreach (var line in File.ReadLines(log))
        {
            var at = LogTime().Match(line);
            if (!at.Success) continue;
            var t = DateTime.ParseExact(at.Groups[1].Value, "MM/dd/yyyy HH:mm:ss.fff", System.Globalization.CultureInfo.InvariantCulture);
            if (line.Contains("Journal and snapshot store ready")) ready = t;
            else if (line.Contains("JobCoordinator recovered")) recovered ??= t;
        }
        return ready is { } a && recovered is { } b ? Math.Max(0, (b - a).TotalSeconds) : null;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^\[\w+\]\[(\d\d/\d\d/\d{4} \d\d:\d\d:\d\d\.\d{3})Z\]")]
    private static partial System.Text.RegularExpressions.Regex LogTime();

    internal static string Manifest(int jobs)
    {
        var text = new StringBuilder(jobs * 64);
        for (var i = 1; i <= jobs; i++) text.Append("[[jobs]]\nmodel = \"knn\"\nmode = \"realistic\"\nseed = ").Append(i).Append("\nmax_attempts = 3\n\n");
        return text.ToString();
    }

    /// <summary>The 1, 5 and 15 minute load averages (the machine is shared: every figure is printed beside them).</summary>
    internal static string LoadAverage() =>
        string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

    /// <summary>Runs one of our programs to its end (the shell as an operator runs it) and returns its exit code and output.</summary>
    internal static async Task<(int Exit, string Stdout, string Stderr)> Program(IReadOnlyDictionary<string, string> env, string project, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var (k, v) in env) psi.Environment[k] = v;
        psi.ArgumentList.Add(NodeProcess.ProgramPath(project));
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        return (p.ExitCode, await stdout, await stderr);
    }
}

/// <summary>The figures of one <c>bench scale</c> run (written by <c>--out FILE.json</c>).</summary>
public sealed class ScaleReport
{
    public int Workers { get; set; }
    public int Jobs { get; set; }
    public string CoordinatorProgram { get; set; } = "";
    public double[] DurationSeconds { get; set; } = [];
    public double BusyMinutes { get; set; }
    public int Cores { get; set; }
    public string LoadBefore { get; set; } = "";
    public List<string> LoadDuring { get; set; } = [];
    public string LoadAfter { get; set; } = "";
    public double SubmitSeconds { get; set; }
    public double EmptyRssMb { get; set; }
    public double LoadedRssMb { get; set; }
    public double LoadedHwmMb { get; set; }
    public double BusyRssMb { get; set; }
    public double RssPerJobBytes { get; set; }
    public double? GcHeapPerJobBytes { get; set; }
    public double RampSeconds { get; set; }
    public Percentiles? FirstLease { get; set; }
    public Percentiles? BusyLease { get; set; }
    public long Completed { get; set; }
    public double CompletionsPerSecond { get; set; }
    public long LeasesGranted { get; set; }
    public double HeartbeatsSentPerSecond { get; set; }
    public double HeartbeatsHandledPerSecond { get; set; }
    public double HeartbeatCapacityPerSecond { get; set; }
    public long Errors { get; set; }
    public long Revoked { get; set; }
    public double ListAllSeconds { get; set; }
    public double? SnapshotMb { get; set; }
    public long? EventsAfterSnapshot { get; set; }
    public double RestartReadySeconds { get; set; }
    public double RestartAnswerSeconds { get; set; }
    public double? RecoverySeconds { get; set; }
    public double? EmptyRecoverySeconds { get; set; }
    public double? TableRecoverySeconds { get; set; }
    public Dictionary<string, double?> RecoveryPhases { get; set; } = [];
    public double BenchStallWorstSeconds { get; set; }
    public double BenchStallTotalSeconds { get; set; }
    public int BenchStalls { get; set; }
    public double RecoveredRssMb { get; set; }
    public double RecoveredRssPerJobBytes { get; set; }
    public double? RecoveredGcHeapPerJobBytes { get; set; }
    public long RacedHeartbeats { get; set; }
    public double? RecoveredGcHeapMb { get; set; }
    public double? JournalWriteP50 { get; set; }
    public double? JournalWriteP99 { get; set; }
    public double? JournalWriteMax { get; set; }
    public long SnapshotsSaved { get; set; }
    public double? SnapshotSaveMax { get; set; }
    public double CoordinatorGcPauseSeconds { get; set; }
    public long CoordinatorGen2 { get; set; }
    public long CoordinatorGcs { get; set; }
}
