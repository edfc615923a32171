using Cis490.Training.Episodes;

namespace Cis490.Training.Tests;

/// <summary>The generator: deterministic bytes, and the structure of the research group's recordings (Training/EPISODES.md).</summary>
[Collection(SyntheticBuildCollection.Name)]
public class SyntheticEpisodesTests(SyntheticBuild build)
{
    private const string Laptop = SyntheticEpisodes.Laptop;
    private const string GamingPc = SyntheticEpisodes.GamingPc;

    [Fact]
    public void The_same_count_and_seed_write_byte_identical_files()
    {
        // Episodes are written in parallel; each has its own random stream, so thread timing must not reach the bytes.
        using var tmp = new TempDir();
        var a = SyntheticEpisodes.Generate(tmp.Combine("a"), 16, 5);
        var b = SyntheticEpisodes.Generate(tmp.Combine("b"), 16, 5);

        Assert.Equal(a.Select(Path.GetFileName), b.Select(Path.GetFileName));
        var files = Directory.GetFiles(tmp.Combine("a")).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(files, Directory.GetFiles(tmp.Combine("b")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(16, files.Count);
        Assert.All(files, f => Assert.True(File.ReadAllBytes(tmp.Combine("a", f!)).AsSpan().SequenceEqual(File.ReadAllBytes(tmp.Combine("b", f!))), $"{f} differs"));
    }

    [Fact]
    public void Another_seed_writes_different_episodes()
    {
        using var tmp = new TempDir();
        var a = SyntheticEpisodes.Generate(tmp.Combine("a"), 4, 5);
        var b = SyntheticEpisodes.Generate(tmp.Combine("b"), 4, 6);
        for (var i = 0; i < a.Count; i++)
        {
            var procA = EpisodeKit.Entries(a[i]).Single(e => e.Name == "proc.jsonl").Bytes;
            var procB = EpisodeKit.Entries(b[i]).Single(e => e.Name == "proc.jsonl").Bytes;
            Assert.False(procA.AsSpan().SequenceEqual(procB), $"episode {i} has the same proc readings under seeds 5 and 6");
        }
    }

    [Fact]
    public void A_count_below_one_is_refused()
    {
        using var tmp = new TempDir();
        Assert.Throws<ArgumentOutOfRangeException>(() => SyntheticEpisodes.Generate(tmp.Combine("x"), 0, 1));
    }

    [Fact]
    public void Both_hosts_appear_with_about_the_declared_shares()
    {
        var laptop = build.Metas.Count(m => m.HostId == Laptop);
        Assert.Equal(build.Metas.Count, laptop + build.Metas.Count(m => m.HostId == GamingPc));
        Assert.InRange(laptop / (double)build.Metas.Count, 0.5, 0.7); // 60 % declared
    }

    [Fact]
    public void The_gaming_pc_never_runs_scan_and_dial()
    {
        Assert.Contains(build.Metas, m => m.Profile == "scan-and-dial"); // so the absence below means something
        Assert.DoesNotContain(build.Metas, m => m.HostId == GamingPc && m.Profile == "scan-and-dial");
    }

    [Fact]
    public void Most_gaming_pc_episodes_lack_netflow_while_every_laptop_episode_has_it()
    {
        var gaming = build.Metas.Where(m => m.HostId == GamingPc).ToList();
        var lacking = gaming.Count(m => !m.Channels.Contains("netflow"));
        Assert.InRange(lacking / (double)gaming.Count, 0.65, 0.95); // 80 % declared
        Assert.All(build.Metas.Where(m => m.HostId == Laptop), m => Assert.Contains("netflow", m.Channels));
        // Nothing else is ever missing: netflow is the one degraded channel.
        Assert.All(build.Metas, m => Assert.Equal(ChannelRegistry.Default.Channels.Select(c => c.Name).Where(c => c != "netflow"),
            m.Channels.Where(c => c != "netflow")));
    }

    [Fact]
    public void Six_profiles_and_twelve_samples_appear_and_the_single_sample_profiles_have_exactly_one()
    {
        Assert.Equal(SyntheticEpisodes.Profiles.Select(p => p.Name).Order(), build.Metas.Select(m => m.Profile).Distinct().Order());
        Assert.Equal(6, build.Metas.Select(m => m.Profile).Distinct().Count());
        Assert.Equal(12, build.Metas.Select(m => m.Sample).Distinct().Count());
        Assert.Equal(["xmrig-d"], build.Metas.Where(m => m.Profile == "cpu-saturate").Select(m => m.Sample).Distinct());
        Assert.Equal(["tsunami-e"], build.Metas.Where(m => m.Profile == "low-and-slow").Select(m => m.Sample).Distinct());
        // A sample belongs to one profile only.
        Assert.All(build.Metas.GroupBy(m => m.Sample), g => Assert.Single(g.Select(m => m.Profile).Distinct()));
    }

    [Fact]
    public void Phases_run_clean_armed_infecting_infected_running_with_the_declared_lengths()
    {
        Assert.All(build.Metas, m =>
        {
            Assert.Equal(["clean", "armed", "infecting", "infected_running"], m.Phases.Select(p => p.Phase));
            Assert.Equal(m.StartNs, m.Phases[0].StartNs);
            Assert.Equal(240, m.DurationSeconds);
            var lengths = m.Phases.Zip(m.Phases.Skip(1), (a, b) => (b.StartNs - a.StartNs) / (double)EpisodeKit.Second).ToArray();
            Assert.InRange(lengths[0], 50, 90);
            Assert.InRange(lengths[1], 6, 14);
            Assert.InRange(lengths[2], 6, 14);
        });
    }
}
