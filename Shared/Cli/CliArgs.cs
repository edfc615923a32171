namespace Cis490.Shared.Cli;

/// <summary>A small command-line reader: positionals, <c>--name value</c> options and <c>--flag</c> switches, with errors that name the option.</summary>
public sealed class CliArgs
{
    private readonly Dictionary<string, string?> _options = new(StringComparer.Ordinal);
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    /// <summary>Arguments that are not options, in order.</summary>
    public IReadOnlyList<string> Positionals { get; }

    /// <param name="flags">Names (without dashes) that take no value.</param>
    public CliArgs(IEnumerable<string> args, params string[] flags)
    {
        var positionals = new List<string>();
        var list = args.ToList();
        for (var i = 0; i < list.Count; i++)
        {
            var a = list[i];
            if (a.StartsWith("--", StringComparison.Ordinal) && a.Length > 2)
            {
                var name = a[2..];
                string? value = null;
                var eq = name.IndexOf('=');
                if (eq > 0) { value = name[(eq + 1)..]; name = name[..eq]; }
                else if (!flags.Contains(name))
                {
                    if (i + 1 >= list.Count || list[i + 1].StartsWith("--", StringComparison.Ordinal))
                        throw new CliException($"option --{name} needs a value");
                    value = list[++i];
                }
                _options[name] = value;
            }
            else positionals.Add(a);
        }
        Positionals = positionals;
    }

    public bool Flag(string name) { _read.Add(name); return _options.ContainsKey(name); }

    public string? Get(string name) { _read.Add(name); return _options.GetValueOrDefault(name); }

    public string Get(string name, string fallback) => Get(name) ?? fallback;

    public string Require(string name) => Get(name) ?? throw new CliException($"option --{name} is required");

    public int GetInt(string name, int fallback)
    {
        var v = Get(name);
        if (v is null) return fallback;
        return int.TryParse(v, out var i) ? i : throw new CliException($"option --{name} must be an integer, got '{v}'");
    }

    /// <summary>Throws if an option was given that the command never asked about (a typo would otherwise be ignored silently).</summary>
    public void RejectUnknown()
    {
        var unknown = _options.Keys.Where(k => !_read.Contains(k)).ToList();
        if (unknown.Count > 0) throw new CliException($"unknown option{(unknown.Count > 1 ? "s" : "")}: {string.Join(", ", unknown.Select(u => "--" + u))}");
    }
}

/// <summary>A usage error; the message is shown to the person as it is.</summary>
public sealed class CliException(string message) : Exception(message);
