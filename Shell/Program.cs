using Cis490.Shared.Cli;
using Cis490.Shell.Commands;
using Cis490.Shell.Demo;
using Cis490.Shell.Interactive;

namespace Cis490.Shell;

/// <summary>The operator's program: <c>shell</c> (the interactive prompt, or one command against a coordinator), <c>manifest submit</c>, and <c>demo</c>.</summary>
public static class Program
{
    private const string Usage = """
        usage:
          shell --coordinator HOST:PORT [--token T] [--tls DIR]  the interactive shell (help, Tab completion, history)
          shell --coordinator HOST:PORT [--token T] COMMAND ...  one command, for scripts; 'shell help' lists them:
            status | workers | jobs list|show|logs|cancel|requeue | artifacts list|get | cluster show|leave|down | manifest reload
          manifest submit FILE --coordinator HOST:PORT [--token T] [--tls DIR]
          certs init --out DIR [--days 3650]                     a fleet certificate authority: DIR/ca.crt, DIR/ca.key (0600)
          certs issue NAME --role coordinator|worker|operator --ca DIR --out DIR [--dns N,..] [--ip A,..] [--days 825]
                                                                 an enrolment folder for one machine: ca.crt, node.crt, node.key (0600)
          demo [--data-dir DIR] [--manifest FILE] [--episodes N] [--http-port N] [--keep-running]
        mutating commands need the operator token: --token, or CIS490_OPERATOR_TOKEN
        (a coordinator started without it wrote one to <data-dir>/operator.token)
        a fleet with TLS needs an operator enrolment folder: --tls DIR, or CIS490_TLS_DIR (docs/tls.md)
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
                "shell" => await Shell(argv[1..]),
                "manifest" => await Shell(argv), // `manifest submit FILE --coordinator H:P`: the shell's own manifest command
                "demo" => await Demo(new CliArgs(argv[1..])),
                "certs" => Certs.Run(argv[1..], Out),
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

    /// <summary>One command after the options, or none for the interactive prompt; parsed the same way in both cases.</summary>
    private static async Task<int> Shell(string[] words)
    {
        var options = new CliArgs(words, CommandCatalog.Flags);
        if (options.Positionals.Count == 0)
        {
            var address = options.Require("coordinator");
            var sessionToken = options.Get("token") ?? Environment.GetEnvironmentVariable(OperatorTokenVariable);
            var sessionTls = options.Get("tls");
            options.RejectUnknown();
            await using var interactive = new ShellSession(address, sessionToken, Out, Console.Error, !Console.IsOutputRedirected, sessionTls);
            return await InteractiveShell.Run(interactive, terminal: !Console.IsInputRedirected && !Console.IsOutputRedirected);
        }
        ParsedCommand command;
        try
        {
            command = CommandParser.Parse(words);
        }
        catch (CliException e)
        {
            Console.Error.WriteLine($"cis490: {e.Message}");
            return ShellSession.Usage;
        }
        var coordinator = command.Options.Get("coordinator");
        var token = command.Options.Get("token") ?? Environment.GetEnvironmentVariable(OperatorTokenVariable);
        var tls = command.Options.Get("tls");
        await using var session = new ShellSession(coordinator, token, Out, Console.Error, !Console.IsOutputRedirected, tls);
        return await session.Run(command);
    }

    private const string OperatorTokenVariable = "CIS490_OPERATOR_TOKEN";

    private static async Task<int> Demo(CliArgs args)
    {
        var home = Environment.GetEnvironmentVariable("CIS490_HOME") ?? Environment.CurrentDirectory;
        var dataDir = args.Get("data-dir", Path.Combine(home, ".cis490", "demo"));
        var manifest = args.Get("manifest", Path.Combine(home, "etc", "demo_manifest.toml"));
        var episodes = args.GetInt("episodes", 567);
        var httpPort = args.GetInt("http-port", 0); // 0: a free port
        if (httpPort is < 0 or > 65535) throw new CliException($"option --http-port must be a TCP port, got {httpPort}");
        var keepRunning = args.Flag("keep-running");
        args.RejectUnknown();
        return await DemoRunner.Run(dataDir, manifest, episodes, TimeSpan.FromMinutes(15), httpPort, keepRunning);
    }
}
