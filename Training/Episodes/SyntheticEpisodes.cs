using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Cis490.Training.Episodes;

/// <summary>A malware behaviour profile: which samples run it and how strongly it moves each channel once infecting.</summary>
public sealed record Profile(string Name, IReadOnlyList<string> Samples, string Description);

/// <summary>Writes a deterministic synthetic episode data set with the structure of the research group's recordings
/// (Training/EPISODES.md, "The synthetic set"): two hosts with different baselines, six profiles and twelve samples,
/// a degraded host that never runs scan-and-dial and mostly lacks netflow, rare armed/infecting phases, noise.</summary>
public static class SyntheticEpisodes
{
    public const string Laptop = "elliott-thinkpad";
    public const string GamingPc = "k-gamingcom";
    public static readonly IReadOnlyList<string> Hosts = [Laptop, GamingPc];

    public static readonly IReadOnlyList<Profile> Profiles =
    [
        new("scan-and-dial", ["mirai-a", "mirai-b", "gafgyt-c"], "scans for open ports, dials out to many addresses"),
        new("cpu-saturate", ["xmrig-d"], "a miner: saturates the CPU"),
        new("low-and-slow", ["tsunami-e"], "a quiet beacon: a trickle of traffic to a few addresses"),
        new("io-walk", ["ransom-f", "ransom-g", "wiper-h"], "walks the file system reading and rewriting files"),
        new("exfil-burst", ["stealer-i", "stealer-j"], "reads documents, then ships them out in bursts"),
        new("fork-storm", ["forkbomb-k", "forkbomb-l"], "spawns processes and threads"),
    ];

    /// <summary>Probability that an episode of the degraded host has no netflow file.</summary>
    public const double DegradedNetflowLoss = 0.8;

    private const int Seconds = 240;
    private static readonly DateTimeOffset Epoch = new(2025, 3, 1, 8, 0, 0, TimeSpan.Zero);

    /// <summary>Writes <paramref name="episodes"/> episode files to <paramref name="outDir"/>; same (count, seed, difficulty) →
    /// byte-identical files. <paramref name="difficulty"/> defaults to <see cref="GeneratorDifficulty.Default"/>.</summary>
    public static IReadOnlyList<string> Generate(string outDir, int episodes, int seed, Action<int>? progress = null,
        GeneratorDifficulty? difficulty = null)
    {
        if (episodes < 1) throw new ArgumentOutOfRangeException(nameof(episodes), episodes, "at least one episode");
        var knobs = (difficulty ?? GeneratorDifficulty.Default).Validated();
        Directory.CreateDirectory(outDir);
        var paths = new string[episodes];
        var done = 0;
        // Each episode has its own generator seeded from (seed, index): order and parallelism cannot change the bytes.
        Parallel.For(0, episodes, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
        {
            paths[i] = WriteEpisode(outDir, i, seed, knobs);
            var n = Interlocked.Increment(ref done);
            if (progress is not null && (n % 500 == 0 || n == episodes)) progress(n);
        });
        return paths;
    }

    /// <summary>The plan of episode <paramref name="index"/>: host, profile, sample, timeline, channels.</summary>
    public static EpisodeMeta Plan(int index, int seed, Random rng)
    {
        var host = rng.NextDouble() < 0.6 ? Laptop : GamingPc;
        var profiles = host == GamingPc ? Profiles.Where(p => p.Name != "scan-and-dial").ToList() : Profiles.ToList();
        var profile = profiles[rng.Next(profiles.Count)];
        var sample = profile.Samples[rng.Next(profile.Samples.Count)];
        var start = Epoch.AddSeconds(index * 300.0).ToUnixTimeMilliseconds() * 1_000_000L;
        var clean = rng.Next(50, 90);
        var armed = rng.Next(6, 14);
        var infecting = rng.Next(6, 14);
        var phases = new List<PhaseSpan>
        {
            new("clean", start),
            new("armed", start + clean * 1_000_000_000L),
            new("infecting", start + (clean + armed) * 1_000_000_000L),
            new("infected_running", start + (clean + armed + infecting) * 1_000_000_000L),
        };
        var channels = ChannelRegistry.Default.Channels.Select(c => c.Name)
            .Where(c => !(c == "netflow" && host == GamingPc && rng.NextDouble() < DegradedNetflowLoss))
            .ToList();
        var id = $"ep{seed}-{index:D6}";
        return new EpisodeMeta(EpisodeMeta.CurrentFormat, id, host, profile.Name, sample, start, start + Seconds * 1_000_000_000L, phases, channels);
    }

