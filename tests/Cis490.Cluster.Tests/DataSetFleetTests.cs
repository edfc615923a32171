using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Cis490.Shared.Artifacts;
using Cis490.Shared.DataSets;
using Cis490.Shell.Demo;
using Xunit;
using Xunit.Abstractions;

namespace Cis490.Cluster.Tests;

/// <summary>Data sets travelling by content hash between separate machines: a coordinator and two workers, each in its own network
/// namespace with its own address, joined by seed address over veth links. The workers start with no data at all; an operator
/// publishes the feature set to the coordinator, submits a manifest, and every job is trained on the published data set, which
/// each worker pulls once (a corrupted transfer refused and fetched again, a dropped one resumed, by the coordinator's test-only
/// faults).</summary>
[Collection(ClusterCollection.Name)]
public sealed partial class DataSetFleetTests(DataFixture data, ITestOutputHelper output)
{
    private const int CoordinatorPort = 4053;

    [Fact]
    public async Task Workers_started_with_no_data_pull_the_published_data_set_once_each_and_every_model_records_it()
    {
        if (NamespaceFleet.Unavailable() is { } why) Assert.Fail($"cannot build the fleet of separate machines: {why}");
        var root = Directory.CreateTempSubdirectory("cis490-netns-").FullName;
        var logs = Path.Combine(root, "logs");
        var nodes = new List<NodeProcess>();
        using var fleet = new NamespaceFleet();
        try
        {
            var (coordNs, coordAddr) = fleet.AddMachine("coord");
            var workers = new[] { fleet.AddMachine("w1"), fleet.AddMachine("w2") };
            var address = $"{coordAddr}:{CoordinatorPort}";
            var dataDir = Path.Combine(root, "coordinator");

            // The coordinator serves the first transfer with a flipped byte, and cuts the next one half-way.
            var coordinator = NodeProcess.Start("coordinator", "Cis490.Coordinator",
                ["--port", $"{CoordinatorPort}", "--hostname", coordAddr, "--data-dir", dataDir, "--insecure"], logs,
                new Dictionary<string, string> { ["CIS490_FAULT"] = "data-set-corrupt-once,data-set-drop-once" }, coordNs);
            nodes.Add(coordinator);
            await coordinator.WaitReady(TimeSpan.FromSeconds(60));
            var work = new List<string>();
            for (var i = 0; i < workers.Length; i++)
            {
                var (ns, addr) = workers[i];
                var dir = Path.Combine(root, $"work-w{i + 1}");
                Assert.False(Directory.Exists(dir)); // an empty cache: the worker has no data at all, and no --data
                work.Add(dir);
                var worker = NodeProcess.Start($"w{i + 1}", "Cis490.WorkerNode",
                    ["worker", "--seed", $"akka.tcp://cis490@{address}", "--hostname", addr, "--worker-id", $"w{i + 1}", "--work-dir", dir, "--insecure"],
                    logs, netns: ns);
                nodes.Add(worker);
            }
            foreach (var w in nodes.Skip(1)) await w.WaitReady(TimeSpan.FromSeconds(60));
            var token = File.ReadAllText(Path.Combine(dataDir, "operator.token")).Trim();

            // The operator publishes a copy of the built feature set (publishing records the hash in the folder); without the
            // operator token the coordinator refuses it.
            var features = Path.Combine(root, "features");
            CopyTree(data.Small, features);
            var expected = DataSetContent.Hash(features);
            var anonymous = await Operator(coordNs, null, "data", "publish", features, "--coordinator", address);
            Assert.True(anonymous.Exit == 1 && anonymous.Stderr.Contains("needs the operator token"), anonymous.Stdout + anonymous.Stderr);
            var publish = await Operator(coordNs, token, "data", "publish", features, "--coordinator", address, "--name", "small");
            Assert.True(publish.Exit == 0, publish.Stdout + publish.Stderr);
            Assert.Contains($"data set {expected}", publish.Stdout);
            output.WriteLine(publish.Stdout.Trim());
            Assert.Equal(expected, DataSetContent.ReadMarker(features)!.Sha256);
            var listed = await Operator(coordNs, null, "data", "list", "--coordinator", address);
            Assert.True(listed.Exit == 0 && listed.Stdout.Contains(expected[..16]) && listed.Stdout.Contains("small"), listed.Stdout + listed.Stderr);

            // Both workers registered, then a manifest that names no data set: its jobs are bound to the latest published one.
            await Until(() => File.ReadAllText(coordinator.LogPath).Contains("Worker w1 registered") && File.ReadAllText(coordinator.LogPath).Contains("Worker w2 registered"),
                TimeSpan.FromSeconds(30), "both workers registered", nodes);
            var manifest = Path.Combine(root, "jobs.toml");
            File.WriteAllText(manifest, """
                [[jobs]]
                model = "knn"
                mode = "realistic"
                hyper = { k = 1 }

                [[jobs]]
                model = "knn"
                mode = "oracle"
                hyper = { k = 5 }

                [[jobs]]
                model = "knn"
                mode = "realistic"
                hyper = { k = 7 }

                [[jobs]]
                model = "gbt"
                mode = "oracle"

                [[jobs]]
                model = "knn"
                mode = "oracle"
                hyper = { k = 1 }
                data_set = "small"
                """);
            var submit = await Operator(coordNs, token, "manifest", "submit", manifest, "--coordinator", address);
            Assert.True(submit.Exit == 0, submit.Stdout + submit.Stderr);
            Assert.Contains("5 new job(s)", submit.Stdout);

            JsonElement[] jobs = [];
            await Until(async () =>
            {
                var list = await Operator(coordNs, null, "shell", "--coordinator", address, "jobs", "list", "--json");
                if (list.Exit != 0) return false;
                jobs = JsonDocument.Parse(list.Stdout).RootElement.GetProperty("jobs").EnumerateArray().ToArray();
                Assert.DoesNotContain(jobs, j => j.GetProperty("status").GetString() is "failed" or "cancelled");
                return jobs.Length == 5 && jobs.All(j => j.GetProperty("status").GetString() == "completed");
            }, TimeSpan.FromSeconds(120), "every job completed", nodes);

            // Every job was bound to the published data set, and every artifact, checkpoint and index row names it.
            Assert.Equal(["w1", "w2"], jobs.Select(j => j.GetProperty("worker_id").GetString()!).Distinct().Order());
            Assert.All(jobs, j => Assert.Equal(expected, j.GetProperty("data_set").GetString()));
            var show = await Operator(coordNs, null, "shell", "--coordinator", address, "jobs", "show", jobs[0].GetProperty("job_id").GetString()!);
            Assert.Contains(expected, show.Stdout);
            var rows = File.ReadAllLines(Path.Combine(dataDir, "models", "index.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
            Assert.Equal(5, rows.Count);
            foreach (var row in rows)
            {
                Assert.Equal(expected, row.GetProperty("data_set").GetString());
                var bundle = Path.Combine(dataDir, "models", row.GetProperty("path").GetString()!);
                using var ckpt = JsonDocument.Parse(ArtifactBundle.ReadEntry(bundle, "ckpt.json", 1 << 20)!);
                Assert.Equal(expected, ckpt.RootElement.GetProperty("lineage").GetProperty("data_set").GetString());
            }
            Assert.True(File.Exists(Path.Combine(dataDir, "data-sets", expected, ArtifactBundle.FileName)));

            // Each worker pulled the data set exactly once (its later jobs found it in the cache), and says how fast.
            var workerLogs = nodes.Skip(1).Select(n => (n.Name, Text: File.ReadAllText(n.LogPath))).ToList();
            foreach (var (name, text) in workerLogs)
            {
                var pulls = PulledLine().Matches(text);
                Assert.True(pulls.Count == 1, $"{name} pulled the data set {pulls.Count} times:\n{text}");
                var m = pulls[0];
                output.WriteLine($"{name}: pulled data set {expected[..12]}: {m.Groups["bytes"].Value} bytes in {m.Groups["s"].Value} s " +
                                 $"({m.Groups["mbs"].Value} MB/s), {m.Groups["tries"].Value} transfer(s), {m.Groups["refused"].Value} refused");
                Assert.True(File.Exists(Path.Combine(work[int.Parse(name[1..]) - 1], "data-sets", expected, DataSetContent.MarkerFile)));
            }
            // The corrupted transfer was refused and fetched again; the dropped one resumed from the bytes on disk.
            Assert.Single(workerLogs, l => l.Text.Contains("REFUSED the transfer (hash mismatch"));
            Assert.Contains(workerLogs, l => l.Text.Contains("the transfer dropped after") && l.Text.Contains("resuming from byte"));
            Assert.Equal(1, workerLogs.Sum(l => PulledLine().Matches(l.Text).Sum(m => int.Parse(m.Groups["refused"].Value))));
        }
        catch (Exception) when (Dump(nodes)) { throw; }
        finally
        {
            foreach (var n in nodes) n.Terminate();
            foreach (var n in nodes)
            {
                if (!await n.WaitExit(TimeSpan.FromSeconds(15))) n.Kill();
                n.Dispose();
            }
            try { Directory.Delete(root, true); } catch (IOException) { }
        }
    }

    [GeneratedRegex(@"pulled from the coordinator and verified: (?<bytes>\d+) bytes transferred and hashed in (?<s>[\d.]+) s \((?<mbs>[\d.]+) MB/s\), unpacked and content-checked in [\d.]+ s, (?<tries>\d+) transfer\(s\), (?<refused>\d+) refused")]
    private static partial Regex PulledLine();

    /// <summary>The operator program run inside <paramref name="ns"/> (the coordinator's machine), with the operator token in its environment.</summary>
    private static async Task<(int Exit, string Stdout, string Stderr)> Operator(string ns, string? token, params string[] args)
    {
        var psi = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "netns", "exec", ns, "dotnet", NodeProcess.ProgramPath("Cis490.Shell") }.Concat(args)) psi.ArgumentList.Add(a);
        if (token is not null) psi.Environment["CIS490_OPERATOR_TOKEN"] = token;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await p.WaitForExitAsync(cts.Token);
        return (p.ExitCode, await stdout, await stderr);
    }

    private static Task Until(Func<bool> done, TimeSpan timeout, string what, List<NodeProcess> nodes) => Until(() => Task.FromResult(done()), timeout, what, nodes);

    private static async Task Until(Func<Task<bool>> done, TimeSpan timeout, string what, List<NodeProcess> nodes)
    {
        var clock = Stopwatch.StartNew();
        while (!await done())
        {
            if (clock.Elapsed > timeout) throw new TimeoutException($"{what}: not within {timeout.TotalSeconds:F0} s");
            await Task.Delay(500);
        }
    }

    private bool Dump(List<NodeProcess> nodes)
    {
        foreach (var n in nodes)
        {
            output.WriteLine($"--- {n.Name} ({n.LogPath}), last lines:");
            try { foreach (var line in File.ReadLines(n.LogPath).TakeLast(30)) output.WriteLine(line.Length > 400 ? line[..400] : line); }
            catch (IOException) { }
        }
        return false;
    }

    private static void CopyTree(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var dest = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(dest)!);
            File.Copy(file, dest);
        }
    }
}
