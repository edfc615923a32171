using System.Globalization;

namespace Cis490.Bench.Chaos;

/// <summary>The options of <c>./cis490 bench chaos</c>: how many faults of each kind, the fleet's shape and the time bounds.</summary>
public sealed record ChaosOptions
{
    public int WorkerKills { get; init; } = 50;
    public int CoordinatorKills { get; init; } = 10;
    public int CoordinatorRestarts { get; init; } = 5;
    public int Pauses { get; init; } = 5;
    public int Partitions { get; init; } = 3;

    /// <summary>Worker processes; worker i has <see cref="SlotsOf"/> slots (2, 1, 2, …).</summary>
    public int Workers { get; init; } = 3;

    /// <summary>Jobs kept outstanding (pending, leased or running) at all times. Default: the fleet's slots less the largest
    /// worker's, so a faulted worker's jobs always find free slots elsewhere and the re-lease time measures the fleet's
    /// reaction, not a queue.</summary>
    public int? Jobs { get; init; }

    public int Seed { get; init; } = 490;

    /// <summary>The whole run (set-up, faults, final drain, report) ends by then; phases share it by their planned work.</summary>
    public TimeSpan Deadline { get; init; } = TimeSpan.FromMinutes(25);

    /// <summary>A worker fault whose job is not leased again within this counts as a timed-out trial (then the worker is
    /// restored and the run goes on). 40 s is past the coordinator's 30 s heartbeat deadline, so it sees the slowest path.</summary>
    public TimeSpan WorkerTrialTimeout { get; init; } = TimeSpan.FromSeconds(40);

    /// <summary>How long a coordinator fault's running jobs get to complete on their lease or be leased again: a job here runs
    /// ≈5–20 s, so a trainer that outlives the coordinator completes well within it; 45 s also covers the 30 s heartbeat
    /// deadline. Longer waits would not fit 15 coordinator trials into the run.</summary>
    public TimeSpan CoordinatorTrialTimeout { get; init; } = TimeSpan.FromSeconds(45);

    /// <summary>After the last fault: how long the submitted jobs get to finish before unfinished ones count as lost.</summary>
    public TimeSpan Drain { get; init; } = TimeSpan.FromSeconds(150);

    public string? Out { get; init; }
    public bool KeepFiles { get; init; }

    public int SlotsOf(int workerIndex) => workerIndex % 2 == 0 ? 2 : 1;
    public int TotalSlots => Enumerable.Range(0, Workers).Sum(SlotsOf);
    public int Outstanding => Jobs ?? Math.Max(1, TotalSlots - Enumerable.Range(0, Workers).Max(SlotsOf));

    public const string Usage =
        "usage: bench chaos [--worker-kills 50] [--coordinator-kills 10] [--coordinator-restarts 5] [--pauses 5] [--partitions 3]\n" +
        "                   [--workers 3] [--jobs N] [--seed S] [--minutes 25] [--drain-s 150] [--out FILE.json] [--keep]";

    public static ChaosOptions Parse(string[] args)
    {
        var o = new ChaosOptions();
        for (var i = 1; i < args.Length; i++)
        {
            var name = args[i];
            if (name == "--keep") { o = o with { KeepFiles = true }; continue; }
            if (i + 1 >= args.Length) throw new ArgumentException($"option {name} needs a value\n{Usage}");
            var value = args[++i];
            int Int() => int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= 0
                ? v : throw new ArgumentException($"option {name}: '{value}' is not a whole number ≥ 0");
            o = name switch
            {
                "--worker-kills" => o with { WorkerKills = Int() },
                "--coordinator-kills" => o with { CoordinatorKills = Int() },
                "--coordinator-restarts" => o with { CoordinatorRestarts = Int() },
                "--pauses" => o with { Pauses = Int() },
                "--partitions" => o with { Partitions = Int() },
                "--workers" => o with { Workers = Math.Max(2, Int()) },
                "--jobs" => o with { Jobs = Math.Max(1, Int()) },
                "--seed" => o with { Seed = Int() },
                "--minutes" => o with { Deadline = TimeSpan.FromMinutes(Math.Max(1, Int())) },
                "--drain-s" => o with { Drain = TimeSpan.FromSeconds(Int()) },
                "--out" => o with { Out = Path.GetFullPath(value) },
                _ => throw new ArgumentException($"unknown option {name}\n{Usage}"),
            };
        }
        return o;
    }
}
