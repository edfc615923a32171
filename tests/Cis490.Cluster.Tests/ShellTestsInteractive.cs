using System.Diagnostics;
using Cis490.Shell.Demo;
using Xunit;

namespace Cis490.Cluster.Tests;

/// <summary>The interactive shell in a real pseudo-terminal (tmux, on a private server socket): help, Tab completion of a command
/// and of a job id, the error for an unknown command, history on the up arrow and across sessions, and exit.</summary>
[Collection(ClusterCollection.Name)]
public sealed class ShellTestsInteractive(DataFixture data)
{
    /// <summary>A tmux server of its own (-L) with one 200×50 session running the shell; killed on dispose.</summary>
    private sealed class Tmux : IAsyncDisposable
    {
        private readonly string _socket = $"cis490-test-{Guid.NewGuid():N}"[..24];

        public static async Task<Tmux> Start(string command)
        {
            var t = new Tmux();
            var (exit, output) = await t.Run("new-session", "-d", "-x", "200", "-y", "50", "-s", "shell", command);
            if (exit != 0) throw new InvalidOperationException($"tmux new-session failed ({exit}): {output}");
            return t;
        }

        public Task Keys(params string[] keys) => Run(["send-keys", "-t", "shell", .. keys]);

        /// <summary>Literal text (no key names).</summary>
        public Task Type(string text) => Run("send-keys", "-t", "shell", "-l", text);

        public async Task<string> Screen() => (await Run("capture-pane", "-p", "-t", "shell", "-S", "-200")).Output;

        /// <summary>Waits until the screen satisfies <paramref name="done"/>; on time-out the message shows the screen.</summary>
        public async Task<string> WaitFor(Func<string, bool> done, string what, int seconds = 30)
        {
            var clock = Stopwatch.StartNew();
            var screen = "";
            while (clock.Elapsed < TimeSpan.FromSeconds(seconds))
            {
                screen = await Screen();
                if (done(screen)) return screen;
                await Task.Delay(100);
            }
            throw new TimeoutException($"{what}: not on the screen within {seconds} s. Screen:\n{screen}");
        }

        public async Task<bool> SessionAlive() => (await Run("has-session", "-t", "shell")).Exit == 0;

        private async Task<(int Exit, string Output)> Run(params string[] args)
        {
            var psi = new ProcessStartInfo("tmux") { RedirectStandardOutput = true, RedirectStandardError = true };
            psi.ArgumentList.Add("-L");
            psi.ArgumentList.Add(_socket);
            foreach (var a in args) psi.ArgumentList.Add(a);
            Process p;
            try { p = Process.Start(psi)!; }
            catch (System.ComponentModel.Win32Exception e)
            {
                throw new InvalidOperationException("tmux is needed for the interactive shell tests: apt-get install tmux (./cis490 test installs it)", e);
            }
            using (p)
            {
                var output = await p.StandardOutput.ReadToEndAsync() + await p.StandardError.ReadToEndAsync();
                await p.WaitForExitAsync();
                return (p.ExitCode, output);
            }
        }

        public async ValueTask DisposeAsync() => await Run("kill-server");
    }

    private static string LastLine(string screen) => screen.TrimEnd().Split('\n')[^1];

    [Fact]
    public async Task The_interactive_shell_helps_completes_commands_and_job_ids_explains_unknown_commands_and_remembers_history()
    {
        await using var h = new ClusterHarness(data.Small);
        await h.StartCoordinator();
        var manifest = Path.Combine(h.DataDir, "jobs.toml");
        File.WriteAllText(manifest, "[[jobs]]\nmodel = \"knn\"\nmode = \"oracle\"\nhyper = { k = 4 }\n");
        var loaded = await h.RunShellAsOperator("manifest", "submit", manifest, "--coordinator", h.Address);
        Assert.True(loaded.Exit == 0, loaded.Stderr);
        var job = (await h.Jobs()).Single();
        var history = Path.Combine(h.DataDir, "history");
        var command = $"env CIS490_SHELL_HISTORY={history} dotnet {NodeProcess.ProgramPath("Cis490.Shell")} shell --coordinator {h.Address}";

        await using (var tmux = await Tmux.Start(command))
        {
            await tmux.WaitFor(s => s.Contains("connected: 1 member(s), 0 worker(s), 1 job(s)"), "the greeting", seconds: 60);

            await tmux.Type("help");
            await tmux.Keys("Enter");
            var help = await tmux.WaitFor(s => s.Contains("Exit status of a one-shot command"), "help");
            Assert.Contains("jobs logs", help);
            Assert.Contains("cluster down", help);

            // Tab completes a command name, then a subcommand, then a job id from its first characters (fetched from the coordinator).
            await tmux.Type("jo");
            await tmux.Keys("Tab");
            await tmux.WaitFor(s => LastLine(s).EndsWith("> jobs"), "'jo' completed to 'jobs'");
            await tmux.Type("sh");
            await tmux.Keys("Tab");
            await tmux.WaitFor(s => LastLine(s).EndsWith("> jobs show"), "'sh' completed to 'show'");
            await tmux.Type(job.JobId[..4]);
            await tmux.Keys("Tab");
            await tmux.WaitFor(s => LastLine(s).EndsWith($"> jobs show {job.JobId[..12]}"), "the job id prefix completed");
            await tmux.Keys("Enter");
            var shown = await tmux.WaitFor(s => System.Text.RegularExpressions.Regex.IsMatch(s, $@"job:\s+{job.JobId}"), "the job's detail");
            Assert.Contains("no attempts yet", shown);

            await tmux.Type("jbos list");
            await tmux.Keys("Enter");
            await tmux.WaitFor(s => s.Contains("error: unknown command 'jbos'; did you mean 'jobs'?"), "the unknown-command error");

            await tmux.Keys("Up", "Up");
            await tmux.WaitFor(s => LastLine(s).EndsWith($"> jobs show {job.JobId[..12]}"), "the up arrow recalling the command before last");
            await tmux.Keys("C-u");
            await tmux.Type("exit");
            await tmux.Keys("Enter");
            var clock = Stopwatch.StartNew();
            while (await tmux.SessionAlive() && clock.Elapsed < TimeSpan.FromSeconds(20)) await Task.Delay(100);
            Assert.False(await tmux.SessionAlive(), "the shell did not exit on 'exit'");
        }

        // The history outlives the session, ready for the next one.
        Assert.Equal(["help", $"jobs show {job.JobId[..12]}", "jbos list", "exit"], File.ReadAllLines(history));
    }
}
