using System.Diagnostics;
using System.Text.Json;
using Cis490.Protocols.Operator;
using Cis490.Shell.Demo;
using Xunit;
using Xunit.Abstractions;

namespace Cis490.Cluster.Tests;

/// <summary>The Petabridge.Cmd-style palettes against real processes: <c>cluster tail</c> and <c>log tail</c> follow a live fleet,
/// <c>log peek</c> reads a worker's log through the cluster with level filtering, <c>actor hierarchy</c> shows its actor tree.</summary>
[Collection(ClusterCollection.Name)]
public sealed class PaletteTests(DataFixture data, ITestOutputHelper output)
{
    private static readonly TimeSpan Seen = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task The_palettes_follow_membership_and_log_lines_live_and_read_a_workers_log_and_actor_tree_through_the_cluster()
    {
        await using var h = new ClusterHarness(data.Small);
        await h.StartCoordinator();
        await h.StartWorker("worker-p");
        var worker = await MemberAddress(h, "worker-p", alreadyThere: []);
        try
        {
            // Live: membership events and the coordinator's log, as they happen.
            using var clusterTail = NodeProcess.Start("cluster-tail", "Cis490.Shell", ["shell", "--coordinator", h.Address, "cluster", "tail"], h.Logs);
            using var logTail = NodeProcess.Start("log-tail", "Cis490.Shell", ["shell", "--coordinator", h.Address, "log", "tail", h.Address, "--json"], h.Logs);
            await WaitForLine(clusterTail, l => l.Contains("member-up") && l.Contains(worker), "the worker's member-up (recent events)");
            await WaitForLine(logTail, l => l.StartsWith('{'), "a first JSON log line of the coordinator");

            var workerQ = await h.StartWorker("worker-q");
            var second = await MemberAddress(h, "worker-q", alreadyThere: [worker]);
            await WaitForLine(clusterTail, l => l.Contains("member-up") && l.Contains(second), "the second worker's member-up as it happened");
            var registered = await WaitForLine(logTail, l => l.Contains("Worker worker-q registered"), "the coordinator's log line for the new worker");
            var json = JsonDocument.Parse(registered).RootElement;
            Assert.Equal("info", json.GetProperty("level").GetString());
            Assert.True(json.GetProperty("seq").GetInt64() > 0);

            workerQ.Kill();
            await WaitForLine(clusterTail, l => l.Contains("unreachable") && l.Contains(second), "the killed worker reported unreachable");
        }
        catch
        {
            output.WriteLine(h.LogTails());
            throw;
        }

        // log peek through the cluster: the worker's own lines, filtered by level.
        var peek = await Shell(h, "log", "peek", worker, "--lines", "50");
        Assert.True(peek.Exit == 0, peek.Stderr);
        Assert.Contains("INFO", peek.Stdout);
        var peekJson = await Shell(h, "log", "peek", worker, "--level", "warning", "--json");
        Assert.True(peekJson.Exit == 0, peekJson.Stderr);
        var lines = JsonDocument.Parse(peekJson.Stdout).RootElement.GetProperty("lines");
        Assert.All(lines.EnumerateArray(), l => Assert.Contains(l.GetProperty("level").GetString(), new[] { "warning", "error" }));
        var allJson = JsonDocument.Parse((await Shell(h, "log", "peek", worker, "--level", "debug", "--lines", "200", "--json")).Stdout).RootElement;
        Assert.Equal(worker, allJson.GetProperty("node").GetString());
        Assert.True(allJson.GetProperty("lines").GetArrayLength() > lines.GetArrayLength(), "--level debug shows no more than --level warning");

        // actor hierarchy: the worker node's tree, as text and JSON.
        var tree = await Shell(h, "actor", "hierarchy", worker);
        Assert.True(tree.Exit == 0, tree.Stderr);
        Assert.Contains("worker  (WorkerNodeActor)", tree.Stdout);
        Assert.Contains("diagnostics  (NodeDiagnostics)", tree.Stdout);
        Assert.StartsWith(worker, tree.Stdout);
        var treeJson = JsonDocument.Parse((await Shell(h, "actor", "hierarchy", worker, "--json")).Stdout).RootElement;
        var paths = treeJson.GetProperty("actors").EnumerateArray().Select(a => a.GetProperty("path").GetString()).ToList();
        Assert.Contains("/user/worker", paths);
        Assert.Contains("/system", paths);
        output.WriteLine(tree.Stdout);
        output.WriteLine(peek.Stdout);

        // Bad input: an unknown member, an unknown level.
        var unknown = await Shell(h, "log", "peek", "127.0.0.1:1");
        Assert.Equal(1, unknown.Exit);
        Assert.Contains("no member at '127.0.0.1:1'", unknown.Stderr);
        var badLevel = await Shell(h, "log", "peek", worker, "--level", "loud");
        Assert.Equal(2, badLevel.Exit);
        Assert.Contains("--level must be one of debug, info, warning, error", badLevel.Stderr);
    }

    private static Task<(int Exit, string Stdout, string Stderr)> Shell(ClusterHarness h, params string[] args) =>
        ClusterHarness.RunShell(["shell", "--coordinator", h.Address, .. args]);

    /// <summary>The address of the member that joined as <paramref name="workerId"/> (the worker member not already known).</summary>
    private static async Task<string> MemberAddress(ClusterHarness h, string workerId, IReadOnlyList<string> alreadyThere)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < Seen)
        {
            if (await h.Client.Ask(OperatorQueries.ShowCluster.Instance) is OperatorQueries.ClusterView view &&
                view.Members.FirstOrDefault(m => m.Roles.Contains("worker") && m.Status == "up" && !alreadyThere.Contains(m.Address)) is { } member)
                return member.Address;
            await Task.Delay(200);
        }
        throw new TimeoutException($"{workerId} never showed as an up member");
    }

    /// <summary>Waits until the process's output has a line passing <paramref name="match"/>, and returns it.</summary>
    private static async Task<string> WaitForLine(NodeProcess process, Func<string, bool> match, string what)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < Seen)
        {
            string text;
            using (var reader = new StreamReader(new FileStream(process.LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite)))
                text = await reader.ReadToEndAsync();
            if (text.Split('\n').Select(l => l.TrimEnd('\r')).FirstOrDefault(match) is { } line) return line;
            if (process.HasExited) Assert.Fail($"{process.Name} exited ({process.ExitCode}) before {what}:\n{text}");
            await Task.Delay(250);
        }
        throw new TimeoutException($"{process.Name}: no {what} within {Seen.TotalSeconds:F0} s; its output:\n" + File.ReadAllText(process.LogPath));
    }
}
