using System.Diagnostics;
using System.Text.Json;
using Xunit;
using Xunit.Abstractions;

namespace Cis490.Cluster.Tests;

/// <summary><c>bench scale</c> (issue 17) in its quick form, as its own process: a real coordinator process, simulated workers
/// speaking the real protocol, and every figure of the report present and plausible (the full-size figures are in the README).</summary>
[Collection(ClusterCollection.Name)]
public sealed class ScaleBenchTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_quick_scale_run_leases_completes_recovers_and_reports_every_figure()
    {
        var dir = Directory.CreateTempSubdirectory("cis490-scale-test-").FullName;
        try
        {
            var json = Path.Combine(dir, "scale.json");
            var clock = Stopwatch.StartNew();
            var (exit, stdout, stderr) = await ClusterHarness.RunProgram("Cis490.Bench",
                "scale", "--workers", "20", "--jobs", "400", "--minutes", "0.2", "--duration", "2.5-3.5", "--out", json); // longer than the 2 s heartbeat
            output.WriteLine($"{clock.Elapsed.TotalSeconds:F0} s\n{stdout}\n{stderr}");
            Assert.True(exit == 0, $"bench scale exited {exit}: {stderr}\n{stdout}");

            var r = JsonDocument.Parse(await File.ReadAllTextAsync(json)).RootElement;
            Assert.Equal(20, r.GetProperty("FirstLease").GetProperty("Count").GetInt32()); // every worker registered and got a lease
            Assert.True(r.GetProperty("Completed").GetInt64() >= 20, "jobs completed through the artifact upload in the busy window");
            Assert.True(r.GetProperty("BusyLease").GetProperty("Count").GetInt32() > 0, "lease latencies measured while busy");
            Assert.True(r.GetProperty("HeartbeatsHandledPerSecond").GetDouble() > 0, "heartbeats counted by the coordinator");
            Assert.True(r.GetProperty("HeartbeatCapacityPerSecond").GetDouble() > 0, "heartbeat flood answered");
            Assert.Equal(0, r.GetProperty("Errors").GetInt64());
            Assert.True(r.GetProperty("RecoverySeconds").GetDouble() > 0, "recovery time read from cis490_recovery after the SIGKILL");
            Assert.True(r.GetProperty("ListAllSeconds").GetDouble() > 0);
            Assert.True(r.GetProperty("EmptyRssMb").GetDouble() > 10 && r.GetProperty("RecoveredRssMb").GetDouble() > 10, "RSS read from /proc");
            // Where the time goes inside the coordinator: its journal writes in the window (histogram buckets), and the recovery's
            // phases, which add up to the recovery's total.
            Assert.True(r.GetProperty("JournalWriteP99").GetDouble() > 0, "journal-write p99 read from cis490_journal_write_seconds buckets");
            var phases = r.GetProperty("RecoveryPhases");
            var sum = new[] { "load", "index", "replay" }.Sum(p => phases.GetProperty(p).GetDouble());
            Assert.True(phases.GetProperty("load").GetDouble() > 0, "recovery phase 'load' read from cis490_recovery_phase_seconds");
            Assert.True(Math.Abs(sum - r.GetProperty("RecoverySeconds").GetDouble()) < 0.05,
                $"the recovery phases ({sum:F3} s) add up to cis490_recovery ({r.GetProperty("RecoverySeconds").GetDouble():F3} s)");
            Assert.Contains("inside the coordinator in the window: journal writes p50", stdout);
            Assert.Contains("lease latency, fleet busy: p50", stdout);
            Assert.Contains("recovery of the whole table", stdout);
        }
        finally { Directory.Delete(dir, true); }
    }
}
