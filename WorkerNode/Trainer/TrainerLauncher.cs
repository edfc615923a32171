using System.Diagnostics;

namespace Cis490.WorkerNode.Trainer;

/// <summary>Starts the process that trains one lease. Production starts this program's <c>trainer</c> command
/// (<see cref="OsTrainerLauncher"/>); the worker tests start a fake that prints the same <see cref="TrainerOutput"/> lines.</summary>
public interface ITrainerLauncher
{
    /// <summary>Starts the trainer of <paramref name="jobFile"/>. The callbacks run on the launcher's own threads: each stdout line,
    /// each stderr line, and, after every line has been delivered, the exit code.</summary>
    ITrainerProcess Start(string jobFile, Action<string> output, Action<string> error, Action<int> exited);
}

/// <summary>A started trainer process.</summary>
public interface ITrainerProcess : IDisposable
{
    int Id { get; }

    bool HasExited { get; }

    /// <summary>Kills the process and its children, waiting at most <paramref name="grace"/> for them to go; nothing if it has exited.</summary>
    void Kill(TimeSpan grace);
}

/// <summary>Starts <see cref="TrainerProcess.StartInfo"/>: a real child process per lease.</summary>
public sealed class OsTrainerLauncher : ITrainerLauncher
{
    public static readonly OsTrainerLauncher Instance = new();

    private OsTrainerLauncher() { }

    public ITrainerProcess Start(string jobFile, Action<string> output, Action<string> error, Action<int> exited)
    {
        var process = new Process { StartInfo = TrainerProcess.StartInfo(jobFile), EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) output(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) error(e.Data); };
        process.Exited += (_, _) =>
        {
            process.WaitForExit(); // drains the redirected output before the exit is reported
            exited(SafeExitCode(process));
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new OsTrainerProcess(process);
    }

    private static int SafeExitCode(Process process)
    {
        try { return process.ExitCode; }
        catch (InvalidOperationException) { return -1; }
    }

    private sealed class OsTrainerProcess(Process process) : ITrainerProcess
    {
        public int Id => process.Id;

        public bool HasExited => process.HasExited;

        public void Kill(TimeSpan grace)
        {
            try
            {
                if (process.HasExited) return;
                process.Kill(entireProcessTree: true);
                process.WaitForExit(grace);
            }
            catch (InvalidOperationException) { } // it exited, or was never started: nothing to kill
        }

        public void Dispose() => process.Dispose();
    }
}
