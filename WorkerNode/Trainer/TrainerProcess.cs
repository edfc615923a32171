using System.Diagnostics;

namespace Cis490.WorkerNode.Trainer;

/// <summary>Starts the trainer child process: this same program with the <c>trainer</c> command, so a crash, a native fault or an
/// out-of-memory kill in training ends that process and never the node.</summary>
public static class TrainerProcess
{
    public static ProcessStartInfo StartInfo(string jobFile) => Self(Path.GetDirectoryName(jobFile)!, "trainer", "--job", jobFile);

    /// <summary>The same program's <c>trainer self-test</c>, working under <paramref name="workRoot"/>.</summary>
    public static ProcessStartInfo SelfTestStartInfo(string workRoot) => Self(workRoot, "trainer", "self-test", "--work-dir", workRoot);

    private static ProcessStartInfo Self(string workingDirectory, params string[] args)
    {
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("cannot find this program's path");
        var psi = new ProcessStartInfo(self)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        // Run through `dotnet Cis490.WorkerNode.dll` when this node was started that way.
        if (Path.GetFileNameWithoutExtension(self).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
            psi.ArgumentList.Add(typeof(TrainerProcess).Assembly.Location);
        foreach (var a in args) psi.ArgumentList.Add(a);
        return psi;
    }
}
