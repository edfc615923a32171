using System.Security.Cryptography;
using System.Text;

namespace Cis490.Training.Episodes;

/// <summary>Whether a field is a level (gauge) or a running total (counter, turned into a rate per second).</summary>
public enum FieldKind { Gauge, Counter }

/// <summary>One numeric field of a channel's records.</summary>
public sealed record FieldSpec(string Name, FieldKind Kind, string Unit);

/// <summary>A channel: its file in the episode, its fields, whether it carries a monotonic clock, and whether a deployed
/// detector would have it (<c>realistic</c>) or only the lab's instrumentation does (<c>oracle</c>-only).</summary>
public sealed record ChannelSpec(string Name, IReadOnlyList<FieldSpec> Fields, bool Realistic, bool HasMonotonicClock, string Description)
{
    public string FileName => Name + ".jsonl";
}

/// <summary>The channels an episode may hold and which threat-model mode may use each: realistic ⊂ oracle.</summary>
public sealed record ChannelRegistry(string Version, IReadOnlyList<ChannelSpec> Channels)
{
    public static readonly ChannelRegistry Default = new("channels-v1",
    [
        new ChannelSpec("proc", [
            new("cpu_pct", FieldKind.Gauge, "%"), new("rss_mb", FieldKind.Gauge, "MiB"), new("threads", FieldKind.Gauge, "count"),
            new("open_fds", FieldKind.Gauge, "count"), new("children", FieldKind.Gauge, "count"),
        ], Realistic: true, HasMonotonicClock: false, "host process statistics (all processes)"),
        new ChannelSpec("disk", [
            new("read_bytes", FieldKind.Counter, "bytes"), new("write_bytes", FieldKind.Counter, "bytes"),
        ], Realistic: true, HasMonotonicClock: false, "host disk I/O byte counters since boot"),
        new ChannelSpec("sock", [
            new("tcp_established", FieldKind.Gauge, "count"), new("tcp_listen", FieldKind.Gauge, "count"), new("udp", FieldKind.Gauge, "count"),
        ], Realistic: true, HasMonotonicClock: false, "host socket and connection counts"),
        new ChannelSpec("netflow", [
            new("bytes", FieldKind.Gauge, "bytes/interval"), new("packets", FieldKind.Gauge, "packets/interval"), new("flows", FieldKind.Gauge, "flows/interval"),
            new("dst_ports", FieldKind.Gauge, "distinct/interval"), new("dst_addrs", FieldKind.Gauge, "distinct/interval"),
        ], Realistic: true, HasMonotonicClock: true, "bridge pcap aggregated per interval; t_mono_ns is the capture box's uptime"),
        new ChannelSpec("sample_tree", [
            new("procs", FieldKind.Gauge, "count"), new("threads", FieldKind.Gauge, "count"),
            new("cpu_pct", FieldKind.Gauge, "%"), new("rss_mb", FieldKind.Gauge, "MiB"),
        ], Realistic: false, HasMonotonicClock: false, "the sample's own process tree (lab instrumentation only)"),
    ]);

    public static readonly IReadOnlyList<string> Modes = ["realistic", "oracle"];

    public ChannelSpec? Find(string name) => Channels.FirstOrDefault(c => c.Name == name);

    /// <summary>Channels a mode may read: realistic ones for <c>realistic</c>, all for <c>oracle</c>.</summary>
    public IEnumerable<ChannelSpec> ChannelsFor(string mode) => mode switch
    {
        "realistic" => Channels.Where(c => c.Realistic),
        "oracle" => Channels,
        _ => throw new ArgumentException($"unknown mode '{mode}' (known: realistic, oracle)"),
    };

    /// <summary>Every (channel, field) in registry order: the tensor channel axis.</summary>
    public IReadOnlyList<(ChannelSpec Channel, FieldSpec Field)> AllFields =>
        Channels.SelectMany(c => c.Fields.Select(f => (c, f))).ToList();

    /// <summary>sha256 of everything that shapes the data: version, channels, fields, kinds and modes.</summary>
    public string Sha256()
    {
        var sb = new StringBuilder(Version).Append('\n');
        foreach (var c in Channels)
        {
            sb.Append(c.Name).Append(c.Realistic ? " realistic" : " oracle").Append(c.HasMonotonicClock ? " mono" : "").Append('\n');
            foreach (var f in c.Fields) sb.Append("  ").Append(f.Name).Append(' ').Append(f.Kind).Append('\n');
        }
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())));
    }
}
