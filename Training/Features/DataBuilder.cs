using System.Diagnostics;
using System.Text.Json;
using Cis490.Training.Data;
using Cis490.Training.Episodes;
using Cis490.Training.Formats;

namespace Cis490.Training.Features;

/// <summary>Options of a build: where the episodes are, where the outputs go, the windowing, and how many bad episodes are tolerated.</summary>
public sealed record BuildOptions(string EpisodesDir, string OutDir, WindowSettings Window, double MaxBadFraction = 0.05);

/// <summary>One skipped episode and what was wrong with it.</summary>
public sealed record BadEpisode(string File, IReadOnlyList<string> Problems);

/// <summary><c>build_summary.json</c>: what went in, what came out, what was skipped and why.</summary>
public sealed record BuildSummary(
    int EpisodesSeen,
    int EpisodesUsed,
    int EpisodesBad,
    IReadOnlyDictionary<string, int> BadByKind,
    IReadOnlyList<BadEpisode> Bad,
    int DegradedEpisodes,
    long Windows,
    IReadOnlyDictionary<string, long> WindowsPerClass,
    IReadOnlyDictionary<string, long> WindowsPerHost,
    IReadOnlyDictionary<string, string> SchemaSha256,
    double Seconds,
    double EpisodesPerSecond,
    long PeakWorkingSetBytes)
{
    public const string FileName = "build_summary.json";

    public double BadFraction => EpisodesSeen == 0 ? 0 : (double)EpisodesBad / EpisodesSeen;
}

/// <summary><c>./cis490 data build</c>: decodes episodes one at a time, cuts windows, and streams summary features to Parquet
/// and per-host tensor shards to .npz. Memory does not grow with the number of episodes.</summary>
public static class DataBuilder
{
    public const string TensorsDir = "tensors";

    public static BuildSummary Build(BuildOptions options, Action<string>? log = null)
    {
        var clock = Stopwatch.StartNew();
        var registry = ChannelRegistry.Default;
        var schema = FeatureSchema.For(registry, options.Window);
        var columns = schema.ColumnsFor("oracle");
        var files = Directory.Exists(options.EpisodesDir)
            ? Directory.EnumerateFiles(options.EpisodesDir, "*" + EpisodeArchive.Extension).Order(StringComparer.Ordinal).ToList()
            : throw new DirectoryNotFoundException($"episode folder {options.EpisodesDir} does not exist");
        if (files.Count == 0) throw new InvalidDataException($"no *{EpisodeArchive.Extension} episodes in {options.EpisodesDir}");

        Directory.CreateDirectory(options.OutDir);
        var tensorDir = Path.Combine(options.OutDir, TensorsDir);
        if (Directory.Exists(tensorDir)) Directory.Delete(tensorDir, true);
        Directory.CreateDirectory(tensorDir);

        var bad = new List<BadEpisode>();
        var badByKind = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var perClass = Labels.Classes.ToDictionary(c => c, _ => 0L);
        var perHost = new SortedDictionary<string, long>(StringComparer.Ordinal);
        var shards = new Dictionary<string, TensorShard>(StringComparer.Ordinal);
        int used = 0, degraded = 0;
        long windows = 0, peak = 0;
        var tmpParquet = Path.Combine(options.OutDir, FeatureTable.FileName + ".tmp");
        var features = new float[columns.Count];
        try
        {
            using (var parquet = new FeatureParquetWriter(tmpParquet, columns))
            {
                foreach (var file in files)
                {
                    var result = EpisodeArchive.Read(file, registry);
                    if (!result.Ok)
                    {
                        bad.Add(new BadEpisode(Path.GetFileName(file), result.Problems));
                        badByKind[result.ProblemKind!] = badByKind.GetValueOrDefault(result.ProblemKind!) + 1;
                        log?.Invoke($"skipped {Path.GetFileName(file)}: {string.Join("; ", result.Problems)}");
                        continue;
                    }
                    var episode = result.Data!;
                    var meta = episode.Meta;
                    var isDegraded = registry.Channels.Any(c => !episode.Channels.ContainsKey(c.Name));
                    if (isDegraded) degraded++;
                    used++;
                    var grid = Windowing.Align(episode, registry, options.Window);
                    if (!shards.TryGetValue(meta.HostId, out var shard))
                        shards[meta.HostId] = shard = new TensorShard(tensorDir, meta.HostId, grid.Length, options.Window.LengthSeconds);
                    foreach (var w in Windowing.Cut(meta, grid.Length == 0 ? 0 : grid[0].Length, options.Window))
                    {
                        Windowing.Summarize(grid, w.FirstCell, options.Window.LengthSeconds, features);
                        var id = $"{meta.EpisodeId}/{w.FirstCell:D5}";
                        parquet.Add(new WindowRow(id, meta.EpisodeId, meta.HostId, meta.Profile, meta.Sample, w.StartNs, w.EndNs, w.Label, isDegraded, (float[])features.Clone()));
                        shard.Add(grid, w.FirstCell, Labels.IndexOf(w.Label), windows);
                        perClass[w.Label]++;
                        perHost[meta.HostId] = perHost.GetValueOrDefault(meta.HostId) + 1;
                        windows++;
                    }
                    if (used % 200 == 0)
                    {
                        peak = Math.Max(peak, Process.GetCurrentProcess().PeakWorkingSet64);
                        log?.Invoke($"{used + bad.Count}/{files.Count} episodes, {windows} windows");
                    }
                }
            }
            File.Move(tmpParquet, Path.Combine(options.OutDir, FeatureTable.FileName), overwrite: true);
            foreach (var shard in shards.Values) shard.Finish();
        }
        finally
        {
            foreach (var shard in shards.Values) shard.Dispose();
            if (File.Exists(tmpParquet)) File.Delete(tmpParquet);
        }
        schema.Save(options.OutDir);
        peak = Math.Max(peak, Process.GetCurrentProcess().PeakWorkingSet64);
        var seconds = clock.Elapsed.TotalSeconds;
        var summary = new BuildSummary(files.Count, used, bad.Count, badByKind, bad, degraded, windows, perClass, perHost,
            ChannelRegistry.Modes.ToDictionary(m => m, schema.Sha256For), seconds, files.Count / Math.Max(seconds, 1e-9), peak);
        File.WriteAllText(Path.Combine(options.OutDir, BuildSummary.FileName), JsonSerializer.Serialize(summary, Json.Options));
        return summary;
    }

