using Cis490.Protocols.Jobs;
using Cis490.Shell.Commands;

namespace Cis490.Shell.Interactive;

/// <summary>One completion: what to insert, what to show in a list of several, and whether a blank follows it (not after a folder).</summary>
public sealed record Candidate(string Value, string Display, bool AppendSpace = true);

/// <summary>The word being completed (from <paramref name="Start"/> to the cursor) and what it may become.</summary>
public sealed record Completion(int Start, string Prefix, IReadOnlyList<Candidate> Candidates)
{
    public static Completion None(int cursor) => new(cursor, "", []);

    /// <summary>The longest text every candidate starts with.</summary>
    public string CommonPrefix()
    {
        if (Candidates.Count == 0) return Prefix;
        var first = Candidates[0].Value;
        var length = first.Length;
        foreach (var c in Candidates.Skip(1))
        {
            length = Math.Min(length, c.Value.Length);
            for (var i = 0; i < length; i++)
                if (c.Value[i] != first[i]) { length = i; break; }
        }
        return first[..length];
    }
}

/// <summary>What the coordinator knows that a command line may name: job ids, artifact hashes, member addresses.</summary>
public interface ICompletionSource
{
    IReadOnlyList<Candidate> JobIds();
    IReadOnlyList<Candidate> Artifacts();
    IReadOnlyList<Candidate> Members();
}

/// <summary>Tab completion over the command catalog: command names, subcommands, options, option values, and arguments
/// (job ids, hashes and addresses from the coordinator; paths from the file system).</summary>
public sealed class Completer(ICompletionSource source)
{
    public Completion Complete(string line, int cursor)
    {
        var text = line[..Math.Clamp(cursor, 0, line.Length)];
        var start = text.LastIndexOf(' ') + 1;
        var prefix = text[start..];
        var words = text[..start].Split(' ', StringSplitOptions.RemoveEmptyEntries);

        // Positionals before the cursor, skipping options and their values.
        var positionals = new List<string>();
        string? pendingOption = null;
        foreach (var w in words)
        {
            if (pendingOption is not null) { pendingOption = null; continue; }
            if (w.StartsWith("--", StringComparison.Ordinal))
            {
                var name = w[2..];
                if (!name.Contains('=') && !CommandCatalog.Flags.Contains(name)) pendingOption = name;
                continue;
            }
            positionals.Add(w);
        }

        var spec = Resolve(positionals, out var argIndex);
        IEnumerable<Candidate> candidates;
        if (pendingOption is not null)
            candidates = pendingOption switch
            {
                "status" => JobStatus.All.Select(s => new Candidate(s, s)),
                "level" => Protocols.Diagnostics.DiagnosticsProtocol.Levels.Select(l => new Candidate(l, l)),
                _ => [],
            };
        else if (prefix.StartsWith("--", StringComparison.Ordinal))
            candidates = spec is null ? [] : spec.Options.Append("token").Distinct().Where(o => o != "token" || spec.Mutating)
                .Select(o => new Candidate("--" + o, "--" + o));
        else if (positionals.Count == 0)
            candidates = CommandCatalog.Palettes.Select(p => new Candidate(p, p));
        else if (positionals[0] == "help")
            candidates = positionals.Count == 1 ? CommandCatalog.Palettes.Where(p => p is not ("help" or "quit")).Select(p => new Candidate(p, p))
                : positionals.Count == 2 ? CommandCatalog.Verbs(positionals[1]).Select(v => new Candidate(v, v)) : [];
        else if (positionals.Count == 1 && CommandCatalog.Verbs(positionals[0]) is { Count: > 0 } verbs)
            candidates = verbs.Select(v => new Candidate(v, v));
        else if (spec is not null && argIndex < spec.Args.Length)
            candidates = spec.Args[argIndex].Kind switch
            {
                ArgKind.JobId => source.JobIds(),
                ArgKind.Sha => source.Artifacts(),
                ArgKind.Address => source.Members(),
                ArgKind.Dir => Paths(prefix, directoriesOnly: true),
                _ => Paths(prefix, directoriesOnly: false),
            };
        else candidates = [];

        var matching = candidates.Where(c => c.Value.StartsWith(prefix, StringComparison.Ordinal)).ToList();
        return new Completion(start, prefix, matching);
    }

    /// <summary>The command the positionals name so far, and the index of the argument the next positional would be.</summary>
    private static CommandSpec? Resolve(List<string> positionals, out int argIndex)
    {
        argIndex = 0;
        if (positionals.Count == 0) return null;
        var verbs = CommandCatalog.Verbs(positionals[0]);
        if (verbs.Count == 0)
        {
            argIndex = positionals.Count - 1;
            return CommandCatalog.Find(positionals[0], null);
        }
        if (positionals.Count < 2) return null;
        argIndex = positionals.Count - 2;
        return CommandCatalog.Find(positionals[0], positionals[1]);
    }

    /// <summary>Files and folders that complete <paramref name="prefix"/>; folders end in '/' and take no blank after them.</summary>
    private static IEnumerable<Candidate> Paths(string prefix, bool directoriesOnly)
    {
        var slash = prefix.LastIndexOf('/');
        var dirPart = slash >= 0 ? prefix[..(slash + 1)] : "";
        var expanded = dirPart.StartsWith("~/", StringComparison.Ordinal)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), dirPart[2..])
            : dirPart;
        var dir = expanded.Length == 0 ? "." : expanded;
        if (!Directory.Exists(dir)) return [];
        try
        {
            var dirs = Directory.EnumerateDirectories(dir).Select(d => new Candidate(dirPart + Path.GetFileName(d) + "/", Path.GetFileName(d) + "/", false));
            var files = directoriesOnly ? [] : Directory.EnumerateFiles(dir).Select(f => new Candidate(dirPart + Path.GetFileName(f), Path.GetFileName(f)));
            return dirs.Concat(files).OrderBy(c => c.Value, StringComparer.Ordinal).ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }
}
