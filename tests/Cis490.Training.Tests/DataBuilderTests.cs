using Cis490.Training.Data;
using Cis490.Training.Episodes;
using Cis490.Training.Features;
using Cis490.Training.Formats;

namespace Cis490.Training.Tests;

/// <summary>The build's outputs: one Parquet row per window, per-host tensor shards that point back at those rows, and
/// NaN features / zero mask for a channel an episode lacks.</summary>
[Collection(SyntheticBuildCollection.Name)]
public class DataBuilderTests(SyntheticBuild build)
{
    private static readonly IReadOnlyList<string> TensorChannels = FeatureSchema.For(ChannelRegistry.Default, new WindowSettings()).TensorChannels;

    private sealed record Shard(int Rows, float[] X, byte[] Mask, long[] Y, long[] Row, int[] XShape);

    private static Shard ReadShard(string path)
    {
        using var npz = NpzReader.Open(path);
        var x = npz.Read("x");
        var mask = npz.Read("mask");
        var y = NpyReader.ToInt64s(npz.Read("y"));
        Assert.Equal(x.Shape, mask.Shape);
        return new Shard(y.Length, NpyReader.ToSingles(x), NpyReader.ToBytes(mask), y, NpyReader.ToInt64s(npz.Read("row")), x.Shape);
    }

    [Fact]
    public void Every_episode_gives_22_windows_and_the_parquet_row_count_is_the_sum_of_the_shards()
    {
        var parquet = Path.Combine(build.DataDir, FeatureTable.FileName);
        Assert.Equal((build.Episodes, build.Episodes, 0), (build.Summary.EpisodesSeen, build.Summary.EpisodesUsed, build.Summary.EpisodesBad));
        Assert.Equal(build.Episodes * BuiltData.WindowsPerEpisode, build.Summary.Windows);
        Assert.Equal(build.Summary.Windows, FeatureParquetReader.CountRows(parquet));

        var shards = Directory.GetFiles(Path.Combine(build.DataDir, DataBuilder.TensorsDir));
        Assert.Equal(SyntheticEpisodes.Hosts.Select(h => h + ".npz").Order(), shards.Select(Path.GetFileName).Order());
        Assert.Equal(build.Summary.Windows, shards.Sum(s => (long)ReadShard(s).Rows));
        Assert.Equal(build.Summary.WindowsPerHost.Values.Sum(), build.Summary.Windows);
        Assert.Equal(build.Summary.WindowsPerClass.Values.Sum(), build.Summary.Windows);
        Assert.True(File.Exists(Path.Combine(build.DataDir, BuildSummary.FileName)));
        Assert.True(File.Exists(Path.Combine(build.DataDir, FeatureSchema.FileName)));
    }

    [Fact]
    public void Every_tensor_row_points_at_a_parquet_row_of_its_host_and_label()
    {
        var table = build.Table;
        var seen = new HashSet<long>();
        foreach (var path in Directory.GetFiles(Path.Combine(build.DataDir, DataBuilder.TensorsDir)))
        {
            var host = Path.GetFileNameWithoutExtension(path);
            var shard = ReadShard(path);
            Assert.Equal([shard.Rows, TensorChannels.Count, 30], shard.XShape);
            Assert.Equal(build.Summary.WindowsPerHost[host], shard.Rows);
            for (var i = 0; i < shard.Rows; i++)
            {
                var row = shard.Row[i];
                Assert.InRange(row, 0, table.Rows - 1);
                Assert.True(seen.Add(row), $"parquet row {row} appears in two tensor rows");
                Assert.Equal(host, table.Hosts[row]);
                Assert.Equal(table.Labels[row], shard.Y[i]);
            }
        }
        Assert.Equal(table.Rows, seen.Count);
    }

    [Fact]
    public void The_table_has_the_schema_columns_and_unique_window_ids()
    {
        var schema = FeatureSchema.Load(build.DataDir);
        Assert.Equal(schema.ColumnsFor("oracle"), build.Table.Columns);
        Assert.Equal(build.Table.Rows, build.Table.RowIds.Distinct().Count());
        Assert.Equal(build.Summary.SchemaSha256["oracle"], schema.Sha256For("oracle"));
        Assert.Equal(build.Summary.SchemaSha256["realistic"], schema.Sha256For("realistic"));
    }

