using System.Formats.Tar;
using System.Text;
using System.Text.Json;
using ZstdSharp;

namespace Cis490.Training.Episodes;

/// <summary>Reads and writes episode files: <c>meta.json</c> plus one JSON-lines file per channel, in a tar inside zstd (Training/EPISODES.md).</summary>
public static class EpisodeArchive
{
    public const string Extension = ".tar.zst";

    /// <summary>A gap longer than this between two records of one channel makes the episode unusable (the recorder stalled).</summary>
    public const double MaxClockGapSeconds = 30;

    /// <summary>A wall clock stepping back more than this within a channel makes the episode unusable (NTP step, bad recorder).</summary>
    public const double MaxClockStepBackSeconds = 1;

    private static readonly JsonSerializerOptions MetaJson = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
    };

    /// <summary>Writes an episode deterministically (fixed entry times and owners, registry order): same content, same bytes.</summary>
    public static void Write(string path, EpisodeMeta meta, IReadOnlyDictionary<string, byte[]> channelFiles, int zstdLevel = 3)
    {
        using var output = File.Create(path);
        using var zstd = new CompressionStream(output, zstdLevel);
        // A content checksum, so a corrupted file is reported as corrupt_zstd instead of decoding to garbage (Read).
        zstd.SetParameter(ZstdSharp.Unsafe.ZSTD_cParameter.ZSTD_c_checksumFlag, 1);
        using var tar = new TarWriter(zstd, TarEntryFormat.Ustar, leaveOpen: true);
        AddEntry(tar, EpisodeMeta.FileName, JsonSerializer.SerializeToUtf8Bytes(meta, MetaJson));
        foreach (var (name, bytes) in channelFiles.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            AddEntry(tar, name, bytes);
    }

    private static void AddEntry(TarWriter tar, string name, byte[] bytes)
    {
        var entry = new UstarTarEntry(TarEntryType.RegularFile, name)
        {
            ModificationTime = DateTimeOffset.UnixEpoch,
            Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
            DataStream = new MemoryStream(bytes, writable: false),
        };
        tar.WriteEntry(entry);
    }

    /// <summary>Serialises one record as a JSON line: <c>t_wall_ns</c>, optional <c>t_mono_ns</c>, then the fields.</summary>
    public static void WriteRecord(Utf8JsonWriter w, long tWallNs, long? tMonoNs, IReadOnlyList<FieldSpec> fields, ReadOnlySpan<double> values)
    {
        w.WriteStartObject();
        w.WriteNumber("t_wall_ns", tWallNs);
        if (tMonoNs is { } mono) w.WriteNumber("t_mono_ns", mono);
        for (var i = 0; i < fields.Count; i++)
        {
            if (fields[i].Kind == FieldKind.Counter) w.WriteNumber(fields[i].Name, (long)values[i]);
            else w.WriteNumber(fields[i].Name, Math.Round(values[i], 3));
        }
        w.WriteEndObject();
        w.Flush();
    }

    /// <summary>Decodes and validates an episode; every problem is reported, and an episode with any is not returned.</summary>
    public static EpisodeReadResult Read(string path, ChannelRegistry registry)
    {
        var problems = new List<string>();
        var warnings = new List<string>();
        EpisodeMeta? meta = null;
        var raw = new Dictionary<string, byte[]>();
        // Decompress the whole frame first (an episode is small): a bad frame is then corrupt_zstd, never mistaken for a
        // bad tar or torn line that garbage output would cause further down.
        using var tarBytes = new MemoryStream();
        try
        {
            using var input = File.OpenRead(path);
            using var zstd = new DecompressionStream(input);
            zstd.CopyTo(tarBytes);
        }
        catch (ZstdException e) { problems.Add($"corrupt_zstd: {e.Message}"); }
        catch (EndOfStreamException e) { problems.Add($"corrupt_zstd: the zstd frame ends early: {e.Message}"); }
        catch (IOException e) { problems.Add($"unreadable: {e.Message}"); }
        if (problems.Count > 0) return new(path, null, problems, warnings);
        try
        {
            tarBytes.Position = 0;
            using var tar = new TarReader(tarBytes);
            while (tar.GetNextEntry() is { } entry)
            {
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile)) continue;
                using var data = new MemoryStream();
                entry.DataStream?.CopyTo(data);
                raw[entry.Name] = data.ToArray();
            }
        }
        catch (EndOfStreamException e) { problems.Add($"truncated_tar: {e.Message}"); }
        catch (InvalidDataException e) { problems.Add($"truncated_tar: {e.Message}"); }
        catch (FormatException e) { problems.Add($"truncated_tar: {e.Message}"); }
        if (problems.Count > 0) return new(path, null, problems, warnings);

        if (!raw.TryGetValue(EpisodeMeta.FileName, out var metaBytes))
            return new(path, null, [$"missing_meta: no {EpisodeMeta.FileName} in the archive"], warnings);
        try
        {
            meta = JsonSerializer.Deserialize<EpisodeMeta>(metaBytes, MetaJson);
        }
        catch (JsonException e) { problems.Add($"bad_meta: {EpisodeMeta.FileName} is not valid: {e.Message}"); }
        if (meta is null) return new(path, null, problems.Count > 0 ? problems : ["bad_meta: meta.json is empty"], warnings);
        CheckMeta(meta, registry, problems);

        var channels = new Dictionary<string, ChannelSeries>();
        foreach (var name in meta.Channels ?? [])
        {
            var spec = registry.Find(name);
            if (spec is null) continue; // reported by CheckMeta
            if (!raw.TryGetValue(spec.FileName, out var bytes))
            {
                problems.Add($"missing_channel: meta.json lists '{name}' but the archive has no {spec.FileName}");
                continue;
            }
            var series = ParseChannel(spec, bytes, problems);
            if (series is null) continue;
            if (series.Count == 0) { problems.Add($"empty_channel: {spec.FileName} has no records"); continue; }
            CheckClock(spec, series, meta, problems);
            channels[name] = series;
        }
        foreach (var file in raw.Keys.Where(f => f != EpisodeMeta.FileName && !(meta.Channels ?? []).Any(c => c + ".jsonl" == f)))
            warnings.Add($"ignored {file}: not a channel listed in meta.json");

        return problems.Count > 0 ? new(path, null, problems, warnings) : new(path, new EpisodeData(meta, channels), [], warnings);
    }

    private static void CheckMeta(EpisodeMeta meta, ChannelRegistry registry, List<string> problems)
    {
        if (meta.Format != EpisodeMeta.CurrentFormat) problems.Add($"bad_meta: format '{meta.Format}' is not {EpisodeMeta.CurrentFormat}");
        if (string.IsNullOrWhiteSpace(meta.EpisodeId) || string.IsNullOrWhiteSpace(meta.HostId)) problems.Add("bad_meta: episode_id and host_id are required");
        // Every window row carries them (required Parquet columns): a null here would abort the whole build, not skip this episode.
        if (meta.Profile is null || meta.Sample is null) problems.Add("bad_meta: profile and sample are required");
        if (meta.EndNs <= meta.StartNs) problems.Add($"bad_meta: end_ns {meta.EndNs} is not after start_ns {meta.StartNs}");
        if (meta.Phases is null || meta.Phases.Count == 0) { problems.Add("bad_meta: no phases"); return; }
        for (var i = 0; i < meta.Phases.Count; i++)
        {
            if (!Data.Labels.Classes.Contains(meta.Phases[i].Phase)) problems.Add($"bad_meta: unknown phase '{meta.Phases[i].Phase}'");
            if (i > 0 && meta.Phases[i].StartNs < meta.Phases[i - 1].StartNs) problems.Add("bad_meta: phases are not in time order");
        }
        foreach (var c in meta.Channels ?? [])
            if (registry.Find(c) is null) problems.Add($"bad_meta: unknown channel '{c}' (registry {registry.Version})");
    }

    private static ChannelSeries? ParseChannel(ChannelSpec spec, byte[] bytes, List<string> problems)
    {
        var t = new List<long>();
        var mono = spec.HasMonotonicClock ? new List<long>() : null;
        var fields = spec.Fields.Select(_ => new List<double>()).ToArray();
        var lineNo = 0;
        foreach (var line in Encoding.UTF8.GetString(bytes).Split('\n'))
        {
            lineNo++;
            if (line.Length == 0) continue;
            try
            {
                using var doc = JsonDocument.Parse(line);
                var root = doc.RootElement;
                t.Add(root.GetProperty("t_wall_ns").GetInt64());
                if (mono is not null) mono.Add(root.TryGetProperty("t_mono_ns", out var m) ? m.GetInt64() : -1);
                for (var i = 0; i < spec.Fields.Count; i++)
                    fields[i].Add(root.TryGetProperty(spec.Fields[i].Name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : double.NaN);
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
            {
                problems.Add($"torn_line: {spec.FileName}:{lineNo}: not a complete JSON record with t_wall_ns ({e.GetType().Name})");
                return null;
            }
        }
        return new ChannelSeries([.. t], mono?.ToArray(), fields.Select(f => f.ToArray()).ToArray());
    }

    private static void CheckClock(ChannelSpec spec, ChannelSeries s, EpisodeMeta meta, List<string> problems)
    {
        for (var i = 1; i < s.Count; i++)
        {
            var dt = (s.TWallNs[i] - s.TWallNs[i - 1]) / 1e9;
            if (dt < -MaxClockStepBackSeconds)
            {
                problems.Add($"clock_jump: {spec.FileName} record {i + 1}: wall clock steps back {-dt:F1} s");
                return;
            }
            if (dt > MaxClockGapSeconds)
            {
                problems.Add($"clock_gap: {spec.FileName} record {i + 1}: {dt:F1} s without records (limit {MaxClockGapSeconds} s)");
                return;
            }
        }
        var margin = (long)(MaxClockGapSeconds * 1e9);
        if (s.TWallNs[0] < meta.StartNs - margin || s.TWallNs[^1] > meta.EndNs + margin)
            problems.Add($"clock_range: {spec.FileName} has records outside the episode's start_ns..end_ns");
    }
}
