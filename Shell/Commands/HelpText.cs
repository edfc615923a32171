using System.Text;
using Cis490.Shared.Cli;

namespace Cis490.Shell.Commands;

/// <summary>The shell's help: every command with one line, a palette's commands with their synopsis, or one command in full.</summary>
public static class HelpText
{
    public const string TokenRules =
        "Mutating commands (jobs cancel/requeue, manifest reload/submit, cluster leave/down) need the operator token:\n" +
        "CIS490_OPERATOR_TOKEN_FILE=PATH (a file holding it), or CIS490_OPERATOR_TOKEN; --token T works too but shows in\n" +
        "`ps` (typed at this prompt it does not, and is kept out of the history file). The coordinator checks it (constant\n" +
        "time) and logs a refusal; a coordinator started without a token made one in <data-dir>/operator.token.";

    /// <summary>Help for the words after <c>help</c>: none (everything), a palette (<c>jobs</c>), or a command (<c>jobs show</c>).</summary>
    public static string For(IReadOnlyList<string> words)
    {
        if (words.Count == 0) return Overview();
        var palette = words[0];
        var verbs = CommandCatalog.Verbs(palette);
        if (words.Count == 1 && verbs.Count > 0)
        {
            var sb = new StringBuilder();
            foreach (var c in CommandCatalog.All.Where(c => c.Palette == palette)) sb.AppendLine($"  {c.Usage}\n      {c.Summary}");
            return sb.ToString();
        }
        var spec = CommandCatalog.Find(palette, words.Count > 1 ? words[1] : null)
                   ?? throw (verbs.Count > 0 && words.Count > 1
                       ? CommandParser.Unknown($"{palette} {words[1]}", verbs.Select(v => $"{palette} {v}"))
                       : CommandParser.Unknown(palette, CommandCatalog.Palettes));
        if (words.Count > (spec.Verb is null ? 1 : 2)) throw new CliException($"help takes a command, e.g. 'help {spec.Name}'");
        return Command(spec);
    }

    public static string Command(CommandSpec spec)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"usage: {spec.Usage}");
        sb.AppendLine($"  {spec.Summary}");
        if (spec.Details.Length > 0) foreach (var line in spec.Details.Split('\n')) sb.AppendLine($"  {line}");
        if (spec.Options.Contains("json")) sb.AppendLine("  --json prints the coordinator's reply as JSON (snake_case names), for scripts.");
        if (spec.Mutating) sb.AppendLine("  Needs the operator token (CIS490_OPERATOR_TOKEN_FILE, CIS490_OPERATOR_TOKEN, or --token T).");
        return sb.ToString();
    }

    public static string Overview()
    {
        var sb = new StringBuilder();
        sb.AppendLine("commands (help COMMAND for more; one-shot: shell --coordinator HOST:PORT COMMAND ...):");
        var width = CommandCatalog.All.Max(c => c.Name.Length) + 2;
        foreach (var c in CommandCatalog.All) sb.AppendLine($"  {c.Name.PadRight(width)}{c.Summary}");
        sb.AppendLine();
        sb.AppendLine("Job ids and artifact hashes may be shortened to a unique prefix of 8 or more characters; Tab completes them.");
        sb.AppendLine(TokenRules);
        sb.AppendLine("Exit status of a one-shot command: 0 done, 1 refused or failed (the reason on stderr), 2 usage error.");
        return sb.ToString();
    }
}
