using Cis490.Shared.Cli;

namespace Cis490.WorkerNode.Cli;

/// <summary>The options of one command, read against its table entry: an option the entry does not list is a usage error when a
/// person gives it, and a bug when the command's parser asks for it; defaults come from the entry too.</summary>
public sealed class CommandLine
{
    private readonly CommandSpec _spec;
    private readonly Dictionary<string, string?> _given;
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    public CommandLine(CommandSpec spec, IReadOnlyList<string> argv)
    {
        _spec = spec;
        var args = new CliArgs(argv, spec.Options.Where(o => o.Flag).Select(o => o.Name).ToArray());
        if (args.Positionals.Count > 0)
            throw new CliException($"{spec.Name}: unexpected argument '{args.Positionals[0]}' (options are written --name value)");
        _given = spec.Options.ToDictionary(o => o.Name, o => o.Flag ? (args.Flag(o.Name) ? "" : null) : args.Get(o.Name), StringComparer.Ordinal);
        args.RejectUnknown(); // every option the entry lists has been asked for: what is left is unknown
    }

    /// <summary>The options the command's parser has read: a test checks that they are exactly those its entry lists.</summary>
    public IReadOnlySet<string> Read => _read;

    /// <summary>The given value, else the entry's default, else null.</summary>
    public string? Get(string name)
    {
        var option = _spec.Option(name);
        _read.Add(name);
        return _given[name] ?? option.Default;
    }

    /// <summary>Whether a switch was given.</summary>
    public bool Flag(string name)
    {
        var option = _spec.Option(name);
        if (!option.Flag) throw new InvalidOperationException($"{_spec.Name}: --{name} is read as a switch but its entry gives it a value");
        _read.Add(name);
        return _given[name] is not null;
    }

    public string Require(string name)
    {
        var option = _spec.Option(name);
        if (!option.Required) throw new InvalidOperationException($"{_spec.Name}: --{name} is read as required but its entry shows it optional");
        return Get(name) ?? throw new CliException($"option --{name} is required");
    }

    /// <summary>An integer option; the entry must give it a default when it is optional.</summary>
    public int GetInt(string name)
    {
        var text = Get(name) ?? throw new InvalidOperationException($"{_spec.Name}: --{name} is read as an integer but its entry gives no default");
        return int.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var i)
            ? i
            : throw new CliException($"option --{name} must be an integer, got '{text}'");
    }

    /// <summary>A number option; the entry must give it a default when it is optional.</summary>
    public double GetDouble(string name)
    {
        var text = Get(name) ?? throw new InvalidOperationException($"{_spec.Name}: --{name} is read as a number but its entry gives no default");
        return double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var d) && double.IsFinite(d)
            ? d
            : throw new CliException($"option --{name} must be a number, got '{text}'");
    }
}
