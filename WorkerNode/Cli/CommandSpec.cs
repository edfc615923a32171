using Cis490.Shared.Cli;

namespace Cis490.WorkerNode.Cli;

/// <summary>One option of a worker-side command: its name without dashes, the value it takes as shown in the usage, whether it
/// must be given, the value the parser uses when it is not (null when there is none), and a note for <c>--help</c> where the
/// default is worked out at run time.</summary>
/// <param name="Flag">A switch (<c>--insecure</c>): it takes no value; <see cref="CommandLine.Flag"/> reads it.</param>
public sealed record OptionSpec(string Name, string Value, bool Required = false, string? Default = null, string? Note = null, bool Flag = false)
{
    /// <summary>What <c>COMMAND --help</c> says about the option after its name.</summary>
    public string Explanation => Note ?? (Required ? "required" : Default is null ? "optional" : $"default {Default}");

    /// <summary><c>--name VALUE</c> (<c>--name</c> for a switch), in brackets when the option may be left out.</summary>
    public string Synopsis => Flag ? $"[--{Name}]" : Required ? $"--{Name} {Value}" : $"[--{Name} {Value}]";
}

/// <summary>A parsed command, ready to run: every usage check is done before it is returned.</summary>
public delegate Task<int> CommandRun();

/// <summary>One worker-side command: the words that name it (<c>data build</c>), its options, one line saying what it does, and
/// the parser that reads exactly those options and returns the run.</summary>
public sealed record CommandSpec(string Name, IReadOnlyList<OptionSpec> Options, string Description, Func<CommandLine, CommandRun> Parse)
{
    /// <summary>The option of that name; asking for one the table does not list is a bug in the command, not a usage error.</summary>
    public OptionSpec Option(string name) =>
        Options.FirstOrDefault(o => o.Name == name)
        ?? throw new InvalidOperationException($"command '{Name}' reads --{name}, which its entry in WorkerCommands.All does not list");

    /// <summary>Parses <paramref name="argv"/> (the words after the command's name) and returns the run, or throws a
    /// <see cref="CliException"/> naming what is wrong.</summary>
    public CommandRun Prepare(IReadOnlyList<string> argv) => Parse(new CommandLine(this, argv));
}
