using Cis490.Protocols.Operator;
using Cis490.Shared.Cli;
using Cis490.Shell.Commands;
using static Cis490.Protocols.Operator.OperatorQueries;

namespace Cis490.Shell.Interactive;

/// <summary>The prompt: reads lines (with the line editor on a terminal, plain lines otherwise), parses them exactly as one-shot
/// arguments are parsed, and runs them in one session (one connection). Ctrl+C stops a running command, not the shell.</summary>
public static class InteractiveShell
{
    /// <summary>Runs until <c>exit</c>, <c>quit</c>, Ctrl+D or the end of input. Returns 0, or with piped input the worst exit
    /// status of its commands (so a script feeding commands in learns that one failed).</summary>
    public static async Task<int> Run(ShellSession session, bool terminal)
    {
        var worst = ShellSession.Ok;
        var prompt = $"cis490 {session.Address}> ";
        LineEditor? editor = null;
        History? history = null;
        if (terminal)
        {
            history = new History(History.DefaultPath());
            var completer = new Completer(new CoordinatorCompletions(session));
            editor = new LineEditor(new ConsoleTerminal(session.Out), history, completer.Complete);
            session.Out.WriteLine($"cis490 shell: coordinator {session.Address}. 'help' lists the commands, Tab completes, 'exit' or Ctrl+D leaves.");
            if (history.Problem is not null) session.Err.WriteLine($"warning: {history.Problem}");
            await Greet(session);
        }

        CancellationTokenSource? running = null;
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            if (running is null) return;
            e.Cancel = true; // stop the command (a --follow), keep the shell
            running.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            while (true)
            {
                string? line;
                if (editor is not null)
                {
                    Console.TreatControlCAsInput = true; // the editor handles Ctrl+C while a line is typed
                    line = editor.ReadLine(prompt);
                    Console.TreatControlCAsInput = false;
                }
                else line = await Console.In.ReadLineAsync();
                if (line is null) break;
                if (line.Trim().Length == 0) continue;
                var problem = history?.Problem;
                history?.Add(line);
                if (history?.Problem is { } now && now != problem) session.Err.WriteLine($"warning: {now}");

                ParsedCommand command;
                try
                {
                    command = CommandParser.Parse(CommandParser.Tokenize(line));
                }
                catch (CliException e)
                {
                    session.Err.WriteLine($"error: {e.Message}");
                    worst = Math.Max(worst, ShellSession.Usage);
                    continue;
                }
                if (command.Spec.Palette == "exit") break;
                using (running = new CancellationTokenSource())
                {
                    worst = Math.Max(worst, await session.Run(command, running.Token));
                }
                running = null;
            }
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
        return terminal ? ShellSession.Ok : worst;
    }

    /// <summary>One line on the cluster at start, so a wrong address shows at once rather than at the first command.</summary>
    private static async Task Greet(ShellSession session)
    {
        try
        {
            if (await session.Client.Ask(GetStatus.Instance) is StatusView s)
                session.Out.WriteLine($"connected: {s.Members.Count} member(s), {s.Workers} worker(s), " +
                                      $"{s.JobCounts.Values.Sum()} job(s) ({string.Join(", ", s.JobCounts.Where(kv => kv.Value > 0).Select(kv => $"{kv.Value} {kv.Key}"))})");
        }
        catch (CliException e)
        {
            session.Err.WriteLine($"warning: {e.Message}");
        }
    }
}

/// <summary>Completion candidates from the coordinator, cached briefly (cis490.shell.completion-cache); a slow or absent coordinator
/// completes nothing after cis490.shell.completion-timeout instead of freezing the prompt.</summary>
public sealed class CoordinatorCompletions(ShellSession session) : ICompletionSource
{
    private readonly Dictionary<string, (DateTime At, IReadOnlyList<Candidate> Items)> _cache = new();

    public IReadOnlyList<Candidate> JobIds() => Cached("jobs", async () =>
    {
        var jobs = ((OperatorProtocol.JobList)await session.Client.Ask(new OperatorProtocol.ListJobs(null, null))).Jobs;
        var ids = jobs.Select(j => j.JobId).ToList();
        return jobs.Select(j => new Candidate(UniquePrefix(j.JobId, ids, 12), $"{Shared.Jobs.JobIds.Short(j.JobId)}  {j.Model} {j.Mode} {j.HyperJson}  {j.Status}")).ToList();
    });

    public IReadOnlyList<Candidate> Artifacts() => Cached("artifacts", async () =>
    {
        var list = ((ArtifactList)await session.Client.Ask(ListArtifacts.Instance)).Artifacts;
        var shas = list.Select(a => a.Sha256).ToList();
        return list.Select(a => new Candidate(UniquePrefix(a.Sha256, shas, 16), $"{a.Sha256[..16]}  {a.Model} {a.Mode}")).ToList();
    });

    public IReadOnlyList<Candidate> Members() => Cached("members", async () =>
        ((ClusterView)await session.Client.Ask(ShowCluster.Instance)).Members
        .Select(m => new Candidate(m.Address, $"{m.Address}  {m.Status} {string.Join(",", m.Roles)}")).ToList());

    /// <summary>The shortest prefix of <paramref name="id"/>, at least <paramref name="min"/> long, that no other id shares.</summary>
    public static string UniquePrefix(string id, IReadOnlyList<string> all, int min)
    {
        for (var n = Math.Min(min, id.Length); n < id.Length; n++)
            if (all.Count(other => other.StartsWith(id[..n], StringComparison.Ordinal)) == 1) return id[..n];
        return id;
    }

    private IReadOnlyList<Candidate> Cached(string key, Func<Task<IReadOnlyList<Candidate>>> fetch)
    {
        var settings = session.Client.Settings;
        if (_cache.TryGetValue(key, out var hit) && DateTime.UtcNow - hit.At < settings.CompletionCache) return hit.Items;
        try
        {
            var task = fetch();
            if (!task.Wait(settings.CompletionTimeout)) return [];
            _cache[key] = (DateTime.UtcNow, task.Result);
            return task.Result;
        }
        catch (Exception e) when (e is AggregateException or InvalidCastException or CliException)
        {
            return [];
        }
    }
}
