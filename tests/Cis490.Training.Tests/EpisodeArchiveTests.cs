using Cis490.Training.Episodes;

namespace Cis490.Training.Tests;

/// <summary>Decoding good episode files: every listed channel, every record, both clocks as written.</summary>
public class EpisodeArchiveTests
{
    /// <summary>A generated episode with the netflow channel (laptop episodes always have it).</summary>
    private static string EpisodeWithNetflow(TempDir tmp)
    {
        var paths = SyntheticEpisodes.Generate(tmp.Path, 6, 11);
        return paths.First(p => EpisodeArchive.Read(p, ChannelRegistry.Default).Data!.Meta.Channels.Contains("netflow"));
    }

    [Fact]
    public void A_generated_episode_decodes_with_every_listed_channel_and_one_record_per_second()
    {
        using var tmp = new TempDir();
        var read = EpisodeArchive.Read(EpisodeWithNetflow(tmp), ChannelRegistry.Default);

        Assert.True(read.Ok, string.Join("; ", read.Problems));
        Assert.Null(read.ProblemKind);
        Assert.Empty(read.Warnings);
        var data = read.Data!;
        Assert.Equal(ChannelRegistry.Default.Channels.Select(c => c.Name).Order(), data.Channels.Keys.Order());
        Assert.Equal(data.Meta.Channels.Order(), data.Channels.Keys.Order());
        foreach (var (name, series) in data.Channels)
        {
            Assert.Equal(240, series.Count);
            Assert.Equal(EpisodeKit.Channel(name).Fields.Count, series.Fields.Length);
            Assert.All(series.Fields, f => Assert.Equal(240, f.Length));
            Assert.All(series.Fields, f => Assert.DoesNotContain(f, double.IsNaN)); // the generator writes every field
            Assert.All(series.TWallNs, t => Assert.InRange(t, data.Meta.StartNs - EpisodeKit.Second, data.Meta.EndNs));
        }
    }

    [Fact]
    public void Only_netflow_carries_t_mono_ns_and_it_is_the_capture_box_uptime_not_the_wall_clock()
    {
        using var tmp = new TempDir();
        var data = EpisodeArchive.Read(EpisodeWithNetflow(tmp), ChannelRegistry.Default).Data!;

        Assert.All(data.Channels.Where(c => c.Key != "netflow"), c => Assert.Null(c.Value.TMonoNs));
        var netflow = data.Channels["netflow"];
        var mono = Assert.IsType<long[]>(netflow.TMonoNs);
        Assert.Equal(netflow.Count, mono.Length);
        // Uptime: days, not the 55 years since 1970 that the wall clock counts; and a clock: it only moves forward.
        Assert.All(mono, m => Assert.InRange(m, 0L, 30L * 24 * 3600 * EpisodeKit.Second));
        Assert.All(netflow.TWallNs, t => Assert.True(t > 50L * 365 * 24 * 3600 * EpisodeKit.Second));
        Assert.True(mono.Zip(mono.Skip(1)).All(p => p.Second > p.First));
    }

    [Fact]
    public void Writing_the_same_episode_twice_gives_the_same_bytes()
    {
        using var tmp = new TempDir();
        var meta = EpisodeKit.Meta(5, ["proc"]);
        var files = new Dictionary<string, byte[]> { ["proc.jsonl"] = EpisodeKit.Steady("proc", 5, 0, s => s) };
        EpisodeArchive.Write(tmp.Combine("a.tar.zst"), meta, files);
        EpisodeArchive.Write(tmp.Combine("b.tar.zst"), meta, files);
        Assert.Equal(File.ReadAllBytes(tmp.Combine("a.tar.zst")), File.ReadAllBytes(tmp.Combine("b.tar.zst")));
    }

    [Fact]
    public void A_field_missing_from_a_line_decodes_as_NaN_and_a_file_not_listed_is_only_a_warning()
    {
        using var tmp = new TempDir();
        var proc = EpisodeKit.Channel("proc");
        var lines = EpisodeKit.Jsonl(proc, [(EpisodeKit.T0, null, [1, 2, 3, 4, 5])]).Concat(
            EpisodeKit.Jsonl(new ChannelSpec("proc", [proc.Fields[0]], true, false, ""), [(EpisodeKit.T0 + EpisodeKit.Second, null, [9])])).ToArray();
        var path = tmp.Combine("e.tar.zst");
        EpisodeArchive.Write(path, EpisodeKit.Meta(2, ["proc"]),
            new Dictionary<string, byte[]> { ["proc.jsonl"] = lines, ["notes.txt"] = "hello"u8.ToArray() });

        var read = EpisodeArchive.Read(path, ChannelRegistry.Default);

        Assert.True(read.Ok, string.Join("; ", read.Problems));
        var series = read.Data!.Channels["proc"];
        Assert.Equal([1, 9], series.Fields[0]);
        Assert.Equal(2, series.Fields[1][0]);
        Assert.True(double.IsNaN(series.Fields[1][1]));
        Assert.Contains(read.Warnings, w => w.Contains("notes.txt"));
    }
}
