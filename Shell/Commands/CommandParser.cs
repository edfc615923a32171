using System.Text;
using Cis490.Shared.Cli;

namespace Cis490.Shell.Commands;

/// <summary>A command line resolved against the catalog: the command, its positional arguments, and its options (read by the
/// command, which then rejects any it did not ask for). Help carries the words it was asked about.</summary>
public sealed record ParsedCommand(CommandSpec Spec, IReadOnlyList<string> Arguments, CliArgs Options);

/// <summary>Turns words (one-shot argv, or an interactive line split by <see cref="Tokenize"/>) into a <see cref="ParsedCommand"/>,
/// the same way for both, with errors that name what is wrong and suggest the nearest command.</summary>
public static class CommandParser
{
    /// <summary>Parses the words of one command (options anywhere among them).</summary>
    public static ParsedCommand Parse(IReadOnlyList<string> words)
    {
        var options = new CliArgs(words, CommandCatalog.Flags);
        var positionals = options.Positionals;
        if (positionals.Count == 0) throw new CliException("no command given (try 'help')");
        var first = positionals[0];
        if (first is "help" or "exit" or "quit")
        {
            var single = CommandCatalog.Find(first, null)!;
            if (first != "help" && positionals.Count > 1) throw new CliException($"{first} takes no arguments");
            return new ParsedCommand(single, positionals.Skip(1).ToList(), options);
        }
        var verbs = CommandCatalog.Verbs(first);
        CommandSpec? spec;
        int consumed;
        if (verbs.Count == 0)
        {
            spec = CommandCatalog.Find(first, null) ?? throw Unknown(first, CommandCatalog.Palettes);
            consumed = 1;
        }
        else
        {
            if (positionals.Count < 2)
                throw new CliException($"'{first}' needs a subcommand: {string.Join(", ", verbs)} (try 'help {first}')");
            spec = CommandCatalog.Find(first, positionals[1]) ?? throw Unknown($"{first} {positionals[1]}", verbs.Select(v => $"{first} {v}"));
            consumed = 2;
        }
        var args = positionals.Skip(consumed).ToList();
        var required = spec.Args.Count(a => !a.Optional);
        if (args.Count < required || args.Count > spec.Args.Length)
        {
            var missing = args.Count < required ? $"missing {string.Join(" ", spec.Args.Skip(args.Count).Where(a => !a.Optional).Select(a => a.Name))}"
                : $"unexpected argument '{args[spec.Args.Length]}'";
            throw new CliException($"{spec.Name}: {missing}; usage: {spec.Usage}");
        }
        return new ParsedCommand(spec, args, options);
    }

    /// <summary>The error for a command that does not exist, with the nearest known one when it is close.</summary>
    public static CliException Unknown(string given, IEnumerable<string> known)
    {
        var candidates = known.ToList();
        var nearest = Nearest(given, candidates);
        return new CliException($"unknown command '{given}'" +
                                (nearest is not null ? $"; did you mean '{nearest}'?" : $" (commands: {string.Join(", ", candidates)}; try 'help')"));
    }

    /// <summary>The candidate closest to <paramref name="given"/> by edit distance, if close enough to be a typo (or a prefix).</summary>
    public static string? Nearest(string given, IEnumerable<string> candidates)
    {
        var best = candidates
            .Select(c => (Candidate: c, Distance: c.StartsWith(given, StringComparison.Ordinal) && given.Length > 0 ? 0 : Distance(given, c)))
            .OrderBy(x => x.Distance)
            .FirstOrDefault();
        return best.Candidate is not null && best.Distance <= Math.Max(2, given.Length / 3) ? best.Candidate : null;
    }

    /// <summary>Levenshtein distance with transpositions counted as one edit (optimal string alignment).</summary>
    public static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (var j = 0; j <= b.Length; j++) d[0, j] = j;
        for (var i = 1; i <= a.Length; i++)
        for (var j = 1; j <= b.Length; j++)
        {
            var cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
        }
        return d[a.Length, b.Length];
    }

    /// <summary>Splits an interactive line into words: blanks separate, single or double quotes group, a backslash escapes.</summary>
    public static IReadOnlyList<string> Tokenize(string line)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        var inWord = false;
        char? quote = null;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (c == '\\' && quote != '\'' && i + 1 < line.Length)
            {
                word.Append(line[++i]);
                inWord = true;
            }
            else if (quote is not null)
            {
                if (c == quote) quote = null;
                else word.Append(c);
            }
            else if (c is '"' or '\'')
            {
                quote = c;
                inWord = true;
            }
            else if (char.IsWhiteSpace(c))
            {
                if (inWord) words.Add(word.ToString());
                word.Clear();
                inWord = false;
            }
            else
            {
                word.Append(c);
                inWord = true;
            }
        }
        if (quote is not null) throw new CliException($"unterminated {quote} quote");
        if (inWord) words.Add(word.ToString());
        return words;
    }
}
