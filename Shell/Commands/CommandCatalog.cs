namespace Cis490.Shell.Commands;

/// <summary>What a command's positional argument is: completion and help use it.</summary>
public enum ArgKind
{
    JobId,
    Sha,
    Address,
    Path,
    Dir,
}

/// <summary>One positional argument of a command.</summary>
public sealed record ArgSpec(string Name, ArgKind Kind, bool Optional = false);

/// <summary>One shell command: its palette (<c>jobs</c>) and verb (<c>show</c>, or null for a single-word command), arguments,
/// options, and what it does. One catalog serves one-shot runs, the interactive prompt, help and completion.</summary>
public sealed record CommandSpec(string Palette, string? Verb, ArgSpec[] Args, string[] Options, bool Mutating, string Summary, string Details = "")
{
    /// <summary>"jobs show", or "status".</summary>
    public string Name => Verb is null ? Palette : $"{Palette} {Verb}";

    /// <summary>The synopsis: name, arguments and options.</summary>
    public string Usage =>
        string.Join(' ', new[] { Name }
            .Concat(Args.Select(a => a.Optional ? $"[{a.Name}]" : a.Name))
            .Concat(Options.Select(o => o switch
            {
                "json" or "follow" => $"[--{o}]",
                _ => $"[--{o} {o.ToUpperInvariant()}]",
            })));
}

/// <summary>Every shell command, and the lookups the parser, help and completion need.</summary>
public static class CommandCatalog
{
    /// <summary>Options that take no value (for <see cref="Shared.Cli.CliArgs"/>).</summary>
    public static readonly string[] Flags = ["json", "follow", "all", "all-errors"];

    private static readonly ArgSpec JobArg = new("ID", ArgKind.JobId);
    private static readonly ArgSpec NodeArg = new("NODE", ArgKind.Address);

    public static readonly IReadOnlyList<CommandSpec> All =
    [
        new("status", null, [], ["json"], false, "cluster and queue at a glance: members, workers, free slots, jobs per status"),
        new("health", null, [], ["json"], false, "is the coordinator serving: its journal position and writes in flight, or that it is restarting and why",
            "Exit 0 when the coordinator serves, 1 when it is restarting on its node (restarts, failed starts and the last failure are shown)\n" +
            "or does not answer."),
        new("jobs", "list", [], ["status", "model", "limit", "after", "all", "json"], false, "the job table, optionally only one status or model",
            "--status is one of pending, leased, running, completed, failed, cancelled.\n" +
            "Paged: one page of --limit rows (default 200, cis490.shell.list-page) after --after CURSOR (the cursor the previous page\n" +
            "printed); --all lists every job, following the cursor page by page."),
        new("jobs", "show", [JobArg], ["follow", "json"], false, "one job in full: spec, attempts (lease history), retry time, last error, artifact",
            "--follow redraws a progress bar until the job ends; it then exits 0 if the job completed, 1 if it failed or was cancelled."),
        new("jobs", "logs", [JobArg], ["follow", "json"], false, "the trainer's progress lines (kept in the coordinator's memory: a restart forgets them)",
            "--follow prints new lines as they come until the job ends (exit 0 completed, 1 failed or cancelled).\n" +
            "--json prints one JSON document; with --follow, one JSON object per line.\n" +
            "The coordinator keeps the last 300 lines of the 500 most recently active jobs (cis490.coordinator.job-log)."),
        new("jobs", "cancel", [JobArg], ["reason", "token"], true, "cancel a job; a running trainer is stopped"),
        new("jobs", "requeue", [JobArg], ["token"], true, "put a failed or cancelled job back to pending, with a fresh count of attempts"),
        new("workers", null, [], ["json"], false, "registered workers: capability, slots, running jobs, last heard from"),
        new("artifacts", "list", [], ["json"], false, "the stored model bundles (the store's index)"),
        new("artifacts", "get", [new("SHA", ArgKind.Sha), new("DIR", ArgKind.Dir)], [], false,
            "download a bundle into DIR (as DIR/<sha256>.tar.zst) and verify its sha256",
            "SHA may be the first 8 or more characters of the sha256."),
        new("cluster", "show", [], ["json"], false, "the cluster's members, their status, roles and reachability"),
        new("cluster", "leave", [new("ADDRESS", ArgKind.Address)], ["token"], true, "ask a member to leave the cluster gracefully",
            "ADDRESS is akka.tcp://cis490@HOST:PORT or HOST:PORT, as 'cluster show' lists it."),
        new("cluster", "down", [new("ADDRESS", ArgKind.Address)], ["token"], true, "mark a member down: for one that is gone and will not come back",
            "Its leases end and its jobs are retried elsewhere. ADDRESS as in 'cluster leave'."),
        new("cluster", "tail", [], ["lines", "json"], false, "membership and reachability events as they happen (Ctrl+C stops)",
            "Prints the last --lines events (default 10) the coordinator node has seen, then each new one as it happens.\n" +
            "--json prints one JSON object per event, one per line."),
        new("log", "peek", [NodeArg], ["level", "lines", "json"], false, "the last lines of a member's log, through the cluster",
            "NODE is a member's address as 'cluster show' lists it (akka.tcp://cis490@HOST:PORT or HOST:PORT).\n" +
            "--level debug|info|warning|error keeps that level and above (default info); --lines N (default 20, at most 200).\n" +
            "Each node keeps its latest 2000 lines in memory (cis490.diagnostics.log-lines)."),
        new("log", "tail", [NodeArg], ["level", "lines", "json"], false, "a live tail of a member's log, through the cluster (Ctrl+C stops)",
            "The last --lines lines (default 10), then each new line as the member logs it. --level and NODE as in 'log peek';\n" +
            "--json prints one JSON object per line."),
        new("actor", "hierarchy", [NodeArg], ["json"], false, "the actor tree of a member (/user and /system), with each actor's class",
            "NODE as in 'log peek'."),
        new("manifest", "reload", [new("PATH", ArgKind.Path, Optional: true)], ["token", "all-errors"], true,
            "load a manifest: PATH (read here, streamed: any size), or without PATH the coordinator's own --manifest file",
            "Known jobs keep their status; the whole manifest is validated before anything changes.\n" +
            "A rejection shows the first 50 errors and counts the rest by kind; --all-errors lists every one."),
        new("manifest", "submit", [new("PATH", ArgKind.Path)], ["token", "all-errors"], true, "the same as 'manifest reload PATH'"),
        new("help", null, [], [], false, "this list, or one command's usage: help jobs, help jobs show"),
        new("exit", null, [], [], false, "leave the interactive shell (also: quit, Ctrl+D)"),
    ];

    /// <summary>The first words: palettes and single commands, in catalog order.</summary>
    public static IReadOnlyList<string> Palettes { get; } = All.Select(c => c.Palette).Append("quit").Distinct().ToList();

    /// <summary>The verbs of a palette (empty for a single-word command or an unknown palette).</summary>
    public static IReadOnlyList<string> Verbs(string palette) =>
        All.Where(c => c.Palette == palette && c.Verb is not null).Select(c => c.Verb!).ToList();

    /// <summary>A command by palette and verb.</summary>
    public static CommandSpec? Find(string palette, string? verb) =>
        All.FirstOrDefault(c => c.Palette == (palette == "quit" ? "exit" : palette) && c.Verb == verb);

    /// <summary>Options every command accepts in one-shot form, before or after the command.</summary>
    public static readonly string[] SessionOptions = ["coordinator", "token", "tls"];
}
