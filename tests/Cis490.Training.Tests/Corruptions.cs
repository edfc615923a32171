using System.Text;
using System.Text.Json.Nodes;
using Cis490.Training.Episodes;
using static Cis490.Training.Tests.EpisodeKit;

namespace Cis490.Training.Tests;

/// <summary>One way to damage a good generated episode file in place for each problem kind the reader must report.
/// Every case touches proc or disk, which every generated episode has.</summary>
internal static class Corruptions
{
    public static readonly IReadOnlyDictionary<string, Action<string>> ByKind = new Dictionary<string, Action<string>>
    {
        // Bytes flipped inside the compressed data, as a bad disk or a partial copy leaves them.
        ["corrupt_zstd"] = path =>
        {
            var bytes = File.ReadAllBytes(path);
            for (var i = 0; i < 16; i++) bytes[bytes.Length / 2 + i] ^= 0xFF;
            File.WriteAllBytes(path, bytes);
        },
        // A valid zstd frame around a tar cut short (a recorder killed while writing).
        ["truncated_tar"] = path =>
        {
            var tar = Unzstd(File.ReadAllBytes(path));
            File.WriteAllBytes(path, Zstd(tar[..(tar.Length / 2)]));
        },
        ["missing_meta"] = path => Rewrite(path, EpisodeMeta.FileName, _ => null),
        ["bad_meta"] = path => Rewrite(path, EpisodeMeta.FileName, bytes =>
        {
            var meta = JsonNode.Parse(bytes)!.AsObject();
            var phases = meta["phases"]!.AsArray();
            (phases[0]!["start_ns"], phases[1]!["start_ns"]) = (phases[1]!["start_ns"]!.DeepClone(), phases[0]!["start_ns"]!.DeepClone());
            return Encoding.UTF8.GetBytes(meta.ToJsonString());
        }),
        ["missing_channel"] = path => Rewrite(path, "proc.jsonl", _ => null),
        ["empty_channel"] = path => Rewrite(path, "proc.jsonl", _ => []),
        // The last line cut in half, as a recorder that died mid-write leaves it.
        ["torn_line"] = path => Rewrite(path, "proc.jsonl", bytes =>
        {
            var text = Encoding.UTF8.GetString(bytes).TrimEnd('\n');
            var last = text.LastIndexOf('\n') + 1;
            return Encoding.UTF8.GetBytes(text[..(last + (text.Length - last) / 2)]);
        }),
        // 40 s without a proc record: the recorder stalled.
        ["clock_gap"] = path => Rewrite(path, "proc.jsonl", bytes => MapLines(bytes, (i, o) => i is >= 100 and < 140 ? null : o)),
        // One disk record 3 s before its predecessor: an NTP step back.
        ["clock_jump"] = path => Rewrite(path, "disk.jsonl", bytes =>
        {
            long previous = 0;
            return MapLines(bytes, (i, o) =>
            {
                var t = o["t_wall_ns"]!.GetValue<long>();
                if (i == 150) o["t_wall_ns"] = previous - 3 * Second;
                previous = t;
                return o;
            });
        }),
    };
}