    /// <summary>One host's tensors: x [N, channels, T] float32 (0 where missing), mask [N, channels, T] uint8 (1 = observed),
    /// y [N] int64 (class index), row [N] int64 (the window's row in the Parquet table).</summary>
    private sealed class TensorShard : IDisposable
    {
        private readonly string _dir;
        private readonly string _host;
        private readonly NpyArrayWriter _x, _mask, _y, _row;
        private readonly float[] _xBuf;
        private readonly byte[] _maskBuf;
        private readonly int _length;

        public TensorShard(string dir, string host, int channels, int length)
        {
            _dir = dir;
            _host = host;
            _length = length;
            _x = new NpyArrayWriter(Part("x"), NpyDType.Float32, channels, length);
            _mask = new NpyArrayWriter(Part("mask"), NpyDType.UInt8, channels, length);
            _y = new NpyArrayWriter(Part("y"), NpyDType.Int64);
            _row = new NpyArrayWriter(Part("row"), NpyDType.Int64);
            _xBuf = new float[channels * length];
            _maskBuf = new byte[channels * length];
        }

        private string Part(string name) => Path.Combine(_dir, $".{_host}.{name}.npy");

        public void Add(float[][] grid, int first, int label, long row)
        {
            for (var c = 0; c < grid.Length; c++)
                for (var t = 0; t < _length; t++)
                {
                    var v = grid[c][first + t];
                    var present = !float.IsNaN(v);
                    _xBuf[c * _length + t] = present ? v : 0f;
                    _maskBuf[c * _length + t] = present ? (byte)1 : (byte)0;
                }
            _x.Append(_xBuf);
            _mask.Append(_maskBuf);
            _y.Append((long)label);
            _row.Append(row);
        }

        public void Finish()
        {
            Dispose();
            Npz.Pack(Path.Combine(_dir, _host + ".npz"), [("x", Part("x")), ("mask", Part("mask")), ("y", Part("y")), ("row", Part("row"))]);
            foreach (var p in new[] { "x", "mask", "y", "row" }) File.Delete(Part(p));
        }

        private bool _disposed;

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            _x.Dispose(); _mask.Dispose(); _y.Dispose(); _row.Dispose();
        }
    }
}
