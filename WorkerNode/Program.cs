using System.Text.Json;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Tools.Singleton;
using Akka.Streams;
using Cis490.Shared.Capability;
using Cis490.Shared.Cli;
using Cis490.Shared.Config;
using Cis490.Shared.Hosting;
using Cis490.Shared.Models;
using Cis490.Training.Data;
using Cis490.Training.Episodes;
using Cis490.Training.Features;
using Cis490.Training.Runner;
using Cis490.WorkerNode.Node;

namespace Cis490.WorkerNode;

/// <summary>The worker program: the <c>worker</c> node, the <c>trainer</c> child-process entry, and the pipeline commands
/// (<c>data synth</c>, <c>train</c>) that need the ML code.</summary>
public static class Program
{
    private const string Usage = """
        usage:
          worker --seed akka.tcp://cis490@HOST:PORT [--port P] [--hostname H] [--data DIR] [--slots N] [--work-dir DIR] [--worker-id ID] [--config FILE.conf]
          trainer --job JOB.json                     (started by a worker for each lease)
          data generate --out DIR [--episodes N] [--seed S]   (the synthetic episode set)
          data build --episodes DIR --out DIR [--window S] [--stride S] [--max-bad-fraction F]
          train --model M --mode realistic|oracle --data DIR --out DIR [--hyper JSON] [--split host|sample|time] [--train-hosts H,..] [--seed S]
          predict --model-dir DIR --data DIR [--split test|val|train|all] --out FILE.csv
          eval --artifacts DIR --data DIR --out DIR [--resample windows|episodes] [--resamples N] [--seed S]
        """;