    private static string WriteEpisode(string outDir, int index, int seed, GeneratorDifficulty knobs)
    {
        var rng = new Random(DeriveSeed(seed, index));
        var meta = Plan(index, seed, rng);
        // The difficulty knobs draw from their own stream, so the legacy knobs leave the main stream (and the bytes) as they were.
        var knobRng = new Random(DeriveSeed(seed, index) ^ 0x6b6e6f62);
        var behaviour = knobs.LabelNoise > 0 ? Misalign(meta, knobs.LabelNoise, knobRng) : meta;
        var strength = 0.6 + 0.8 * Unit(meta.Sample); // each sample its own intensity
        var files = new Dictionary<string, byte[]>();
        foreach (var channel in ChannelRegistry.Default.Channels.Where(c => meta.Channels.Contains(c.Name)))
            files[channel.FileName] = Render(channel, meta, behaviour, strength, rng, knobs, knobRng);
        var path = Path.Combine(outDir, meta.EpisodeId + EpisodeArchive.Extension);
        EpisodeArchive.Write(path, meta, files);
        return path;
    }

    /// <summary>The behaviour's timeline: each boundary of the label timeline moved by a uniform offset in ±<paramref name="noise"/> s
    /// (kept at least a second after the previous one).</summary>
    private static EpisodeMeta Misalign(EpisodeMeta meta, double noise, Random knobRng)
    {
        var phases = new List<PhaseSpan> { meta.Phases[0] };
        for (var i = 1; i < meta.Phases.Count; i++)
        {
            var shifted = meta.Phases[i].StartNs + (long)((knobRng.NextDouble() * 2 - 1) * noise * 1e9);
            phases.Add(meta.Phases[i] with { StartNs = Math.Max(shifted, phases[^1].StartNs + 1_000_000_000L) });
        }
        return meta with { Phases = phases };
    }

