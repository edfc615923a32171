using System.Buffers;
using System.Formats.Tar;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cis490.Training.Episodes;
using Cis490.Training.Features;
using ZstdSharp;

namespace Cis490.Training.Tests;

/// <summary>Hand-built episodes (written with the recorder's own serialisers) and surgery on episode archives.</summary>
internal static class EpisodeKit
{
    public const long Second = 1_000_000_000L;

    /// <summary>2025-03-01 08:00 UTC on the recording host's wall clock.</summary>
    public const long T0 = 1_740_816_000L * Second;

    public static ChannelSpec Channel(string name) =>
        ChannelRegistry.Default.Find(name) ?? throw new ArgumentException($"no channel '{name}'");

    /// <summary>The grid row of (channel, field): the registry's field order.</summary>
    public static int Row(string channel, string field)
    {
        var fields = ChannelRegistry.Default.AllFields;
        for (var i = 0; i < fields.Count; i++)
            if (fields[i].Channel.Name == channel && fields[i].Field.Name == field) return i;
        throw new ArgumentException($"no field {channel}.{field}");
    }

    public static EpisodeMeta Meta(int seconds, IReadOnlyList<string> channels, IReadOnlyList<PhaseSpan>? phases = null) =>
        new(EpisodeMeta.CurrentFormat, "ep-hand-000001", SyntheticEpisodes.Laptop, "io-walk", "ransom-f",
            T0, T0 + seconds * Second, phases ?? [new PhaseSpan("clean", T0)], channels);

    /// <summary>One JSON line per record, exactly as the generator writes them.</summary>
    public static byte[] Jsonl(ChannelSpec channel, IEnumerable<(long TWallNs, long? TMonoNs, double[] Values)> records)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using var w = new Utf8JsonWriter(buffer);
        foreach (var (wall, mono, values) in records)
        {
            EpisodeArchive.WriteRecord(w, wall, mono, channel.Fields, values);
            buffer.Write("\n"u8);
            w.Reset(buffer);
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>A channel with one record per second at <paramref name="offsetNs"/> into the second, every field set to <paramref name="value"/>(second).</summary>
    public static byte[] Steady(string channel, int seconds, long offsetNs, Func<int, double> value) =>
        Jsonl(Channel(channel), Enumerable.Range(0, seconds)
            .Select(s => (T0 + s * Second + offsetNs, (long?)null, Enumerable.Repeat(value(s), Channel(channel).Fields.Count).ToArray())));

    /// <summary>Writes the episode, decodes it as the build does (failing the test if it does not decode) and aligns it.</summary>
    public static float[][] WriteReadAlign(TempDir tmp, EpisodeMeta meta, Dictionary<string, byte[]> files, WindowSettings? settings = null)
    {
        var path = tmp.Combine(meta.EpisodeId + EpisodeArchive.Extension);
        EpisodeArchive.Write(path, meta, files);
        var read = EpisodeArchive.Read(path, ChannelRegistry.Default);
        Assert.True(read.Ok, string.Join("; ", read.Problems));
        return Windowing.Align(read.Data!, ChannelRegistry.Default, settings ?? new WindowSettings());
    }

    /// <summary>The entries of an episode archive, in archive order.</summary>
    public static List<(string Name, byte[] Bytes)> Entries(string path)
    {
        using var tar = new TarReader(new MemoryStream(Unzstd(File.ReadAllBytes(path))));
        var entries = new List<(string, byte[])>();
        while (tar.GetNextEntry() is { } entry)
        {
            using var data = new MemoryStream();
            entry.DataStream?.CopyTo(data);
            entries.Add((entry.Name, data.ToArray()));
        }
        return entries;
    }

    /// <summary>Writes entries as a tar inside zstd: an archive the writer would never produce, for the validation cases.</summary>
    public static void WriteEntries(string path, IEnumerable<(string Name, byte[] Bytes)> entries)
    {
        using var tarBytes = new MemoryStream();
        using (var tar = new TarWriter(tarBytes, TarEntryFormat.Ustar, leaveOpen: true))
            foreach (var (name, bytes) in entries)
                tar.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(bytes) });
        File.WriteAllBytes(path, Zstd(tarBytes.ToArray()));
    }

    /// <summary>Rewrites one entry of an archive in place (null removes it).</summary>
    public static void Rewrite(string path, string entry, Func<byte[], byte[]?> change)
    {
        var entries = Entries(path);
        Assert.Contains(entries, e => e.Name == entry);
        WriteEntries(path, entries.Select(e => e.Name == entry ? (e.Name, change(e.Bytes)) : e)
            .Where(e => e.Item2 is not null).Select(e => (e.Name, e.Item2!)));
    }

    /// <summary>Applies <paramref name="change"/> to each JSON line (index from 0); returning null drops the line.</summary>
    public static byte[] MapLines(byte[] jsonl, Func<int, JsonObject, JsonObject?> change)
    {
        var lines = Encoding.UTF8.GetString(jsonl).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var kept = lines.Select((l, i) => change(i, JsonNode.Parse(l)!.AsObject())).Where(o => o is not null).Select(o => o!.ToJsonString());
        return Encoding.UTF8.GetBytes(string.Join("\n", kept) + "\n");
    }

    public static byte[] Unzstd(byte[] bytes)
    {
        using var d = new Decompressor();
        return d.Unwrap(bytes).ToArray();
    }

    public static byte[] Zstd(byte[] bytes)
    {
        using var c = new Compressor(3);
        return c.Wrap(bytes).ToArray();
    }
}
