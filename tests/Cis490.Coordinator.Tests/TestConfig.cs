using Akka.Configuration;
using Akka.Streams;
using Cis490.Shared.Config;

namespace Cis490.Coordinator.Tests;

/// <summary>The configuration an in-process coordinator test runs on: the shipped coordinator.conf and a journal file, a local
/// actor provider (no ports), and the test's own settings on top (each test class says why its values differ from production).</summary>
public static class TestConfig
{
    /// <summary>The operator token the coordinator tests configure and send.</summary>
    public const string Token = "test-operator-token";

    /// <summary>A manifest of one fast job.</summary>
    public const string OneKnnJob = """
        [[jobs]]
        model = "knn"
        mode = "realistic"
        hyper = { k = 3 }
        """;

    /// <summary>A small CPU worker, as a fake worker registers it.</summary>
    public static readonly Protocols.Workers.WorkerCapability Worker = new("test-host", 2, 4, false, 0, null, "none", "abc", "Linux");

    /// <summary>coordinator.conf over an SQLite journal in <paramref name="dir"/>, with <paramref name="settings"/> on top.</summary>
    public static Config Coordinator(string dir, string token, string settings = "")
    {
        var db = HoconLoader.Quote($"Data Source={Path.Combine(dir, "journal.db")}");
        return Coordinator(dir, token, "persistence-sqlite.conf", $"""
            akka.persistence.journal.sql.connection-string = {db}
            akka.persistence.snapshot-store.sql.connection-string = {db}
            """, settings);
    }

    /// <summary>coordinator.conf over the given persistence file, with the HOCON lines that point it at its database.</summary>
    public static Config Coordinator(string dir, string token, string persistenceFile, string journalOverrides, string settings) =>
        HoconLoader.Load(["coordinator.conf", persistenceFile], $$"""
            akka.actor.provider = local
            akka.loglevel = WARNING
            cis490.coordinator.data-dir = {{HoconLoader.Quote(dir)}}
            cis490.coordinator.operator-token = "{{token}}"
            {{journalOverrides}}
            {{settings}}
            """).WithFallback(ActorMaterializer.DefaultConfig());
}
