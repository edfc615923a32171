using System.Text;
using Cis490.Shared.Cli;
using Cis490.Shell.Render;
using static Cis490.Protocols.Diagnostics.DiagnosticsProtocol;

namespace Cis490.Shell.Commands;

/// <summary>The Petabridge.Cmd-style palettes: <c>cluster tail</c>, <c>log peek</c>, <c>log tail</c>, <c>actor hierarchy</c>.</summary>
public sealed partial class ShellSession
{
    private async Task<int> TailCluster(CliArgs o, CancellationToken cancel)
    {
        var json = o.Flag("json");
        var lines = Lines(o, 10);
        o.RejectUnknown();
        long after = -1;
        var max = lines;
        while (true)
        {
            var page = await Ask<ClusterEvents>(new Protocols.Diagnostics.DiagnosticsProtocol.TailCluster(after, max));
            if (after < 0 && !json) Out.WriteLine($"# cluster events seen by {page.Node} (Ctrl+C stops)");
            foreach (var e in page.Events) Out.WriteLine(json ? TextTable.JsonLine(e) : ClusterEventLine(e));
            Out.Flush();
            var full = page.Events.Count == max && after >= 0;
            after = page.Next;
            max = 200;
            if (!full) await Task.Delay(Client.Settings.FollowInterval, cancel);
        }
    }

    private async Task<int> PeekLog(string node, CliArgs o)
    {
        var json = o.Flag("json");
        var level = Level(o);
        var lines = Lines(o, 20);
        o.RejectUnknown();
        var page = await Ask<LogLines>(new Protocols.Diagnostics.DiagnosticsProtocol.PeekLog(node, -1, level, lines));
        if (json) Out.WriteLine(TextTable.Json(page));
        else
        {
            foreach (var line in page.Lines) Out.WriteLine(LogLineText(line));
            if (page.Lines.Count == 0) Err.WriteLine($"no {level}-or-above lines kept on {page.Node}");
        }
        return Ok;
    }

    private async Task<int> TailLog(string node, CliArgs o, CancellationToken cancel)
    {
        var json = o.Flag("json");
        var level = Level(o);
        var lines = Lines(o, 10);
        o.RejectUnknown();
        long after = -1;
        var max = lines;
        while (true)
        {
            var page = await Ask<LogLines>(new Protocols.Diagnostics.DiagnosticsProtocol.PeekLog(node, after, level, max));
            if (page.Dropped > 0) Err.WriteLine($"... {page.Dropped} line(s) of {page.Node} dropped before they could be read (the node keeps its latest only)");
            foreach (var line in page.Lines) Out.WriteLine(json ? TextTable.JsonLine(line) : LogLineText(line));
            Out.Flush();
            var full = page.Lines.Count == max && after >= 0;
            after = page.Next;
            max = 200;
            if (!full) await Task.Delay(Client.Settings.FollowInterval, cancel);
        }
    }

    private async Task<int> Hierarchy(string node, CliArgs o)
    {
        var json = o.Flag("json");
        o.RejectUnknown();
        var tree = await Ask<ActorTree>(new GetHierarchy(node));
        if (json)
        {
            Out.WriteLine(TextTable.Json(tree));
            return Ok;
        }
        var text = new StringBuilder($"{tree.Node}\n");
        foreach (var a in tree.Actors)
            text.Append(new string(' ', 2 * a.Depth)).Append(a.Path.TrimEnd('/').Split('/')[^1] is { Length: > 0 } name ? name : a.Path)
                .Append(a.Type.Length > 0 ? $"  ({a.Type})" : "").Append('\n');
        if (tree.Truncated) text.Append($"... more actors than one reply carries ({tree.Actors.Count} shown; cis490.diagnostics.hierarchy-max-actors)\n");
        Out.Write(text.ToString());
        return Ok;
    }

    private static string Level(CliArgs o)
    {
        var level = o.Get("level", "info");
        return Levels.Contains(level) ? level : throw new CliException($"--level must be one of {string.Join(", ", Levels)}, got '{level}'");
    }

    private static int Lines(CliArgs o, int fallback)
    {
        var n = o.GetInt("lines", fallback);
        return n is >= 1 and <= 200 ? n : throw new CliException($"--lines must be between 1 and 200, got {n}");
    }

    public static string LogLineText(NodeLogLine l) => $"{l.At.UtcDateTime:yyyy-MM-dd HH:mm:ss.fff} {l.Level.ToUpperInvariant(),-7} [{l.Source}] {l.Message}";

    public static string ClusterEventLine(ClusterEventView e) =>
        $"{e.At.UtcDateTime:yyyy-MM-dd HH:mm:ss} {e.Event,-16} {e.Address}  {e.Status}{(e.Roles.Count > 0 ? $"  [{string.Join(",", e.Roles)}]" : "")}";
}
