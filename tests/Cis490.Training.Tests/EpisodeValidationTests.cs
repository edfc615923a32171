using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cis490.Training.Data;
using Cis490.Training.Episodes;
using Cis490.Training.Features;
using Cis490.Training.Formats;

namespace Cis490.Training.Tests;

/// <summary>Damaged episodes: the reader names the problem kind, and the build skips and counts each instead of failing.</summary>
public class EpisodeValidationTests
{
    public static TheoryData<string> Kinds() => [.. Corruptions.ByKind.Keys];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Each_kind_of_damage_is_reported_with_its_kind_and_no_data(string kind)
    {
        using var tmp = new TempDir();
        var path = SyntheticEpisodes.Generate(tmp.Path, 1, 3)[0];
        Assert.True(EpisodeArchive.Read(path, ChannelRegistry.Default).Ok); // damage, not the generator, makes it fail

        Corruptions.ByKind[kind](path);
        var read = EpisodeArchive.Read(path, ChannelRegistry.Default);

        Assert.False(read.Ok);
        Assert.Null(read.Data);
        Assert.Equal(kind, read.ProblemKind);
        Assert.All(read.Problems, p => Assert.StartsWith(kind + ":", p)); // one cause, not a cascade of follow-on problems
    }

    [Fact]
    public void Damage_anywhere_in_the_compressed_data_is_corrupt_zstd_never_a_misleading_later_kind()
    {
        // Without the frame checksum, and decoding the whole frame before the tar, about a third of these decode to
        // garbage that then passes for a truncated tar, a torn line or a clock gap.
        using var tmp = new TempDir();
        var path = SyntheticEpisodes.Generate(tmp.Path, 1, 3)[0];
        var good = File.ReadAllBytes(path);
        for (var k = 1; k < 20; k++)
        {
            var bytes = (byte[])good.Clone();
            for (var i = 0; i < 16; i++) bytes[bytes.Length * k / 20 + i] ^= 0xFF;
            File.WriteAllBytes(path, bytes);
            Assert.Equal((k, "corrupt_zstd"), (k, EpisodeArchive.Read(path, ChannelRegistry.Default).ProblemKind));
        }
        File.WriteAllBytes(path, good[..(good.Length / 2)]); // a file cut short: the zstd frame ends early
        Assert.Equal("corrupt_zstd", EpisodeArchive.Read(path, ChannelRegistry.Default).ProblemKind);
    }

    [Fact]
    public void A_torn_line_names_the_file_and_the_line()
    {
        using var tmp = new TempDir();
        var path = SyntheticEpisodes.Generate(tmp.Path, 1, 3)[0];
        Corruptions.ByKind["torn_line"](path);
        Assert.Contains("proc.jsonl:240", EpisodeArchive.Read(path, ChannelRegistry.Default).Problems[0]);
    }

    [Fact]
    public void A_gap_or_a_step_back_within_the_limits_is_accepted()
    {
        // 29 s without records and a 0.5 s step back are inside the limits (30 s, 1 s): jitter is normal, not damage.
        using var tmp = new TempDir();
        var path = SyntheticEpisodes.Generate(tmp.Path, 1, 3)[0];
        EpisodeKit.Rewrite(path, "proc.jsonl", bytes => EpisodeKit.MapLines(bytes, (i, o) => i is >= 100 and < 128 ? null : o));
        EpisodeKit.Rewrite(path, "disk.jsonl", bytes => EpisodeKit.MapLines(bytes, (i, o) =>
        {
            if (i == 150) o["t_wall_ns"] = o["t_wall_ns"]!.GetValue<long>() - EpisodeKit.Second - EpisodeKit.Second / 2; // 0.5 s behind its predecessor
            return o;
        }));
        var read = EpisodeArchive.Read(path, ChannelRegistry.Default);
        Assert.True(read.Ok, string.Join("; ", read.Problems));
    }

