using Cis490.Protocols.Operator;
using Cis490.Shared.Cli;
using Cis490.Shell.Client;
using Cis490.Shell.Commands;
using Cis490.Shell.Demo;

namespace Cis490.Shell;

/// <summary>The operator's program: <c>shell</c> (one-shot commands against a coordinator), <c>manifest submit</c>, and <c>demo</c>.</summary>
public static class Program
{
    private const string Usage = """
        usage:
          shell --coordinator HOST:PORT jobs list [--status S] [--model M] [--json]
          shell --coordinator HOST:PORT jobs cancel ID [--reason TEXT] [--token T]
          shell --coordinator HOST:PORT jobs requeue ID [--token T]
          manifest submit FILE --coordinator HOST:PORT [--token T]
        mutating commands need the operator token: --token, or CIS490_OPERATOR_TOKEN
        (a coordinator started without it wrote one to <data-dir>/operator.token)
          demo [--data-dir DIR] [--manifest FILE] [--episodes N]
        """;

    /// <summary>The real standard output: results for people and scripts. Everything else (Akka's own log lines, which would
    /// otherwise interleave with a <c>--json</c> document) goes to standard error.</summary>
    public static TextWriter Out { get; private set; } = Console.Out;

    public static async Task<int> Main(string[] argv)
    {
        Out = Console.Out;
        Console.SetOut(Console.Error);
        try
        {
            if (argv.Length == 0) throw new CliException("no command");
            return argv[0] switch
            {
                "shell" => await Shell(new CliArgs(argv[1..], "json")),
                "manifest" when argv.Length > 1 && argv[1] == "submit" => await SubmitManifest(new CliArgs(argv[2..])),
                "demo" => await Demo(new CliArgs(argv[1..])),
                _ => throw new CliException($"unknown command '{argv[0]}'"),
            };
        }
        catch (CliException e)
        {
            Console.Error.WriteLine($"cis490: {e.Message}");
            Console.Error.WriteLine(Usage);
            return 2;
        }
    }

    private static async Task<int> Shell(CliArgs args)
    {
        var address = args.Require("coordinator");
        var command = string.Join(' ', args.Positionals.Take(2));
        switch (command)
        {
            case "jobs cancel" or "jobs requeue":
                if (args.Positionals.Count != 3) throw new CliException($"{command} takes one job id (or its first 8+ characters)");
                var jobId = args.Positionals[2];
                var reason = args.Get("reason", "cancelled by an operator");
                var token = OperatorTokenArg(args);
                args.RejectUnknown();
                await using (var client = CoordinatorClient.Connect(address))
                {
                    object request = command == "jobs cancel" ? new OperatorProtocol.CancelJob(jobId, reason, token) : new OperatorProtocol.RequeueJob(jobId, token);
                    switch (await client.Ask(request))
                    {
                        case OperatorProtocol.OperatorResult { Ok: true } ok:
                            Program.Out.WriteLine($"{ok.JobId}: {ok.Message}");
                            return 0;
                        case OperatorProtocol.OperatorResult refused:
                            Console.Error.WriteLine($"refused: {refused.Message}");
                            return 1;
                        case var other:
                            Console.Error.WriteLine($"unexpected reply {other.GetType().Name}");
                            return 1;
                    }
                }
            case "jobs list" when args.Positionals.Count == 2:
                var status = args.Get("status");
                var model = args.Get("model");
                var json = args.Flag("json");
                args.RejectUnknown();
                if (status is not null && !Protocols.Jobs.JobStatus.All.Contains(status))
                    throw new CliException($"--status must be one of {string.Join(", ", Protocols.Jobs.JobStatus.All)}, got '{status}'");
                await using (var client = CoordinatorClient.Connect(address))
                {
                    var list = await client.ListJobs(status, model);
                    Program.Out.Write(json ? JobsTable.Json(list) + "\n" : JobsTable.Text(list.Jobs));
                }
                return 0;
            case "":
                throw new CliException("the interactive shell comes later; give a command, e.g. 'jobs list'");
            default:
                throw new CliException($"unknown shell command '{string.Join(' ', args.Positionals)}' (known: jobs list, jobs cancel, jobs requeue)");
        }
    }

    /// <summary>The operator token for a mutating command: <c>--token</c>, else <c>CIS490_OPERATOR_TOKEN</c>; the coordinator checks it.</summary>
    private static string? OperatorTokenArg(CliArgs args) =>
        args.Get("token") ?? Environment.GetEnvironmentVariable("CIS490_OPERATOR_TOKEN");

    private static async Task<int> SubmitManifest(CliArgs args)
    {
        if (args.Positionals.Count != 1) throw new CliException("manifest submit takes exactly one FILE");
        var file = args.Positionals[0];
        var address = args.Require("coordinator");
        var token = OperatorTokenArg(args);
        args.RejectUnknown();
        if (!File.Exists(file)) throw new CliException($"manifest {file} not found");
        await using var client = CoordinatorClient.Connect(address);
        switch (await client.Ask(new OperatorProtocol.SubmitManifest(file, await File.ReadAllTextAsync(file), token)))
        {
            case OperatorProtocol.ManifestAccepted ok:
                Program.Out.WriteLine($"{file}: {ok.AddedJobIds.Count} new job(s) pending, {ok.KnownJobIds.Count} already known (unchanged)");
                return 0;
            case OperatorProtocol.ManifestRejected bad:
                Console.Error.WriteLine($"{file}: rejected, nothing changed ({bad.Errors.Count} error(s)):");
                foreach (var e in bad.Errors) Console.Error.WriteLine("  " + e);
                return 1;
            case OperatorProtocol.OperatorError refused:
                Console.Error.WriteLine($"{file}: {refused.Message}");
                return 1;
            case var other:
                Console.Error.WriteLine($"unexpected reply {other.GetType().Name}");
                return 1;
        }
    }

    private static async Task<int> Demo(CliArgs args)
    {
        var home = Environment.GetEnvironmentVariable("CIS490_HOME") ?? Environment.CurrentDirectory;
        var dataDir = args.Get("data-dir", Path.Combine(home, ".cis490", "demo"));
        var manifest = args.Get("manifest", Path.Combine(home, "etc", "demo_manifest.toml"));
        var episodes = args.GetInt("episodes", 567);
        args.RejectUnknown();
        return await DemoRunner.Run(dataDir, manifest, episodes, TimeSpan.FromMinutes(15));
    }
}
