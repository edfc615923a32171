using Cis490.Shared.Cli;
using Cis490.WorkerNode.Cli;
using Xunit;

namespace Cis490.WorkerNode.Tests;

/// <summary>The command table against the parsers: the options an entry lists are exactly those its command reads, the required
/// ones are required, and nothing else is accepted.</summary>
public sealed class CommandTableTests
{
    /// <summary>A valid value for each option, by "command --option" where commands differ, else by "--option".</summary>
    private static readonly Dictionary<string, string> Samples = new()
    {
        ["worker --seed"] = "akka.tcp://cis490@127.0.0.1:4053", ["--port"] = "4054", ["--hostname"] = "127.0.0.1",
        ["--slots"] = "2", ["--worker-id"] = "w1", ["--config"] = "extra.conf", ["--job"] = "job.json",
        ["--seed"] = "7", ["--episodes"] = "12", ["--window"] = "30", ["--stride"] = "10", ["--max-bad-fraction"] = "0.1",
        ["--model"] = "knn", ["--mode"] = "oracle", ["--hyper"] = "{\"k\": 5}", ["train --split"] = "time",
        ["--train-hosts"] = "k-gamingcom", ["predict --split"] = "val", ["--resample"] = "episodes", ["--resamples"] = "100",
        ["--out"] = "out", ["--data"] = "data", ["--model-dir"] = "model", ["--artifacts"] = "models", ["--work-dir"] = "work", ["--tls"] = "enrolment", ["--metrics-port"] = "9465",
        ["--host-shift"] = "0.5", ["--episode-spread"] = "0.2", ["--label-noise"] = "2", ["--phase-overlap"] = "4", ["--oracle-signal"] = "0.6",
    };

    public static TheoryData<string> Commands() => new(WorkerCommands.All.Select(c => c.Name));

    private static CommandSpec Spec(string name) => WorkerCommands.All.Single(c => c.Name == name);

    private static List<string> Args(CommandSpec spec, Func<OptionSpec, bool> include) =>
        spec.Options.Where(include).SelectMany(o => o.Flag
            ? new[] { "--" + o.Name } // a switch takes no value
            : new[]
            {
                "--" + o.Name,
                Samples.GetValueOrDefault($"{spec.Name} --{o.Name}") ?? Samples.GetValueOrDefault("--" + o.Name)
                    ?? throw new InvalidOperationException($"the test has no sample value for {spec.Name} --{o.Name}; add one"),
            }).ToList();

    [Theory]
    [MemberData(nameof(Commands))]
    public void Every_option_an_entry_lists_is_read_by_its_command(string name)
    {
        var spec = Spec(name);
        var line = new CommandLine(spec, Args(spec, _ => true));

        spec.Parse(line);

        Assert.Equal(spec.Options.Select(o => o.Name).Order(), line.Read.Order());
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public void An_option_the_entry_does_not_list_is_refused_by_name(string name)
    {
        var spec = Spec(name);

        var e = Assert.Throws<CliException>(() => spec.Prepare([.. Args(spec, _ => true), "--no-such-option", "1"]));

        Assert.Equal("unknown option: --no-such-option", e.Message);
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public void Each_required_option_left_out_is_named_and_the_optional_ones_may_all_be_left_out(string name)
    {
        var spec = Spec(name);
        foreach (var required in spec.Options.Where(o => o.Required))
        {
            var e = Assert.Throws<CliException>(() => spec.Prepare(Args(spec, o => o.Required && o != required)));
            Assert.Equal($"option --{required.Name} is required", e.Message);
        }

        spec.Prepare(Args(spec, o => o.Required)); // the defaults in the table are valid values
    }

    [Fact]
    public void A_parser_that_reads_an_option_its_entry_does_not_list_fails_loudly()
    {
        var spec = new CommandSpec("probe", [new("listed", "X", Default: "1")], "a test command", c =>
        {
            c.Get("unlisted");
            return () => Task.FromResult(0);
        });

        var e = Assert.Throws<InvalidOperationException>(() => spec.Prepare([]));

        Assert.Contains("--unlisted", e.Message);
    }

    [Fact]
    public void Words_after_the_command_that_are_not_options_are_refused()
    {
        var e = Assert.Throws<CliException>(() => Spec("data generate").Prepare(["episodes/", "--out", "x"]));

        Assert.Contains("unexpected argument 'episodes/'", e.Message);
    }

    [Theory]
    [InlineData("--oracle-signal 1.5", "--oracle-signal: generator difficulty OracleSignal must be within [0, 1]")]
    [InlineData("--host-shift much", "--host-shift must be a number")]
    public void Data_generate_refuses_a_difficulty_knob_it_cannot_use_and_says_which(string knob, string expected)
    {
        var e = Assert.Throws<CliException>(() => Spec("data generate").Prepare(["--out", "x", .. knob.Split(' ')]));

        Assert.Contains(expected, e.Message);
    }

    [Theory]
    [InlineData("data generate --out x", "data generate")]
    [InlineData("data build --episodes e --out f", "data build")]
    [InlineData("predict --split all", "predict")]
    [InlineData("data", null)]
    [InlineData("data synth", null)]
    public void A_command_is_found_by_its_one_or_two_words(string line, string? expected)
    {
        var (spec, _) = WorkerCommands.Find(line.Split(' '));

        Assert.Equal(expected, spec?.Name);
    }
}
