using System.Diagnostics;
using System.Net;
using Cis490.Shared.Tls;
using Cis490.Shell.Demo;
using Xunit;
using Xunit.Abstractions;

namespace Cis490.Cluster.Tests;

/// <summary>The enrolment scripts, run for real into a temporary root (<c>--root</c>): the worker's self-test runs with the
/// installed program and a machine that can run nothing is refused; the unit files pass <c>systemd-analyze verify</c>; the
/// Windows script is parsed by PowerShell (the <c>PowerShell</c> .NET tool from .config/dotnet-tools.json, restored by
/// <c>./cis490 test</c>) and staged with <c>-NoRegister</c>, its self-test included.</summary>
[Collection(ClusterCollection.Name)]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class InstallScriptTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("cis490-install-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_root, true); } catch (IOException) { }
    }

    private static string Repo
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Cis490.Actors.sln"))) return dir.FullName;
            throw new FileNotFoundException($"no Cis490.Actors.sln above {AppContext.BaseDirectory}");
        }
    }

    /// <summary>The build output folder of one of our programs, as the scripts' --binaries takes it.</summary>
    private static string Binaries(string project) => Path.GetDirectoryName(NodeProcess.ProgramPath(project))!;

    private async Task<(int Exit, string Stdout, string Stderr)> Run(string file, IEnumerable<string> args, IReadOnlyDictionary<string, string>? env = null)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Repo };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in env ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await p.WaitForExitAsync(limit.Token);
        output.WriteLine($"$ {file} {string.Join(' ', args)}\nexit {p.ExitCode}\n{await stderr}");
        return (p.ExitCode, await stdout, await stderr);
    }

    /// <summary><c>systemd-analyze verify</c> of a unit file: it must exit 0 and print nothing (it reports unknown keys and values as
    /// warnings with exit 0).</summary>
    private async Task Verified(string unit)
    {
        var analyze = new[] { "/usr/bin/systemd-analyze", "/bin/systemd-analyze" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("systemd-analyze is not installed: the unit files cannot be verified. './cis490 test' installs it (Debian's systemd package, in TEST_APT_PACKAGES)");
        var (exit, stdout, stderr) = await Run(analyze, ["verify", unit]);
        Assert.True(exit == 0 && stdout.Length + stderr.Length == 0, $"systemd-analyze verify {unit}: exit {exit}\n{stdout}{stderr}");
    }

    private string Enrolment(string name)
    {
        var ca = Path.Combine(_root, "ca");
        if (!Directory.Exists(ca)) FleetCa.Init(ca).Dispose();
        var dir = Path.Combine(_root, "enrol-" + name);
        FleetCa.Issue(ca, dir, new FleetCa.IssueRequest(name, FleetRole.Worker, [name], [IPAddress.Parse("192.168.1.21")])).Dispose();
        return dir;
    }

    [Fact]
    public async Task Install_worker_self_tests_the_installed_program_then_writes_a_unit_that_systemd_verifies_with_the_seed_slots_data_and_tls()
    {
        var root = Path.Combine(_root, "sysroot");
        var (exit, _, stderr) = await Run("bash", [Path.Combine(Repo, "deploy", "install-worker.sh"), "--seed", "akka.tcp://cis490@192.168.1.10:4053",
            "--hostname", "192.168.1.21", "--slots", "3", "--data", "/srv/cis490/features", "--tls", Enrolment("laptop-1"), "--root", root,
            "--binaries", Binaries("Cis490.WorkerNode"), "--worker-args", "--config /etc/cis490/worker-extra.conf"]);

        Assert.True(exit == 0, stderr);
        Assert.Contains("self-test: gbt: ok", stderr);
        Assert.Contains("self-test passed", stderr);
        Assert.True(File.Exists(Path.Combine(root, "opt", "cis490", "worker", "Cis490.WorkerNode.dll")));
        var unit = Path.Combine(root, "etc", "systemd", "system", "cis490-worker.service");
        var text = File.ReadAllText(unit);
        Assert.Contains(" /opt/cis490/worker/Cis490.WorkerNode.dll worker --seed ${CIS490_SEED} --hostname ${CIS490_HOSTNAME} --port ${CIS490_PORT} " +
                        "--slots ${CIS490_SLOTS} --work-dir ${CIS490_WORK_DIR} --data /srv/cis490/features --tls /etc/cis490/tls", text);
        Assert.Contains("EnvironmentFile=/etc/default/cis490-worker", text);
        Assert.Contains("RestartPreventExitStatus=2 4 5", text);
        var env = File.ReadAllLines(Path.Combine(root, "etc", "default", "cis490-worker"));
        Assert.Contains("CIS490_SEED=akka.tcp://cis490@192.168.1.10:4053", env);
        Assert.Contains("CIS490_SLOTS=3", env);
        Assert.Contains("CIS490_WORK_DIR=/var/lib/cis490/work", env);
        Assert.Contains("CIS490_WORKER_ARGS=--config /etc/cis490/worker-extra.conf", env);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(root, "etc", "cis490", "tls", "node.key")));
        Assert.Contains("not enabled (--no-enable or --root)", stderr);
        Assert.Contains("is valid", stderr); // the script's own verify ran
        await Verified(unit);
    }

    [Fact]
    public async Task Install_worker_refuses_a_machine_that_can_run_no_family_and_enrols_nothing()
    {
        var root = Path.Combine(_root, "refused");
        // A temporary folder that cannot be written: the self-test cannot make even its data, so no family trains for real.
        var (exit, _, stderr) = await Run("bash", [Path.Combine(Repo, "deploy", "install-worker.sh"), "--seed", "akka.tcp://cis490@192.168.1.10:4053",
            "--hostname", "192.168.1.21", "--insecure", "--root", root, "--binaries", Binaries("Cis490.WorkerNode")], new Dictionary<string, string> { ["TMPDIR"] = "/proc" });

        Assert.Equal(5, exit);
        Assert.Contains("REFUSED: this machine can run no model family", stderr);
        Assert.Contains("self-test: NO model family can run on this machine", stderr);
        Assert.False(File.Exists(Path.Combine(root, "etc", "systemd", "system", "cis490-worker.service")));
        Assert.False(File.Exists(Path.Combine(root, "etc", "default", "cis490-worker")));
    }

    [Theory]
    [InlineData("--hostname 192.168.1.21 --insecure", "--seed is required")]
    [InlineData("--seed cis490@host:4053 --insecure", "--seed 'cis490@host:4053' is not an Akka address")]
    [InlineData("--seed akka.tcp://cis490@h:4053 --hostname 192.168.1.21", "--hostname 192.168.1.21 is beyond loopback: give --tls DIR")]
    [InlineData("--seed akka.tcp://cis490@h:4053 --insecure --slots 0", "--slots must be a positive integer, got '0'")]
    [InlineData("--seed akka.tcp://cis490@h:4053 --insecure --data relative/dir", "must be absolute paths")]
    [InlineData("--seed akka.tcp://cis490@h:4053 --insecure --no-such-option", "unknown option '--no-such-option'")]
    [InlineData("--seed akka.tcp://cis490@h:4053 --insecure --cache-size lots", "--cache-size 'lots' is not a size")]
    public async Task Install_worker_refuses_bad_options_by_name_with_exit_2_before_changing_anything(string options, string message)
    {
        var root = Path.Combine(_root, "usage");
        var (exit, _, stderr) = await Run("bash", [Path.Combine(Repo, "deploy", "install-worker.sh"), .. options.Split(' '), "--root", root]);

        Assert.Equal(2, exit);
        Assert.Contains(message, stderr);
        Assert.False(Directory.Exists(root));
    }

    [Fact]
    public async Task Install_coordinator_writes_a_unit_that_systemd_verifies_and_keeps_its_settings_file_private()
    {
        var root = Path.Combine(_root, "coordinator");
        var (exit, _, stderr) = await Run("bash", [Path.Combine(Repo, "deploy", "install-coordinator.sh"), "--hostname", "192.168.1.10", "--insecure",
            "--http-port", "8080", "--manifest", Path.Combine(Repo, "etc", "demo_manifest.toml"), "--root", root, "--binaries", Binaries("Cis490.Coordinator")]);

        Assert.True(exit == 0, stderr);
        var unit = Path.Combine(root, "etc", "systemd", "system", "cis490-coordinator.service");
        Assert.Contains("/opt/cis490/coordinator/Cis490.Coordinator.dll --hostname ${CIS490_HOSTNAME} --port ${CIS490_PORT} --data-dir ${CIS490_DATA_DIR} " +
                        "--journal sqlite --insecure --http-port 8080 --manifest /etc/cis490/manifest.toml", File.ReadAllText(unit));
        Assert.Equal(File.ReadAllText(Path.Combine(Repo, "etc", "demo_manifest.toml")), File.ReadAllText(Path.Combine(root, "etc", "cis490", "manifest.toml")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(root, "etc", "default", "cis490-coordinator")));
        Assert.Contains("workers enrol with: deploy/install-worker.sh --seed akka.tcp://cis490@192.168.1.10:4053 --insecure", stderr);
        await Verified(unit);
    }

    [Fact]
    public async Task The_windows_script_parses_in_powershell_and_stages_a_worker_after_its_self_test()
    {
        // PowerShell is the project's local .NET tool (.config/dotnet-tools.json); './cis490 test' restores it.
        var script = Path.Combine(Repo, "deploy", "install-worker.ps1");
        var parse = $"$t = $null; $e = $null; [System.Management.Automation.Language.Parser]::ParseFile('{script.Replace("'", "''")}', [ref]$t, [ref]$e) | Out-Null; " +
                    "$e | ForEach-Object { $_.ToString() }; \"parse errors: $($e.Count)\"";
        var parsed = await Run("dotnet", ["tool", "run", "pwsh", "--", "-NoProfile", "-NonInteractive", "-Command", parse]);
        Assert.True(parsed.Exit == 0, $"PowerShell did not run (is the tool restored? run 'dotnet tool restore' in {Repo}; ./cis490 test does): {parsed.Stderr}");
        Assert.Equal("parse errors: 0", parsed.Stdout.Trim());

        var prefix = Path.Combine(_root, "win", "Cis490");
        var staged = await Run("dotnet", ["tool", "run", "pwsh", "--", "-NoProfile", "-NonInteractive", "-File", script,
            "-Seed", "akka.tcp://cis490@192.168.1.10:4053", "-Hostname", "192.168.1.22", "-Insecure", "-Slots", "2",
            "-Binaries", Binaries("Cis490.WorkerNode"), "-Prefix", prefix, "-Data", Path.Combine(_root, "win", "features"),
            "-WorkDir", Path.Combine(_root, "win", "work"), "-NoRegister"]);

        Assert.True(staged.Exit == 0, staged.Stderr);
        Assert.Contains("self-test: gbt: ok", staged.Stderr);
        Assert.Contains("self-test passed", staged.Stderr);
        var launcher = File.ReadAllText(Path.Combine(prefix, "run-worker.cmd"));
        Assert.Contains("worker --seed akka.tcp://cis490@192.168.1.10:4053 --hostname 192.168.1.22 --port 4054 --slots 2", launcher);
        Assert.Contains("if %RC%==5 exit /b 5", launcher);
        Assert.Contains("goto run", launcher);
    }
}
