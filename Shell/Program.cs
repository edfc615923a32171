using Cis490.Shared.Cli;
using Cis490.Shell.Client;
using Cis490.Shell.Commands;
using Cis490.Shell.Demo;
using Cis490.Shell.Interactive;
using Cis490.Shell.Render;
using Cis490.Shared.Security;

namespace Cis490.Shell;

/// <summary>The operator's program: <c>shell</c> (the interactive prompt, or one command against a coordinator), <c>manifest submit</c>, and <c>demo</c>.</summary>
public static class Program
{
    private const string Usage = """
        usage:
          shell --coordinator HOST:PORT [--tls DIR]              the interactive shell (help, Tab completion, history)
          shell --coordinator HOST:PORT [--tls DIR] COMMAND ...  one command, for scripts; 'shell help' lists them:
            status | health | workers | jobs list|show|logs|cancel|requeue | artifacts list|get | cluster show|leave|down | manifest reload
          manifest submit FILE --coordinator HOST:PORT [--tls DIR]
          certs init --out DIR [--days 3650]                     a fleet certificate authority: DIR/ca.crt, DIR/ca.key (0600)
          certs issue NAME --role coordinator|worker|operator --ca DIR --out DIR [--dns N,..] [--ip A,..] [--days 825]
                                                                 an enrolment folder for one machine: ca.crt, node.crt, node.key (0600)
          demo [--data-dir DIR] [--manifest FILE] [--episodes N] [--http-port N] [--keep-running]
        """ + DataSets.DataCommands.Usage + """
        mutating commands need the operator token: CIS490_OPERATOR_TOKEN_FILE=PATH (a file holding it), or CIS490_OPERATOR_TOKEN;
        --token T works too but shows in `ps` to every user of the machine (a coordinator started without a token wrote one
        to <data-dir>/operator.token)
        a fleet with TLS needs an operator enrolment folder: --tls DIR, or CIS490_TLS_DIR (docs/tls.md)
        """;

    /// <summary>The real standard output: results for people and scripts. Everything else (Akka's own log lines, which would
    /// otherwise interleave with a <c>--json</c> document) goes to standard error.</summary>
    public static TextWriter Out { get; private set; } = Console.Out;

    public static async Task<int> Main(string[] argv)
    {
        StartupClock.Mark("main");
        try
        {
            return await Run(argv);
        }
        finally
        {
            StartupClock.Report(Console.Error);
        }
    }

    private static async Task<int> Run(string[] argv)
    {
        // Everything this program prints passes SafeTextWriter: ids, hosts, errors and manifest values from the coordinator show
        // their control characters as visible escapes rather than acting on the terminal.
        Out = SafeTextWriter.Wrap(Console.Out);
        Console.SetError(SafeTextWriter.Wrap(Console.Error));
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
                "data" => await Data(argv[1..]),
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
            var sessionToken = SessionToken(options.Get("token"));
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
        string? token;
        try
        {
            token = SessionToken(command.Options.Get("token"));
        }
        catch (TokenException e)
        {
            Console.Error.WriteLine($"cis490: {e.Message}");
            return ShellSession.Usage;
        }
        var tls = command.Options.Get("tls");
        await using var session = new ShellSession(coordinator, token, Out, Console.Error, !Console.IsOutputRedirected, tls);
        return await session.Run(command);
    }

    private const string OperatorTokenVariable = "CIS490_OPERATOR_TOKEN";
    private const string OperatorTokenFileVariable = "CIS490_OPERATOR_TOKEN_FILE";

    /// <summary>The operator token for this run: <c>--token</c> when given (with a warning: it shows in <c>ps</c>), else the file
    /// <c>CIS490_OPERATOR_TOKEN_FILE</c> names, else <c>CIS490_OPERATOR_TOKEN</c>, else none (reads need none). Never printed.</summary>
    private static string? SessionToken(string? option)
    {
        if (option is not null)
        {
            Console.Error.WriteLine($"cis490: warning: --token shows in `ps` to every user of this machine; set {OperatorTokenFileVariable} " +
                                    $"to a file holding the token (or {OperatorTokenVariable}) instead");
            return option;
        }
        if (Environment.GetEnvironmentVariable(OperatorTokenFileVariable) is { Length: > 0 } file)
            return FleetTokens.ReadFile(file, "operator token", OperatorTokenFileVariable);
        return Environment.GetEnvironmentVariable(OperatorTokenVariable) is { } value && !string.IsNullOrWhiteSpace(value) ? value.Trim() : null;
    }

    /// <summary><c>data publish</c> and <c>data list</c>: the operator's end of data sets (the worker program builds them).</summary>
    private static async Task<int> Data(string[] argv)
    {
        var token = argv.Length > 0 && argv[0] == "publish" ? SessionToken(new CliArgs(argv[1..]).Get("token")) : null;
        return await DataSets.DataCommands.Run(argv.Where((a, i) => !(a == "--token" || (i > 0 && argv[i - 1] == "--token"))).ToArray(), token, Out);
    }

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
