using Cis490.Training.Data;
using Cis490.Training.Models;

namespace Cis490.Training.Tests.Models;

/// <summary>What a model sees: per-host standardisation from each host's own windows, and one channel taken from other windows
/// for permutation importance.</summary>
public sealed class ModelDataNormalisationTests(SmallBuild build) : IClassFixture<SmallBuild>
{
    private ModelData Data(string normalise, string mode = "realistic")
    {
        var split = Splits.Make(build.Table, "host", ["elliott-thinkpad"], 0);
        return new ModelData(build.Table, FeatureSchema.Load(build.DataDir), mode, build.DataDir, split, 0, normalise);
    }

    [Fact]
    public void Per_host_puts_every_hosts_summary_columns_and_tensor_channels_at_mean_0_and_sd_1()
    {
        var data = Data(Normalisation.PerHost);
        foreach (var host in build.Table.Hosts.Distinct())
        {
            var rows = Enumerable.Range(0, build.Table.Rows).Where(r => build.Table.Hosts[r] == host).ToArray();
            var (x, _) = data.Summary(rows);
            var dims = data.Columns.Count;
            for (var c = 0; c < dims; c++)
            {
                var values = Enumerable.Range(0, rows.Length).Select(i => (double)x[i * dims + c]).Where(v => !double.IsNaN(v)).ToArray();
                if (values.Length < 2) continue;
                Assert.InRange(values.Average(), -1e-3, 1e-3);
                var sd = Math.Sqrt(values.Select(v => v * v).Average() - values.Average() * values.Average());
                Assert.True(Math.Abs(sd - 1) < 1e-3 || sd < 1e-3, $"{host} {data.Columns[c]}: sd {sd}");
            }
            var t = data.Tensors(rows);
            for (var k = 0; k < t.Channels; k++)
            {
                var observed = new List<double>();
                for (var i = 0; i < t.Rows; i++)
                    for (var s = 0; s < t.Steps; s++)
                        if (t.Mask[(i * t.Channels + k) * t.Steps + s] != 0) observed.Add(t.X[(i * t.Channels + k) * t.Steps + s]);
                if (observed.Count > 1) Assert.InRange(observed.Average(), -1e-2, 1e-2);
            }
        }
    }

    [Fact]
    public void Train_normalisation_leaves_the_values_as_built_and_an_unknown_setting_is_refused()
    {
        var rows = Enumerable.Range(0, 50).ToArray();
        Assert.Equal(build.Table.Select(rows, Data(Normalisation.Train).Columns).X, Data(Normalisation.Train).Summary(rows).X);
        var e = Assert.Throws<ArgumentException>(() => Data("per-host"));
        Assert.Contains("per_host", e.Message);
    }

    [Fact]
    public void A_channel_taken_from_other_windows_moves_only_that_channels_columns()
    {
        var data = Data(Normalisation.Train, "oracle");
        var rows = Enumerable.Range(0, 40).ToArray();
        var from = rows.ToDictionary(r => r, r => r + 100);
        var (x, _) = data.WithChannelFrom("proc", from).Summary(rows);
        var (own, _) = data.Summary(rows);
        var (donor, _) = data.Summary(rows.Select(r => r + 100).ToArray());
        var dims = data.Columns.Count;
        for (var c = 0; c < dims; c++)
        {
            var expected = data.Columns[c].StartsWith("proc.", StringComparison.Ordinal) ? donor : own;
            for (var i = 0; i < rows.Length; i++) Assert.Equal(expected[i * dims + c], x[i * dims + c]);
        }
        var tensors = data.WithChannelFrom("proc", from).Tensors(rows);
        var ownT = data.Tensors(rows);
        Assert.NotEqual(ownT.X, tensors.X);
        Assert.Equal(ownT.Y, tensors.Y); // labels are never moved
    }

    [Theory]
    [InlineData(Normalisation.Train, false)]
    [InlineData(Normalisation.PerHost, false)]
    [InlineData(Normalisation.PerHost, true)]
    public void A_window_streamed_from_the_shards_is_what_the_whole_batch_gives_per_host_and_permuted_alike(string normalise, bool permuted)
    {
        // The sequence families stream their splits a window at a time (ShardRows); evaluation and importance read batches.
        var data = Data(normalise, "oracle");
        var rows = Enumerable.Range(0, build.Table.Rows).Where(r => r % 7 == 0).Take(30).ToArray();
        var view = permuted ? data.WithChannelFrom("proc", rows.ToDictionary(r => r, r => (r + 50) % build.Table.Rows)) : data;
        var batch = view.Tensors(rows);
        var (x, mask) = (new float[data.Shards.Channels * data.Shards.Steps], new byte[data.Shards.Channels * data.Shards.Steps]);
        for (var i = 0; i < rows.Length; i++)
        {
            view.ReadWindow(rows[i], x, mask);
            for (var k = 0; k < batch.Channels; k++)
                for (var t = 0; t < batch.Steps; t++)
                {
                    var at = (i * batch.Channels + k) * batch.Steps + t;
                    var src = data.TensorChannels[k] * batch.Steps + t;
                    Assert.Equal(batch.Mask[at], mask[src]);
                    if (mask[src] != 0) Assert.Equal(batch.X[at], x[src], 5);
                }
        }
    }
}
