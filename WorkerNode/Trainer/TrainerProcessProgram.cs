using Cis490.Shared.Capability;
using Cis490.Training.Runner;
using Cis490.WorkerNode.Cli;

namespace Cis490.WorkerNode.Trainer;

/// <summary>The <c>trainer</c> command: the child process a <see cref="TrainerActor"/> starts for one lease. It trains the job in
/// its job file and prints <see cref="TrainerOutput"/> lines on stdout; a watchdog ends it when its worker is gone.</summary>
public static class TrainerProcessProgram
{
    private static readonly object OutputLock = new();

    public static string ParseJobFile(CommandLine c) => c.Require("job");

    public static int Run(string jobFile)
    {
        var request = TrainRequest.Load(jobFile);
        StartWatchdog();
        try
        {
            TrainerRunner.Run(request, p => Print(TrainerOutput.Progress(p)));
            Console.Out.Flush();
            return 0;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or NotSupportedException)
        {
            Console.Error.WriteLine($"job {request.JobId}: {e.Message}");
            return 1;
        }
    }

    /// <summary>Exit code of <c>trainer self-test</c> when no family can run on this machine.</summary>
    public const int NothingRuns = 5;

    public static string ParseSelfTest(CommandLine c) => Path.GetFullPath(c.Get("work-dir") ?? Path.GetTempPath());

    /// <summary>The <c>trainer self-test</c> command: every family of the catalog tried for real by this same entry, the report
    /// printed as one <see cref="SelfTestReport.Marker"/> line on stdout (the worker reads it), a line per family on stderr.</summary>
    public static int RunSelfTest(string workRoot)
    {
        var report = SelfTest.Run(workRoot, line => Console.Error.WriteLine(line));
        Console.Out.WriteLine(report.ToLine());
        Console.Out.Flush();
        if (report.Runnable.Count > 0) return 0;
        Console.Error.WriteLine($"self-test: NO model family can run on this machine ({report.ProblemSummary()})");
        return NothingRuns;
    }

    private static void Print(string line)
    {
        lock (OutputLock) Console.Out.WriteLine(line);
    }

    /// <summary>Once a second: exit when the worker process is gone, and print an <c>alive</c> line, so the worker can tell a
    /// trainer that is slow between epochs from one that is stopped or dead. A trainer whose worker died (SIGKILL, OOM kill) has
    /// nobody to report to, and its lease will be re-run elsewhere: it exits instead of burning the machine. Linux re-parents an
    /// orphan, so a changed parent pid means the worker is gone.</summary>
    private static void StartWatchdog()
    {
        var parent = OperatingSystem.IsLinux() ? getppid() : 0;
        var watcher = new Thread(() =>
        {
            while (true)
            {
                Thread.Sleep(1000); // the tick of a background watchdog, not a synchronisation
                if (OperatingSystem.IsLinux() && getppid() != parent)
                {
                    Console.Error.WriteLine($"trainer: worker process {parent} is gone; exiting");
                    Environment.Exit(3);
                }
                Print(TrainerOutput.Alive);
            }
        }) { IsBackground = true, Name = "trainer-watchdog" };
        watcher.Start();
    }

    [System.Runtime.InteropServices.DllImport("libc")]
    private static extern int getppid();
}
