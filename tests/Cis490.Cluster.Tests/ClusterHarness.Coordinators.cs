using System.Diagnostics;
using Cis490.Protocols.Operator;
using Cis490.Shell.Client;
using Cis490.Shell.Demo;

namespace Cis490.Cluster.Tests;

/// <summary>Several coordinator-role nodes in one fleet, and polling a chosen one (the singleton may move between them).</summary>
public sealed partial class ClusterHarness
{
    /// <summary>Starts a coordinator-role node on <paramref name="port"/> with extra options (journal, seeds) and waits until it is Up.</summary>
    public async Task<NodeProcess> StartCoordinatorNode(string name, int port, params string[] extra)
    {
        var node = NodeProcess.Start(name, "Cis490.Coordinator", ["--port", port.ToString(), "--data-dir", DataDir, .. extra], Logs);
        _nodes.Add(node);
        Coordinator ??= node;
        await node.WaitReady(TimeSpan.FromSeconds(60));
        return node;
    }

    /// <summary>Polls the job table through <paramref name="client"/> until <paramref name="done"/> holds; returns it and when the
    /// first answer came. On time-out the message carries the table and the logs' tails.</summary>
    public async Task<(IReadOnlyList<OperatorProtocol.JobView> Jobs, TimeSpan FirstAnswer)> WaitFor(
        CoordinatorClient client, Func<IReadOnlyList<OperatorProtocol.JobView>, bool> done, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        TimeSpan? first = null;
        IReadOnlyList<OperatorProtocol.JobView> jobs = [];
        while (clock.Elapsed < timeout)
        {
            try
            {
                jobs = (await client.ListJobs()).Jobs;
                first ??= clock.Elapsed;
                if (done(jobs)) return (jobs, first.Value);
            }
            catch (Shared.Cli.CliException) { } // no coordinator answers yet (the singleton is moving): ask again
            await Task.Delay(250);
        }
        throw new TimeoutException($"{what}: not reached within {timeout.TotalSeconds:F0} s via {client.Address}. Jobs: " +
            string.Join("; ", jobs.Select(j => $"{j.JobId[..8]} {j.Status} w={j.WorkerId} lease={j.LeaseId} err={j.LastError}")) + "\n" + LogTails());
    }
}