    public static async Task<int> Main(string[] argv)
    {
        if (argv.Length == 0)
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }
        // Before any command: the family registry is filled once, single-threaded. Registering loads no native library.
        Cis490.Training.Neural.NeuralFamilies.Register();
        try
        {
            return argv[0] switch
            {
                "worker" => await RunWorker(new CliArgs(argv[1..])),
                "trainer" => RunTrainerProcess(new CliArgs(argv[1..])),
                "data" when argv.Length > 1 && argv[1] == "generate" => Generate(new CliArgs(argv[2..])),
                "data" when argv.Length > 1 && argv[1] == "build" => Build(new CliArgs(argv[2..])),
                "train" => TrainLocally(new CliArgs(argv[1..])),
                "predict" => Predict(new CliArgs(argv[1..])),
                "eval" => Evaluate(new CliArgs(argv[1..])),
                _ => throw new CliException($"unknown command '{string.Join(' ', argv.Take(2))}'"),
            };
        }
        catch (CliException e)
        {
            Console.Error.WriteLine($"cis490: {e.Message}");
            Console.Error.WriteLine(Usage);
            return 2;
        }
        catch (Cis490.Training.Neural.TorchUnavailableException e)
        {
            Console.Error.WriteLine($"cis490: {e.Message}");
            return 3;
        }
    }

    private static async Task<int> RunWorker(CliArgs args)
    {
        var seeds = args.Require("seed").Split(',', StringSplitOptions.RemoveEmptyEntries);
        var port = args.GetInt("port", 0);
        var hostname = args.Get("hostname", "127.0.0.1");
        var dataDir = Path.GetFullPath(args.Get("data", Path.Combine(Environment.CurrentDirectory, "data", "features")));
        var slots = args.Get("slots");
        var workDir = args.Get("work-dir");
        var workerId = args.Get("worker-id");
        var extraConfig = args.Get("config");
        args.RejectUnknown();
        if (extraConfig is not null && !File.Exists(extraConfig)) throw new CliException($"--config {extraConfig}: no such file");
        if (!File.Exists(Path.Combine(dataDir, FeatureTable.FileName)))
            throw new CliException($"--data {dataDir} has no {FeatureTable.FileName}; make one with './cis490 data generate' and './cis490 data build --out {dataDir}'");
        if (slots is not null && (!int.TryParse(slots, out var n) || n < 1))
            throw new CliException($"--slots must be a positive integer, got '{slots}'");

        var overrides = NodeRuntime.AddressOverrides(hostname, port, seeds) + (slots is null ? "" : $"\ncis490.worker.slots = {slots}");
        // --config FILE: the operator's HOCON over worker.conf (command-line options over both).
        string[] files = extraConfig is null ? ["worker.conf"] : [Path.GetFullPath(extraConfig), "worker.conf"];
        var config = HoconLoader.Load(files, overrides)
            .WithFallback(ClusterSingleton.DefaultConfig())
            // The coordinator node runs DistributedPubSub (for ClusterClient); its mediator gossips to every member, so the worker
            // must know that serializer too, or it logs "Cannot find serializer with id [9]" for each gossip.
            .WithFallback(Akka.Cluster.Tools.PublishSubscribe.DistributedPubSub.DefaultConfig())
            .WithFallback(ActorMaterializer.DefaultConfig());
        var capability = CapabilityDetector.Detect();
        var rejoinDelay = config.GetTimeSpan("cis490.worker.rejoin-delay");

        // One actor system per membership: when the node is downed, or the coordinator is gone for good, the system ends
        // and the node joins again through its seeds, until a signal asks it to stop.
        var stopping = false;
        while (true)
        {
            var system = ActorSystem.Create(config.GetString("cis490.system-name"), config);
            CoordinatedShutdown.Get(system).AddTask(CoordinatedShutdown.PhaseBeforeServiceUnbind, "note-signal", () =>
            {
                stopping |= CoordinatedShutdown.Get(system).ShutdownReason is CoordinatedShutdown.ClrExitReason;
                return Task.FromResult(Akka.Done.Instance);
            });
            var signals = NodeRuntime.ShutdownOnSignals(system);
            var self = Cluster.Get(system).SelfAddress;
            var id = workerId ?? $"{Environment.MachineName}-{self.Port}";
            var work = Path.GetFullPath(workDir ?? Path.Combine(Path.GetTempPath(), "cis490-work", id));
            var settings = WorkerSettings.From(config, id, dataDir, work);

            var proxy = system.ActorOf(ClusterSingletonProxy.Props("/user/job-coordinator",
                ClusterSingletonProxySettings.Create(system).WithRole("coordinator")), "job-coordinator-proxy");
            IActorRef? node = null;
            Cluster.Get(system).RegisterOnMemberUp(() => node = system.ActorOf(WorkerNodeActor.Props(settings, capability, proxy), "worker"));
            // A signal drains the node before it leaves: no new leases, running jobs finish within the grace, the rest is handed
            // back. Not when the cluster downed the node or the coordinator is gone: nobody would take the hand-back.
            CoordinatedShutdown.Get(system).AddTask(CoordinatedShutdown.PhaseBeforeServiceUnbind, "drain", async () =>
            {
                if (node is null || CoordinatedShutdown.Get(system).ShutdownReason is not CoordinatedShutdown.ClrExitReason) return Akka.Done.Instance;
                await node.Ask<WorkerNodeActor.Drained>(WorkerNodeActor.Drain.Instance, settings.DrainGrace + TimeSpan.FromSeconds(15));
                return Akka.Done.Instance;
            });
            NodeRuntime.AnnounceWhenUp(system, "worker", $"worker-id={id}");
            await system.WhenTerminated;
            foreach (var s in signals) s.Dispose();
            if (stopping) return 0;
            Console.Error.WriteLine($"worker {id}: left the cluster; joining again through {string.Join(", ", seeds)} in {rejoinDelay.TotalSeconds:F0} s");
            await Task.Delay(rejoinDelay);
        }
    }

    /// <summary>The child process a TrainerActor starts: trains one job and prints progress as JSON lines on stdout.</summary>
    private static int RunTrainerProcess(CliArgs args)
    {
        var jobFile = args.Require("job");
        args.RejectUnknown();
        var request = TrainRequest.Load(jobFile);
        StartWatchdog();
        try
        {
            TrainerRunner.Run(request, PrintProgress);
            Console.Out.Flush();
            return 0;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or NotSupportedException)
        {
            Console.Error.WriteLine($"job {request.JobId}: {e.Message}");
            return 1;
        }
    }

    private static readonly object ProgressLock = new();

    /// <summary>A trainer whose worker died (SIGKILL, OOM kill) has nobody to report to, and its lease will be re-run elsewhere:
    /// it exits instead of burning the machine. Linux re-parents an orphan, so a changed parent pid means the worker is gone.</summary>
    /// <summary>Once a second: exit when the worker process is gone (an orphaned trainer must not train on), and print an
    /// <c>alive</c> line, so the worker can tell a trainer that is slow between epochs from one that is stopped or dead.</summary>
    private static void StartWatchdog()
    {
        var parent = OperatingSystem.IsLinux() ? getppid() : 0;
        var alive = JsonSerializer.Serialize(new { type = "alive" }, Json.Options);
        var watcher = new Thread(() =>
        {
            while (true)
            {
                Thread.Sleep(1000); // the tick of a background watchdog, not a synchronisation
                if (OperatingSystem.IsLinux() && getppid() != parent)
                {
                    Console.Error.WriteLine($"trainer: worker process {parent} is gone; exiting");
                    Environment.Exit(3);
                }
                lock (ProgressLock) Console.Out.WriteLine(alive);
            }
        }) { IsBackground = true, Name = "trainer-watchdog" };
        watcher.Start();
    }

    [System.Runtime.InteropServices.DllImport("libc")]
    private static extern int getppid();

    private static void PrintProgress(ProgressReport p)
    {
        var line = JsonSerializer.Serialize(new { type = "progress", progress = p }, Json.Options).ReplaceLineEndings("");
        lock (ProgressLock) Console.Out.WriteLine(line);
    }

    private static int Generate(CliArgs args)
    {
        var outDir = args.Require("out");
        var episodes = args.GetInt("episodes", 567);
        var seed = args.GetInt("seed", 490);
        args.RejectUnknown();
        if (episodes < 1) throw new CliException($"--episodes must be at least 1, got {episodes}");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        SyntheticEpisodes.Generate(outDir, episodes, seed, n => Console.Error.WriteLine($"  {n}/{episodes} episodes"));
        Console.WriteLine($"wrote {episodes} episodes to {Path.GetFullPath(outDir)} (seed {seed}) in {clock.Elapsed.TotalSeconds:F1} s");
        return 0;
    }

    private static int Build(CliArgs args)
    {
        var episodes = args.Require("episodes");
        var outDir = args.Require("out");
        var window = args.GetInt("window", 30);
        var stride = args.GetInt("stride", 10);
        var maxBadText = args.Get("max-bad-fraction", "0.05");
        args.RejectUnknown();
        if (!double.TryParse(maxBadText, System.Globalization.CultureInfo.InvariantCulture, out var maxBad) || maxBad is < 0 or > 1)
            throw new CliException($"--max-bad-fraction must be a number between 0 and 1, got '{maxBadText}'");
        if (window < 2 || stride < 1) throw new CliException($"--window must be at least 2 and --stride at least 1 (got {window}, {stride})");
        var summary = DataBuilder.Build(new BuildOptions(episodes, outDir, new WindowSettings(window, stride), maxBad), Console.Error.WriteLine);
        Console.WriteLine($"{summary.EpisodesUsed}/{summary.EpisodesSeen} episodes used ({summary.DegradedEpisodes} degraded), " +
                          $"{summary.EpisodesBad} skipped, {summary.Windows} windows in {summary.Seconds:F1} s " +
                          $"({summary.EpisodesPerSecond:F0} episodes/s, peak {summary.PeakWorkingSetBytes / 1048576.0:F0} MiB)");
        foreach (var (kind, n) in summary.BadByKind) Console.WriteLine($"  skipped, {kind}: {n}");
        Console.WriteLine($"  windows per class: {string.Join(", ", summary.WindowsPerClass.Select(kv => $"{kv.Key} {kv.Value}"))}");
        Console.WriteLine($"  → {Path.Combine(Path.GetFullPath(outDir), FeatureTable.FileName)}, {FeatureSchema.FileName}, {DataBuilder.TensorsDir}/<host>.npz, {BuildSummary.FileName}");
        if (summary.BadFraction > maxBad)
        {
            Console.Error.WriteLine($"cis490: {summary.EpisodesBad} of {summary.EpisodesSeen} episodes are bad ({summary.BadFraction:P1}), over --max-bad-fraction {maxBad:P1}; see {BuildSummary.FileName}");
            return 1;
        }
        return 0;
    }

    /// <summary>Checks a --hyper JSON object against the model's declarations, as a manifest's [jobs.hyper] is checked.</summary>
    private static string CanonicalHyper(ModelDefinition model, string json)
    {
        using var doc = JsonDocument.Parse(json);
        if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new ArgumentException("must be a JSON object, e.g. {\"k\": 5}");
        var values = new Dictionary<string, object>();
        foreach (var p in doc.RootElement.EnumerateObject())
        {
            var decl = model.Find(p.Name) ?? throw new ArgumentException($"{model.Name} has no hyper-parameter '{p.Name}' (known: {string.Join(", ", model.Hyper.Select(h => h.Name))})");
            object raw = p.Value.ValueKind switch
            {
                JsonValueKind.Number when p.Value.TryGetInt64(out var l) => l,
                JsonValueKind.Number => p.Value.GetDouble(),
                JsonValueKind.True or JsonValueKind.False => p.Value.GetBoolean(),
                JsonValueKind.String => p.Value.GetString()!,
                _ => throw new ArgumentException($"{p.Name} must be a number, boolean or string"),
            };
            var problem = Cis490.Shared.Manifest.ManifestLoader.CheckHyper(decl, raw, out var normalized);
            if (problem is not null) throw new ArgumentException($"{p.Name} {problem}");
            values[p.Name] = normalized!;
        }
        return Cis490.Shared.Jobs.JobIds.CanonicalHyperJson(values);
    }

    private static int Predict(CliArgs args)
    {
        var modelDir = args.Require("model-dir");
        var data = args.Require("data");
        var split = args.Get("split", "test");
        var outFile = args.Require("out");
        args.RejectUnknown();
        if (!Predictor.SplitNames.Contains(split)) throw new CliException($"--split must be one of {string.Join(", ", Predictor.SplitNames)}, got '{split}'");
        return ReportingDataErrors("predict", () =>
        {
            var ckpt = Checkpoint.Load(modelDir);
            var predictions = Predictor.Predict(modelDir, data, split);
            Predictor.WriteCsv(outFile, predictions, ckpt.Classes);
            var correct = predictions.Count(p => p.TrueLabel == p.PredictedLabel);
            Console.WriteLine($"{ckpt.Model}/{ckpt.Mode}: {predictions.Count} {split} windows scored in {Predictor.LastScoringSeconds:F3} s " +
                              $"({predictions.Count / Math.Max(Predictor.LastScoringSeconds, 1e-9):F0} windows/s), accuracy {(double)correct / Math.Max(1, predictions.Count):F3} → {outFile}");
            return 0;
        });
    }

    /// <summary>Runs a command whose inputs are files: a missing or malformed one is one line naming it, and exit code 1.</summary>
    private static int ReportingDataErrors(string command, Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception e) when (e is InvalidDataException or FileNotFoundException or DirectoryNotFoundException)
        {
            Console.Error.WriteLine($"cis490 {command}: {e.Message}");
            return 1;
        }
    }

    private static int Evaluate(CliArgs args)
    {
        var artifacts = args.Require("artifacts");
        var data = args.Require("data");
        var outDir = args.Require("out");
        var unitText = args.Get("resample", "windows");
        var resamples = args.GetInt("resamples", 1000);
        var seed = args.GetInt("seed", 490);
        args.RejectUnknown();
        if (!Enum.TryParse<Cis490.Training.Evaluation.ResampleUnit>(unitText, ignoreCase: true, out var unit))
            throw new CliException($"--resample must be windows or episodes, got '{unitText}'");
        if (resamples < 10) throw new CliException($"--resamples must be at least 10, got {resamples}");
        return ReportingDataErrors("eval", () =>
        {
            var result = Cis490.Training.Evaluation.Evaluator.Evaluate(artifacts, data, outDir, unit, resamples, seed, Console.Error.WriteLine);
            var report = Cis490.Training.Evaluation.ComparisonReport.Write(result, outDir);
            Console.WriteLine($"evaluated {result.Models.Count} model(s), skipped {result.Skipped.Count} → {report}");
            foreach (var line in File.ReadLines(report).Where(l => l.StartsWith("| ", StringComparison.Ordinal) && !l.StartsWith("| model", StringComparison.Ordinal)).Take(20))
                Console.WriteLine(line);
            return result.Models.Count > 0 ? 0 : 1;
        });
    }

    private static int TrainLocally(CliArgs args)
    {
        var model = args.Require("model");
        var mode = args.Require("mode");
        var data = Path.GetFullPath(args.Require("data"));
        var outDir = Path.GetFullPath(args.Require("out"));
        var hyper = args.Get("hyper", "{}");
        var split = args.Get("split", "host");
        var trainHosts = args.Get("train-hosts", "elliott-thinkpad").Split(',', StringSplitOptions.RemoveEmptyEntries);
        var seed = args.GetInt("seed", 0);
        args.RejectUnknown();
        if (!ModelCatalog.TryGet(model, out var definition)) throw new CliException($"unknown model '{model}' (known: {string.Join(", ", ModelCatalog.All.Keys)})");
        if (!ModelCatalog.Modes.Contains(mode)) throw new CliException($"unknown mode '{mode}' (known: {string.Join(", ", ModelCatalog.Modes)})");
        if (!ModelCatalog.SplitRecipes.Contains(split)) throw new CliException($"unknown --split '{split}' (known: {string.Join(", ", ModelCatalog.SplitRecipes)})");
        string hyperJson;
        try
        {
            hyperJson = CanonicalHyper(definition, hyper);
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or ArgumentException)
        {
            throw new CliException($"--hyper: {e.Message}");
        }
        var request = new TrainRequest("local", 0, model, mode, hyperJson, split, trainHosts, seed, data, outDir, null);
        return ReportingDataErrors("train", () =>
        {
            var ckpt = TrainerRunner.Run(request, p => Console.Error.Write($"\r{p.Message} {p.Epoch}/{p.TotalEpochs}   "));
            Console.Error.WriteLine();
            Console.WriteLine($"{model}/{mode}: val macro F1 {ckpt.Metrics["val_macro_f1"]:F3}, test macro F1 {ckpt.Metrics["test_macro_f1"]:F3} → {outDir}");
            return 0;
        });
    }
}