    [Fact]
    public void An_episode_without_netflow_has_NaN_netflow_features_and_a_zero_netflow_mask()
    {
        using var tmp = new TempDir();
        var paths = SyntheticEpisodes.Generate(tmp.Combine("episodes"), 6, 12);
        var metas = paths.Select(p => EpisodeArchive.Read(p, ChannelRegistry.Default).Data!.Meta).ToList();
        var withNetflow = metas.FindAll(m => m.Channels.Contains("netflow"));
        Assert.True(withNetflow.Count >= 2, "this seed needs two episodes with netflow: one to strip, one to compare");
        // Strip netflow from a laptop episode: the channel leaves meta.json and the archive, as on the degraded host.
        var stripped = withNetflow[0];
        var path = paths[metas.IndexOf(stripped)];
        var entries = EpisodeKit.Entries(path).Where(e => e.Name != "netflow.jsonl").ToList();
        EpisodeArchive.Write(path, stripped with { Channels = [.. stripped.Channels.Where(c => c != "netflow")] },
            entries.Where(e => e.Name != EpisodeMeta.FileName).ToDictionary(e => e.Name, e => e.Bytes));

        var summary = DataBuilder.Build(new BuildOptions(tmp.Combine("episodes"), tmp.Combine("out"), new WindowSettings()));

        Assert.Equal(0, summary.EpisodesBad);
        var rows = FeatureParquetReader.Read(tmp.Combine("out", FeatureTable.FileName)).ToList();
        var columns = FeatureParquetReader.FeatureColumns(tmp.Combine("out", FeatureTable.FileName));
        var netflowColumns = Enumerable.Range(0, columns.Count).Where(c => columns[c].StartsWith("netflow.", StringComparison.Ordinal)).ToList();
        Assert.Equal(5 * 6, netflowColumns.Count);
        var strippedRows = rows.Where(r => r.EpisodeId == stripped.EpisodeId).ToList();
        Assert.Equal(BuiltData.WindowsPerEpisode, strippedRows.Count);
        Assert.All(strippedRows, r =>
        {
            Assert.True(r.Degraded);
            Assert.All(netflowColumns, c => Assert.True(float.IsNaN(r.Features[c]), $"{columns[c]} of {r.WindowId} is {r.Features[c]}, not NaN"));
            Assert.Contains(r.Features, v => !float.IsNaN(v)); // the other channels are still there
        });
        // An episode that kept netflow has values there: the NaNs above come from the missing channel, not the columns.
        Assert.All(rows.Where(r => r.EpisodeId == withNetflow[1].EpisodeId), r => Assert.False(float.IsNaN(r.Features[netflowColumns[0]])));

        var netflowChannels = Enumerable.Range(0, TensorChannels.Count).Where(c => TensorChannels[c].StartsWith("netflow.", StringComparison.Ordinal)).ToList();
        Assert.Equal(5, netflowChannels.Count);
        var strippedRowIndex = rows.Select((r, i) => (r, i)).Where(p => p.r.EpisodeId == stripped.EpisodeId).Select(p => (long)p.i).ToHashSet();
        var shard = ReadShard(tmp.Combine("out", DataBuilder.TensorsDir, stripped.HostId + ".npz"));
        var checkedRows = 0;
        for (var i = 0; i < shard.Rows; i++)
        {
            var isStripped = strippedRowIndex.Contains(shard.Row[i]);
            checkedRows += isStripped ? 1 : 0;
            foreach (var c in netflowChannels)
                for (var t = 0; t < 30; t++)
                {
                    var at = (i * TensorChannels.Count + c) * 30 + t;
                    if (isStripped) Assert.Equal((0, 0f), (shard.Mask[at], shard.X[at]));
                }
            if (!isStripped && rows[(int)shard.Row[i]].EpisodeId == withNetflow[1].EpisodeId)
                Assert.Contains(netflowChannels, c => shard.Mask[(i * TensorChannels.Count + c) * 30 + 15] == 1);
        }
        Assert.Equal(BuiltData.WindowsPerEpisode, checkedRows);
    }

    [Fact]
    public void Building_twice_gives_the_same_feature_file()
    {
        // The data-set hash in checkpoint lineage is the feature file's sha256: rebuilding must not change it.
        using var tmp = new TempDir();
        SyntheticEpisodes.Generate(tmp.Combine("episodes"), 5, 13);
        DataBuilder.Build(new BuildOptions(tmp.Combine("episodes"), tmp.Combine("a"), new WindowSettings()));
        DataBuilder.Build(new BuildOptions(tmp.Combine("episodes"), tmp.Combine("b"), new WindowSettings()));
        Assert.Equal(FeatureTable.DatasetSha256(tmp.Combine("a")), FeatureTable.DatasetSha256(tmp.Combine("b")));
        var shards = Directory.GetFiles(tmp.Combine("a", DataBuilder.TensorsDir)).Select(Path.GetFileName).ToList();
        Assert.NotEmpty(shards);
        Assert.All(shards, s => Assert.Equal(File.ReadAllBytes(tmp.Combine("a", DataBuilder.TensorsDir, s!)),
            File.ReadAllBytes(tmp.Combine("b", DataBuilder.TensorsDir, s!))));
    }

    [Fact]
    public void A_missing_or_empty_episode_folder_is_refused_with_its_path()
    {
        using var tmp = new TempDir();
        var missing = Assert.Throws<DirectoryNotFoundException>(() =>
            DataBuilder.Build(new BuildOptions(tmp.Combine("nope"), tmp.Combine("out"), new WindowSettings())));
        Assert.Contains(tmp.Combine("nope"), missing.Message);
        Directory.CreateDirectory(tmp.Combine("empty"));
        var empty = Assert.Throws<InvalidDataException>(() =>
            DataBuilder.Build(new BuildOptions(tmp.Combine("empty"), tmp.Combine("out"), new WindowSettings())));
        Assert.Contains(tmp.Combine("empty"), empty.Message);
    }
}
