using System.Text;

namespace Cis490.WorkerNode.Cli;

/// <summary>The worker program's usage text, generated from <see cref="WorkerCommands.All"/>: <c>help</c>, a usage error and
/// <c>./cis490 help</c> (which runs <c>help</c>) all print it, so it cannot disagree with what the commands accept.</summary>
public static class Usage
{
    /// <summary>Descriptions start in this column, as in the <c>./cis490</c> script's own usage lines.</summary>
    public const int DescriptionColumn = 42;

    /// <summary>Synopses longer than this wrap at an option boundary.</summary>
    public const int Width = 118;

    /// <summary><c>usage:</c> and every command's entry.</summary>
    public static string Text()
    {
        var sb = new StringBuilder("usage:\n");
        foreach (var spec in WorkerCommands.All) sb.Append(Entry(spec));
        return sb.ToString();
    }

    /// <summary>One command's synopsis (wrapped), then its description, at column <see cref="DescriptionColumn"/>.</summary>
    public static string Entry(CommandSpec spec)
    {
        var lines = new List<string>();
        var line = new StringBuilder("  " + spec.Name);
        var indent = new string(' ', 2 + spec.Name.Length); // continuation options line up under the first
        foreach (var option in spec.Options)
        {
            if (line.Length + 1 + option.Synopsis.Length > Width)
            {
                lines.Add(line.ToString());
                line.Clear().Append(indent);
            }
            line.Append(' ').Append(option.Synopsis);
        }
        if (line.Length < DescriptionColumn - 1 && lines.Count == 0)
            lines.Add(line.ToString().PadRight(DescriptionColumn) + spec.Description);
        else
        {
            lines.Add(line.ToString());
            lines.Add(new string(' ', DescriptionColumn) + spec.Description);
        }
        return string.Join("\n", lines) + "\n";
    }

    /// <summary>What <c>COMMAND --help</c> prints: the entry, then each option with its default.</summary>
    public static string Help(CommandSpec spec)
    {
        var sb = new StringBuilder("usage:\n").Append(Entry(spec));
        var width = spec.Options.Max(o => o.Name.Length + o.Value.Length) + 9; // "    --" + " " + name + value + two spaces
        foreach (var o in spec.Options)
            sb.Append($"    --{o.Name} {o.Value}".PadRight(width)).Append(o.Explanation).Append('\n');
        return sb.ToString();
    }
}
