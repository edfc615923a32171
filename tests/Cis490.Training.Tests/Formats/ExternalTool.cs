using System.ComponentModel;
using System.Diagnostics;

namespace Cis490.Training.Tests.Formats;

/// <summary>Runs a program outside .NET (node, npm, NumPy's python) for the independent format checks; a missing program
/// or a failed run fails the test with what to install, never skips it.</summary>
internal static class ExternalTool
{
    /// <summary>Runs <paramref name="program"/> and returns its stdout; fails the test, with
    /// <paramref name="hint"/> and the program's output, when it cannot start, exits non-zero or hangs.</summary>
    public static string Run(string program, IEnumerable<string> args, Func<string, string> hint, string? workDir = null,
        int timeoutSeconds = 180)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workDir ?? Environment.CurrentDirectory,
        };
        foreach (var a in args) start.ArgumentList.Add(a);
        var command = $"{program} {string.Join(' ', start.ArgumentList)}";
        Process? process = null;
        try
        {
            process = Process.Start(start);
        }
        catch (Win32Exception e)
        {
            Assert.Fail($"cannot run {program}: {e.Message}. {hint("")}");
        }
        Assert.NotNull(process);
        using (process)
        {
            // Both pipes drained concurrently, so a chatty stderr cannot block the child.
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromSeconds(timeoutSeconds)))
            {
                process.Kill(entireProcessTree: true);
                Assert.Fail($"{command} ran past {timeoutSeconds} s");
            }
            process.WaitForExit(); // lets the output reads finish
            if (process.ExitCode != 0)
                Assert.Fail($"{command} exited {process.ExitCode}. {hint(stderr.Result)}\nstdout: {stdout.Result}\nstderr: {stderr.Result}");
            return stdout.Result;
        }
    }
}