    [Fact]
    public void An_episode_without_profile_or_sample_is_bad_meta_and_the_build_goes_on()
    {
        // Every window row carries profile and sample: an episode without them must be skipped, not abort the build.
        using var tmp = new TempDir();
        var paths = SyntheticEpisodes.Generate(tmp.Combine("episodes"), 3, 3);
        EpisodeKit.Rewrite(paths[1], EpisodeMeta.FileName, bytes =>
        {
            var meta = JsonNode.Parse(bytes)!.AsObject();
            meta.Remove("profile");
            return Encoding.UTF8.GetBytes(meta.ToJsonString());
        });
        Assert.Equal("bad_meta", EpisodeArchive.Read(paths[1], ChannelRegistry.Default).ProblemKind);

        var summary = DataBuilder.Build(new BuildOptions(tmp.Combine("episodes"), tmp.Combine("out"), new WindowSettings()));

        Assert.Equal((3, 2, 1), (summary.EpisodesSeen, summary.EpisodesUsed, summary.EpisodesBad));
        Assert.Equal(2 * BuiltData.WindowsPerEpisode, FeatureParquetReader.CountRows(tmp.Combine("out", FeatureTable.FileName)));
    }

    [Fact]
    public void The_build_skips_and_counts_every_bad_episode_by_kind_and_still_writes_the_good_ones()
    {
        using var tmp = new TempDir();
        var episodes = tmp.Combine("episodes");
        var kinds = Corruptions.ByKind.Keys.ToList();
        const int good = 20;
        var paths = SyntheticEpisodes.Generate(episodes, good + kinds.Count, 21);
        for (var i = 0; i < kinds.Count; i++) Corruptions.ByKind[kinds[i]](paths[i]);
        var logged = new List<string>();

        var summary = DataBuilder.Build(new BuildOptions(episodes, tmp.Combine("out"), new WindowSettings()), logged.Add);

        Assert.Equal(good + kinds.Count, summary.EpisodesSeen);
        Assert.Equal(good, summary.EpisodesUsed);
        Assert.Equal(kinds.Count, summary.EpisodesBad);
        Assert.Equal(kinds.Order(), summary.BadByKind.Keys.Order());
        Assert.All(summary.BadByKind.Values, n => Assert.Equal(1, n));
        Assert.Equal(kinds.Count / (double)(good + kinds.Count), summary.BadFraction, 12);
        // Each skipped file is listed with the problem that made it bad.
        for (var i = 0; i < kinds.Count; i++)
        {
            var bad = Assert.Single(summary.Bad, b => b.File == Path.GetFileName(paths[i]));
            Assert.StartsWith(kinds[i] + ":", bad.Problems[0]);
            Assert.Contains(logged, l => l.Contains(Path.GetFileName(paths[i])));
        }
        Assert.Equal(good * BuiltData.WindowsPerEpisode, summary.Windows);
        Assert.Equal(summary.Windows, FeatureParquetReader.CountRows(tmp.Combine("out", FeatureTable.FileName)));
    }

    [Fact]
    public void The_build_leaves_the_bad_fraction_limit_to_the_command_line()
    {
        // 2 bad of 4 is far over the default 5 %, yet Build returns normally and the summary file says how bad it was.
        using var tmp = new TempDir();
        var paths = SyntheticEpisodes.Generate(tmp.Combine("episodes"), 4, 22);
        Corruptions.ByKind["torn_line"](paths[0]);
        Corruptions.ByKind["corrupt_zstd"](paths[3]);

        var summary = DataBuilder.Build(new BuildOptions(tmp.Combine("episodes"), tmp.Combine("out"), new WindowSettings(), MaxBadFraction: 0.05));

        Assert.Equal(0.5, summary.BadFraction);
        using var file = JsonDocument.Parse(File.ReadAllText(tmp.Combine("out", BuildSummary.FileName)));
        Assert.Equal(0.5, file.RootElement.GetProperty("bad_fraction").GetDouble());
        Assert.Equal(1, file.RootElement.GetProperty("bad_by_kind").GetProperty("torn_line").GetInt32());
        Assert.Equal(2, file.RootElement.GetProperty("bad").GetArrayLength());
    }
}
