using Akka.Configuration;
using Akka.Streams;
using Cis490.Protocols.Jobs;
using Cis490.Protocols.Workers;
using Cis490.Shared.Config;
using Cis490.Shared.Jobs;
using Cis490.Shared.Manifest;

namespace Cis490.WorkerNode.Tests;

/// <summary>What the worker tests run on: the shipped worker.conf and base.conf with the tests' values on top, each with the
/// reason it differs from production, and small helpers for jobs and leases.</summary>
public static class TestConfig
{
    /// <summary>Every bounded wait for something that should happen at once (a message, a start, a kill).</summary>
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);

    /// <summary>A small CPU worker.</summary>
    public static readonly WorkerCapability Capability = new("test-host", 2, 4, false, 0, null, "none", "abc", "Linux");

    public static Config Worker() => HoconLoader.Load(["worker.conf"], """
        akka.loglevel = WARNING
        cis490.worker {
          # Two slots: the smallest number that shows slots are counted rather than one busy flag.
          slots = 2
          # Longer than any test: the tests read the Register messages the node sends on its own events (start, a freed slot,
          # a drain), and a periodic one would come between them.
          register-interval = 10m
          # Longer than any test, for the same reason; the heartbeat tests shorten it in their own settings.
          heartbeat-interval = 10m
          # An unanswered offer is made again after one second, so the retry test waits seconds, not minutes. (Whole seconds:
          # the failure message prints them.)
          upload-ack-timeout = 1s
          # Two offers, then the attempt is failed: the retry and the give-up in one short test.
          upload-attempts = 2
          # The fake trainer prints only what a test tells it to; the silence test shortens this in its own settings.
          trainer-silence-limit = 10m
          # The test node never joins a cluster, so it never sees a coordinator: it must not leave in the middle of a test.
          coordinator-absent-timeout = 10m
          # Longer than any test, for the same reason (the test node's coordinator probe never confirms a lease unless told to);
          # the keep-limit tests shorten it in their own settings.
          coordinator-lost-keep = 10m
          # The fake process is gone the moment it is killed; a second bounds a stop that goes wrong.
          trainer-stop-grace = 1s
          # Long enough for a drain test to finish a job inside it, short enough to wait out for the hand-back.
          drain-grace = 2s
        }
        """).WithFallback(ActorMaterializer.DefaultConfig());

    /// <summary>A real job id (what a manifest job would get), distinct per <paramref name="n"/>.</summary>
    public static string JobId(int n) => JobIds.Compute("knn", "realistic", "{\"k\":3}", "host", [ManifestLoader.DefaultTrainHost], n);

    public static WorkerProtocol.Lease Lease(int job, long leaseId) =>
        new(new JobSpec(JobId(job), "knn", "realistic", "{\"k\":3}", "host", [ManifestLoader.DefaultTrainHost], job, 0, 3), leaseId);

    /// <summary>The folder above the test's output that holds Cis490.Actors.sln.</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Cis490.Actors.sln"))) return dir.FullName;
        throw new FileNotFoundException($"no Cis490.Actors.sln above {AppContext.BaseDirectory}");
    }

    /// <summary>The build configuration these tests were built in (the name of their output folder: release, debug).</summary>
    public static string Configuration => new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Name;
}