    private static byte[] Render(ChannelSpec channel, EpisodeMeta meta, EpisodeMeta behaviour, double strength, Random rng,
        GeneratorDifficulty knobs, Random knobRng)
    {
        var buffer = new ArrayBufferWriter<byte>(64 * 1024);
        using var w = new Utf8JsonWriter(buffer);
        var values = new double[channel.Fields.Count];
        var counters = new double[channel.Fields.Count];
        var drift = new double[channel.Fields.Count];
        var offsetNs = (long)(rng.NextDouble() * 400_000_000); // each recorder samples at its own phase within the second
        var monoBase = (long)(rng.Next(1_000, 900_000) * 1e9);   // netflow's clock: the capture box's uptime
        var resetAt = channel.Name == "disk" && rng.NextDouble() < 0.05 ? rng.Next(20, Seconds - 20) : -1; // a counter wrap now and then
        var baseline = new double[channel.Fields.Count];
        for (var f = 0; f < channel.Fields.Count; f++)
            baseline[f] = Baseline(meta.HostId, channel.Name, channel.Fields[f].Name, knobs)
                          * (knobs.EpisodeSpread > 0 ? Math.Exp(knobs.EpisodeSpread * Gaussian(knobRng)) : 1);
        var oracle = channel.Name == "sample_tree";
        var overlapNs = (long)(knobs.PhaseOverlap * 1e9);
        for (var s = 0; s < Seconds; s++)
        {
            var t = meta.StartNs + s * 1_000_000_000L + offsetNs + (long)((rng.NextDouble() - 0.5) * 60_000_000);
            for (var f = 0; f < channel.Fields.Count; f++)
            {
                drift[f] = 0.9 * drift[f] + 0.1 * Gaussian(rng);
                var effect = EffectAt(meta.Profile, behaviour, t, overlapNs, channel.Name, channel.Fields[f].Name);
                if (oracle) effect *= knobs.OracleSignal;
                var level = baseline[f] * Math.Exp(0.12 * drift[f] + 0.08 * Gaussian(rng))
                            + effect * strength * Math.Exp(0.25 * Gaussian(rng));
                // The tracker's mis-attributed processes come and go second by second, much noisier than a host's own load.
                if (oracle && knobs.OracleSignal < 1) level *= Math.Exp(0.6 * Gaussian(knobRng));
                level = Math.Max(0, level);
                if (channel.Fields[f].Kind == FieldKind.Counter)
                {
                    if (s == resetAt) counters[f] = 0;
                    counters[f] += level; // level is a per-second rate for counters
                    values[f] = counters[f];
                }
                else values[f] = level;
            }
            long? mono = channel.HasMonotonicClock ? monoBase + (t - meta.StartNs) : null;
            EpisodeArchive.WriteRecord(w, t, mono, channel.Fields, values);
            buffer.Write("\n"u8);
            w.Reset(buffer);
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The effect in force at <paramref name="t"/> on the behaviour's timeline: within <paramref name="overlapNs"/> of a
    /// boundary, a linear blend from the previous phase's effect to the new one's.</summary>
    private static double EffectAt(string profile, EpisodeMeta behaviour, long t, long overlapNs, string channel, string field)
    {
        var k = 0;
        while (k + 1 < behaviour.Phases.Count && behaviour.Phases[k + 1].StartNs <= t) k++;
        var current = Effect(profile, behaviour.Phases[k].Phase, channel, field);
        var since = t - behaviour.Phases[k].StartNs;
        if (k == 0 || overlapNs <= 0 || since >= overlapNs) return current;
        var w = since / (double)overlapNs;
        return (1 - w) * Effect(profile, behaviour.Phases[k - 1].Phase, channel, field) + w * current;
    }

    /// <summary>Normal level of a field on a host: the laptop's, or the gaming PC's moved <see cref="GeneratorDifficulty.HostShift"/>
    /// of the way (in log space) to its legacy level; the oracle channel's mis-attributed background.</summary>
    private static double Baseline(string host, string channel, string field, GeneratorDifficulty knobs)
    {
        if (channel == "sample_tree")
            return (1 - knobs.OracleSignal) * field switch { "procs" => 3, "threads" => 14, "cpu_pct" => 8, "rss_mb" => 90, _ => 0 };
        var laptop = LegacyBaseline(false, channel, field);
        if (host != GamingPc) return laptop;
        var big = LegacyBaseline(true, channel, field);
        return knobs.HostShift == 1 ? big : laptop * Math.Pow(big / laptop, knobs.HostShift);
    }

    /// <summary>Per-host normal level of a field in the legacy generator; the gaming PC is bigger and busier than the laptop.</summary>
    private static double LegacyBaseline(bool big, string channel, string field)
    {
        return (channel, field) switch
        {
            ("proc", "cpu_pct") => big ? 22 : 7,
            ("proc", "rss_mb") => big ? 9000 : 3200,
            ("proc", "threads") => big ? 2400 : 900,
            ("proc", "open_fds") => big ? 6500 : 2400,
            ("proc", "children") => big ? 310 : 170,
            ("disk", "read_bytes") => big ? 4e6 : 6e5,
            ("disk", "write_bytes") => big ? 2e6 : 3e5,
            ("sock", "tcp_established") => big ? 95 : 30,
            ("sock", "tcp_listen") => big ? 40 : 12,
            ("sock", "udp") => big ? 60 : 15,
            ("netflow", "bytes") => big ? 9e5 : 1.5e5,
            ("netflow", "packets") => big ? 900 : 160,
            ("netflow", "flows") => big ? 45 : 12,
            ("netflow", "dst_ports") => big ? 14 : 6,
            ("netflow", "dst_addrs") => big ? 20 : 8,
            _ => throw new ArgumentException($"no baseline for {channel}.{field}"),
        };
    }

    /// <summary>What a phase of a profile adds to a field. Armed: the sample sits there; infecting: it drops and spreads;
    /// infected_running: the profile's behaviour at full strength.</summary>
    private static double Effect(string profile, string phase, string channel, string field)
    {
        if (phase == "clean") return 0;
        if (channel == "sample_tree")
            return (phase, field) switch
            {
                ("armed", "procs") => 1,
                ("armed", "threads") => 2,
                ("armed", "cpu_pct") => 0.5,
                ("armed", "rss_mb") => 8,
                ("infecting", "procs") => 3,
                ("infecting", "threads") => 12,
                ("infecting", "cpu_pct") => 15,
                ("infecting", "rss_mb") => 60,
                (_, "procs") => profile == "fork-storm" ? 60 : 4,
                (_, "threads") => profile == "fork-storm" ? 300 : 20,
                (_, "cpu_pct") => profile == "cpu-saturate" ? 180 : 12,
                (_, "rss_mb") => 120,
                _ => 0,
            };
        if (phase == "armed")
            return (channel, field) switch { ("proc", "children") => 1, ("proc", "open_fds") => 8, ("proc", "cpu_pct") => 0.8, _ => 0 };
        if (phase == "infecting")
            return (channel, field) switch
            {
                ("disk", "write_bytes") => 2.5e6,
                ("proc", "cpu_pct") => 9,
                ("proc", "children") => 3,
                ("proc", "threads") => 25,
                ("sock", "tcp_established") => 4,
                ("netflow", "bytes") => 2e5,
                ("netflow", "flows") => 6,
                _ => 0,
            };
        return (profile, channel, field) switch
        {
            ("scan-and-dial", "netflow", "flows") => 160,
            ("scan-and-dial", "netflow", "dst_ports") => 90,
            ("scan-and-dial", "netflow", "dst_addrs") => 140,
            ("scan-and-dial", "netflow", "packets") => 700,
            ("scan-and-dial", "sock", "tcp_established") => 35,
            ("cpu-saturate", "proc", "cpu_pct") => 55,
            ("cpu-saturate", "proc", "threads") => 16,
            ("low-and-slow", "netflow", "bytes") => 2e4,
            ("low-and-slow", "netflow", "dst_addrs") => 2,
            ("low-and-slow", "sock", "tcp_established") => 2,
            ("io-walk", "disk", "read_bytes") => 2.5e7,
            ("io-walk", "disk", "write_bytes") => 1.8e7,
            ("io-walk", "proc", "open_fds") => 350,
            ("io-walk", "proc", "cpu_pct") => 12,
            ("exfil-burst", "netflow", "bytes") => 4e6,
            ("exfil-burst", "netflow", "packets") => 3000,
            ("exfil-burst", "disk", "read_bytes") => 6e6,
            ("exfil-burst", "sock", "tcp_established") => 6,
            ("fork-storm", "proc", "children") => 70,
            ("fork-storm", "proc", "threads") => 380,
            ("fork-storm", "proc", "cpu_pct") => 20,
            ("fork-storm", "proc", "rss_mb") => 700,
            (_, "proc", "cpu_pct") => 3,
            (_, "proc", "children") => 2,
            _ => 0,
        };
    }

    private static int DeriveSeed(int seed, int index) =>
        BitConverter.ToInt32(SHA256.HashData(Encoding.UTF8.GetBytes($"episode:{seed}:{index}")), 0);

    private static double Unit(string name) =>
        BitConverter.ToUInt32(SHA256.HashData(Encoding.UTF8.GetBytes(name)), 0) / (double)uint.MaxValue;

    private static double Gaussian(Random rng)
    {
        var u1 = 1.0 - rng.NextDouble();
        var u2 = rng.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }
}
