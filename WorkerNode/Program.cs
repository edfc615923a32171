using Cis490.Shared.Cli;
using Cis490.WorkerNode.Cli;

namespace Cis490.WorkerNode;

/// <summary>The worker program's entry: finds the command in <see cref="WorkerCommands.All"/>, parses its options, and runs it.
/// The commands themselves live in Node/ (the worker node), Trainer/ (the trainer child process) and Pipeline/ (data, train,
/// predict, eval).</summary>
public static class Program
{
    public static async Task<int> Main(string[] argv)
    {
        if (argv.Length == 0)
        {
            Console.Error.Write(Usage.Text());
            return 2;
        }
        if (argv[0] is "help" or "--help" or "-h")
        {
            Console.Out.Write(Usage.Text());
            return 0;
        }
        var (spec, rest) = WorkerCommands.Find(argv);
        if (spec is null)
        {
            Console.Error.WriteLine($"cis490: unknown command '{string.Join(' ', argv.Take(2))}'");
            Console.Error.Write(Usage.Text());
            return 2;
        }
        if (rest.Contains("--help") || rest.Contains("-h"))
        {
            Console.Out.Write(Usage.Help(spec));
            return 0;
        }
        // Before any command: the family registry is filled once, single-threaded. Registering loads no native library.
        Cis490.Training.Neural.NeuralFamilies.Register();
        try
        {
            return await spec.Prepare(rest)();
        }
        catch (CliException e)
        {
            Console.Error.WriteLine($"cis490: {e.Message}");
            Console.Error.Write("usage:\n" + Usage.Entry(spec));
            return 2;
        }
        catch (Cis490.WorkerNode.Node.WorkerStopped e)
        {
            Console.Error.WriteLine($"cis490: {e.Message}");
            return e.ExitCode;
        }
        catch (Cis490.Training.Neural.TorchUnavailableException e)
        {
            Console.Error.WriteLine($"cis490: {e.Message}");
            return 3;
        }
    }
}
