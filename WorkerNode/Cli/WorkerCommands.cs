using Cis490.Shared.Manifest;
using Cis490.Shared.Models;
using Cis490.Training.Episodes;
using Cis490.Training.Runner;
using Cis490.WorkerNode.Node;
using Cis490.WorkerNode.Pipeline;
using Cis490.WorkerNode.Trainer;

namespace Cis490.WorkerNode.Cli;

/// <summary>The one table of the worker program's commands: the usage text (<see cref="Usage"/>), <c>./cis490 help</c>, each
/// command's <c>--help</c> and the options each command accepts all come from it. Value lists are taken from the code that
/// checks them (modes, split recipes, prediction splits), so the text cannot drift from what is accepted.</summary>
public static class WorkerCommands
{
    public static readonly IReadOnlyList<CommandSpec> All =
    [
        new("worker",
            [
                new("seed", "akka.tcp://cis490@HOST:PORT", Required: true, Note: "required; several seeds separated by commas"),
                new("port", "P", Default: "0", Note: "default 0 (any free port)"),
                new("hostname", "H", Default: "127.0.0.1", Note: "default 127.0.0.1; the address other nodes reach this one on"),
                new("data", "DIR", Note: "optional: a built feature folder, used as it is by jobs bound to its data set (and by jobs bound to none); " +
                                          "default none: each job's data set is pulled from the coordinator into WORK-DIR/data-sets"),
                new("slots", "N", Note: "default cis490.worker.slots in hocon/worker.conf (1)"),
                new("work-dir", "DIR", Note: "default $TMPDIR/cis490-work/WORKER-ID"),
                new("worker-id", "ID", Note: "default MACHINE-PORT"),
                new("config", "FILE.conf", Note: "optional; HOCON over hocon/worker.conf"),
                new("metrics-port", "N", Note: "serve Prometheus metrics on http://127.0.0.1:N/metrics (cis490.telemetry; default off)"),
                new("tls", "DIR", Note: "an enrolment folder (./cis490 certs issue NAME --role worker): mutual TLS; also CIS490_TLS_DIR or cis490.tls.dir; needed beyond loopback"),
                new("insecure", "", Flag: true, Note: "run without TLS on a non-loopback --hostname (every machine on the network is trusted)"),
            ],
            "a worker node: one trainer process per lease and slot; SIGTERM drains it",
            c => Run(WorkerNodeProgram.Parse(c), WorkerNodeProgram.Run)),
        // Before "trainer": Find takes the first entry whose words match.
        new("trainer self-test",
            [new("work-dir", "DIR", Note: "default the system's temporary folder; a fresh folder inside it is made and removed")],
            "trains each family on a tiny set, as workers do at start; exit 5: none can",
            c => Run(TrainerProcessProgram.ParseSelfTest(c), TrainerProcessProgram.RunSelfTest)),
        new("trainer",
            [new("job", "JOB.json", Required: true)],
            "trains one job file (a worker starts it for each lease)",
            c => Run(TrainerProcessProgram.ParseJobFile(c), TrainerProcessProgram.Run)),
        new("data generate",
            [
                new("out", "DIR", Required: true), new("episodes", "N", Default: "567"), new("seed", "S", Default: "490"),
                new("host-shift", "X", Default: Knob(GeneratorDifficulty.Default.HostShift), Note: "0: one baseline; 1: legacy 2.7-6.7x"),
                new("episode-spread", "X", Default: Knob(GeneratorDifficulty.Default.EpisodeSpread), Note: "log-sd of an episode's baseline"),
                new("label-noise", "S", Default: Knob(GeneratorDifficulty.Default.LabelNoise), Note: "+/- s between label and behaviour"),
                new("phase-overlap", "S", Default: Knob(GeneratorDifficulty.Default.PhaseOverlap), Note: "s over which phases blend"),
                new("oracle-signal", "X", Default: Knob(GeneratorDifficulty.Default.OracleSignal), Note: "0-1; 1: legacy sample_tree"),
            ],
            "synthetic episodes (same seed and knobs: same bytes)",
            c => Run(PipelineCommands.ParseGenerate(c), PipelineCommands.Generate)),
        new("data build",
            [
                new("episodes", "DIR", Required: true), new("out", "DIR", Required: true), new("window", "S", Default: "30"),
                new("stride", "S", Default: "10"), new("max-bad-fraction", "F", Default: "0.05"),
            ],
            "windows → Parquet features + npz tensors; exit 1: too many bad episodes",
            c => Run(PipelineCommands.ParseBuild(c), PipelineCommands.Build)),
        new("train",
            [
                new("model", "M", Required: true, Note: $"required; one of {string.Join(", ", ModelCatalog.All.Keys.Order())}"),
                new("mode", string.Join("|", ModelCatalog.Modes), Required: true),
                new("data", "DIR", Required: true), new("out", "DIR", Required: true),
                new("hyper", "JSON", Default: "{}", Note: "default {}; checked as a manifest's [jobs.hyper] is, e.g. '{\"k\": 5}'"),
                new("split", string.Join("|", ModelCatalog.SplitRecipes), Default: ManifestLoader.DefaultSplitRecipe),
                new("train-hosts", "H,..", Default: ManifestLoader.DefaultTrainHost),
                new("seed", "S", Default: "0"),
            ],
            "one job, locally, no cluster (the same defaults as a manifest job)",
            c => Run(PipelineCommands.ParseTrain(c), PipelineCommands.Train)),
        new("predict",
            [
                new("model-dir", "DIR", Required: true), new("data", "DIR", Required: true),
                new("split", string.Join("|", Predictor.SplitNames), Default: Predictor.SplitNames[0]),
                new("out", "FILE.csv", Required: true),
            ],
            "one row per window with p_CLASS columns",
            c => Run(PipelineCommands.ParsePredict(c), PipelineCommands.Predict)),
        new("eval",
            [
                new("artifacts", "DIR", Required: true), new("data", "DIR", Required: true), new("out", "DIR", Required: true),
                new("resample", string.Join("|", PipelineCommands.ResampleUnits), Default: PipelineCommands.ResampleUnits[0]),
                new("resamples", "N", Default: "1000"), new("seed", "S", Default: "490"),
                new("allow-mixed-data", "", Flag: true, Note: "rank models trained on different data sets in one report (each data set apart); refused without it"),
            ],
            "compares the models of an artifact folder; writes OUT/comparison.md",
            c => Run(PipelineCommands.ParseEval(c), PipelineCommands.Evaluate)),
    ];

    /// <summary>The command that <paramref name="argv"/> names (one word, or two for <c>data generate|build</c>) and the words after
    /// its name; null when it names none.</summary>
    public static (CommandSpec? Spec, string[] Arguments) Find(IReadOnlyList<string> argv)
    {
        foreach (var spec in All)
        {
            var words = spec.Name.Split(' ');
            if (argv.Count >= words.Length && words.Select((w, i) => argv[i] == w).All(x => x))
                return (spec, argv.Skip(words.Length).ToArray());
        }
        return (null, []);
    }

    private static string Knob(double value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static CommandRun Run<T>(T options, Func<T, int> run) => () => Task.FromResult(run(options));

    private static CommandRun Run<T>(T options, Func<T, Task<int>> run) => () => run(options);
}
