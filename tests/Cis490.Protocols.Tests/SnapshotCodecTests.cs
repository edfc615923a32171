using System.Runtime.Serialization;
using System.Text;
using System.Text.Json;
using Akka.Actor;
using Akka.Serialization;
using Akka.Streams;
using Cis490.Protocols.DataSets;
using Cis490.Protocols.Jobs;
using Cis490.Protocols.Serialization;
using Cis490.Shared.Config;
using Xunit;

namespace Cis490.Protocols.Tests;

/// <summary>The job table's compact snapshot (JS3, issue 17): every field survives, the JSON snapshots already in snapshot stores
/// (JS1) still read, repeated strings are shared after reading, and a damaged snapshot is an error that says so.</summary>
public sealed class SnapshotCodecTests : IDisposable
{
    private readonly ActorSystem _system = ActorSystem.Create("snapshot-codec-test",
        HoconLoader.Load([], "akka.actor.provider = local\nakka.loglevel = WARNING").WithFallback(ActorMaterializer.DefaultConfig()));

    public void Dispose() => _system.Terminate().Wait(TimeSpan.FromSeconds(10));

    private SerializerWithStringManifest Serializer => (SerializerWithStringManifest)_system.Serialization.FindSerializerForType(typeof(JobTableSnapshot));

    private static readonly JsonSerializerOptions Json = Cis490Serializer.CreateOptions(null);
    private static readonly DateTimeOffset At = new(2026, 12, 5, 13, 40, 0, TimeSpan.FromHours(-5));

    private static string Id(int i) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(BitConverter.GetBytes(i)));

    /// <summary>Jobs in every state and shape: pending, leased with a deadline, completed with metrics (NaN too) and attempts,
    /// failed with an error, constraints and hosts, a data set, odd ids (not 64 lowercase hex digits), unicode, times with offsets.</summary>
    private static JobTableSnapshot Sample(int jobs)
    {
        var list = new List<JobState>();
        for (var i = 0; i < jobs; i++)
        {
            var spec = new JobSpec(i % 7 == 3 ? "ABC" + Id(i)[3..] : Id(i), i % 2 == 0 ? "knn" : "gru", "realistic", i % 5 == 0 ? "{\"k\":" + i + "}" : "{}",
                "host", i % 3 == 0 ? [] : ["elliott-thinkpad", "gpu-box"], i, i % 4, 3,
                i % 6 == 0 ? new JobConstraints(true, i % 12 == 0, 6.5, 8, ["gpu-box"]) : null, i % 8 == 0 ? Id(-i) : null);
            var state = (i % 4) switch
            {
                0 => new JobState(spec, "pending", i, 0, 0, null, At, null, null, null, null, new Dictionary<string, double>(), null),
                1 => new JobState(spec, "leased", i, 1, 1000 + i, "sim-0001", At, At.AddSeconds(1), null, null, null, new Dictionary<string, double>(),
                    "earlier: exit 1", null, [new AttemptRecord(900 + i, "sim-0002", At, At, At.AddMinutes(1), "failed", "exit 1 — ünïcode"),
                        new AttemptRecord(1000 + i, "sim-0001", At.AddSeconds(1), null, null, "leased", null)], 90),
                2 => new JobState(spec, "completed", i, 0, 2000 + i, "sim-0003", At, At, At.AddSeconds(2), At.AddSeconds(9), Id(i + 1),
                    new Dictionary<string, double> { ["val_macro_f1"] = 0.5 + i / 1e6, ["val_majority_macro_f1"] = double.NaN }, null, null,
                    [new AttemptRecord(2000 + i, "sim-0003", At, At.AddSeconds(2), At.AddSeconds(9), "completed", null)]),
                _ => new JobState(spec, "pending", i, 2, 3000 + i, null, At.ToOffset(TimeSpan.FromHours(5.5)), null, null, null, null,
                    new Dictionary<string, double>(), "lease expired", At.AddMinutes(5), []),
            };
            list.Add(state);
        }
        return new JobTableSnapshot(41 + jobs, jobs, list, [new HostPolicy("gpu-box", true, 8, null, ["gbt", "*:oracle"], [])],
            [new DataSetInfo(Id(-1), "small", Id(-2), 2048, 5, 8192, At)]);
    }

    private static string AsJson(JobTableSnapshot s) => JsonSerializer.Serialize(s, Json);

    [Fact]
    public void A_snapshot_is_written_in_the_compact_form_and_reads_back_with_every_field()
    {
        var snapshot = Sample(200);
        Assert.Equal("JS3", Serializer.Manifest(snapshot));
        var bytes = Serializer.ToBinary(snapshot);
        Assert.Equal("CJT1", Encoding.ASCII.GetString(bytes, 0, 4));

        var back = (JobTableSnapshot)Serializer.FromBinary(bytes, "JS3");

        Assert.Equal(AsJson(snapshot), AsJson(back));
        Assert.Equal(bytes, Serializer.ToBinary(back)); // and writes the same bytes again
    }

    /// <summary>The writer starts from a pooled buffer of about 160 bytes a job and starts again with twice the room when a table is
    /// larger: jobs with long hyper-parameters (kilobytes each) must still round-trip whole, byte for byte.</summary>
    [Fact]
    public void A_table_larger_than_the_buffer_estimate_is_written_whole()
    {
        var sample = Sample(40);
        var big = sample with
        {
            Jobs = sample.Jobs.Select((j, i) => j with { Spec = j.Spec with { HyperJson = "{\"notes\":\"" + new string((char)('a' + i % 26), 3000 + i) + "\"}" } }).ToList(),
        };
        var bytes = Serializer.ToBinary(big);
        Assert.True(bytes.Length > 40 * 3000, $"only {bytes.Length} bytes: the hyper-parameters are not all there");

        var back = (JobTableSnapshot)Serializer.FromBinary(bytes, "JS3");

        Assert.Equal(AsJson(big), AsJson(back));
        Assert.Equal(bytes, Serializer.ToBinary(back));
        Assert.Equal(Serializer.ToBinary(Sample(40)), Serializer.ToBinary(sample)); // a small table after it: same bytes as ever
    }

    [Fact]
    public void A_json_snapshot_made_before_the_compact_form_still_reads()
    {
        var snapshot = Sample(50);
        var json = JsonSerializer.SerializeToUtf8Bytes(snapshot, Json);

        var back = (JobTableSnapshot)Serializer.FromBinary(json, "JS1");

        Assert.Equal(AsJson(snapshot), AsJson(back));
    }

    [Fact]
    public void The_compact_form_is_a_fraction_of_the_json_and_shares_repeated_strings_when_read()
    {
        var snapshot = Sample(2000);
        var compact = Serializer.ToBinary(snapshot);
        var json = JsonSerializer.SerializeToUtf8Bytes(snapshot, Json);
        Assert.True(compact.Length * 3 < json.Length, $"compact {compact.Length} bytes, JSON {json.Length} bytes");

        var back = (JobTableSnapshot)Serializer.FromBinary(compact, "JS3");

        var knn = back.Jobs.Where(j => j.Spec.Model == "knn").Select(j => j.Spec.Model).ToList();
        Assert.True(knn.Count > 100);
        Assert.All(knn, m => Assert.Same(knn[0], m)); // one instance, not one per job
        var empty = back.Jobs.Where(j => j.Metrics.Count == 0).Select(j => j.Metrics).ToList();
        Assert.All(empty, m => Assert.Same(empty[0], m));
    }

    [Fact]
    public void A_damaged_compact_snapshot_is_refused_saying_so()
    {
        var bytes = Serializer.ToBinary(Sample(20));

        var cut = Assert.Throws<SerializationException>(() => Serializer.FromBinary(bytes[..(bytes.Length / 2)], "JS3"));
        Assert.Contains("damaged", cut.Message);
        var longer = Assert.Throws<SerializationException>(() => Serializer.FromBinary([.. bytes, 7], "JS3"));
        Assert.Contains("left over", longer.Message);
        var json = Assert.Throws<SerializationException>(() => Serializer.FromBinary("{}"u8.ToArray(), "JS3"));
        Assert.Contains("CJT1", json.Message);
    }

    /// <summary>The reader decodes straight from the bytes (issue 17: a recovery decodes 100 000 jobs): a large table, and the
    /// numbers at the edges of their varints (negative priorities and seeds are 5 and 10 bytes), read back exactly.</summary>
    [Fact]
    public void A_large_table_and_numbers_at_the_edges_read_back_exactly()
    {
        var sample = Sample(20_000);
        var edges = sample.Jobs.Take(6).Select((j, i) => j with
        {
            Spec = j.Spec with { Priority = i % 2 == 0 ? int.MinValue + i : -1, Seed = i % 3 == 0 ? long.MinValue : -i - 1, MaxAttempts = int.MaxValue },
            LeaseId = long.MaxValue - i, FailedAttempts = int.MaxValue, Seq = long.MaxValue - 10 + i,
        });
        var big = sample with { Jobs = [.. edges, .. sample.Jobs.Skip(6)], LastLeaseId = long.MaxValue, NextSeq = -1 };
        var bytes = Serializer.ToBinary(big);

        var back = (JobTableSnapshot)Serializer.FromBinary(bytes, "JS3");

        Assert.Equal(AsJson(big), AsJson(back));
        Assert.Equal(bytes, Serializer.ToBinary(back));
    }

    /// <summary>A snapshot exactly as the shipped writer made it (bytes kept here, made before the reader was rewritten to read from
    /// a span) still reads, field for field: snapshot stores hold such snapshots, and the format did not change.</summary>
    [Fact]
    public void A_compact_snapshot_written_before_the_span_reader_still_reads()
    {
        var back = (JobTableSnapshot)Serializer.FromBinary(Convert.FromBase64String(ShippedSample4), "JS3");

        Assert.Equal(AsJson(Sample(4)), AsJson(back));
    }

    /// <summary><c>Serializer.ToBinary(Sample(4))</c> in base 64, as the writer made it at main 3f46762 (the writer is unchanged since).</summary>
    private const string ShippedSample4 =
        "Q0pUMS0EcFt7Imhvc3RuYW1lIjoiZ3B1LWJveCIsImN1ZGEiOnRydWUsInZyYW1fZ2liIjo4LCJyYW1fZ2liIjpudWxsLCJhbGxvd19qb2JzIj" +
        "pbImdidCIsIio6b3JhY2xlIl0sImRlbnlfam9icyI6W119XZACW3sic2hhMjU2IjoiYWQ5NTEzMWJjMGI3OTljMGIxYWY0NzdmYjE0ZmNmMjZh" +
        "NmE5Zjc2MDc5ZTQ4YmYwOTBhY2I3ZTgzNjdiZmQwZSIsIm5hbWUiOiJzbWFsbCIsImJ1bmRsZV9zaGEyNTYiOiJiNDI0OGMyMTBhMjkwNWI5ND" +
        "M0NWUxYTg0MTRkMGUxMmVmY2ZiMmY0ZjBmMjM5NzE1OWE3MTI4MzM5N2EwY2NkIiwiYnVuZGxlX2J5dGVzIjoyMDQ4LCJmaWxlcyI6NSwiY29u" +
        "dGVudF9ieXRlcyI6ODE5MiwicHVibGlzaGVkX2F0IjoiMjAyNi0xMi0wNVQxMzo0MDowMC0wNTowMCJ9XQQC3z9hmASpL9tAVxktxD3XSOp3it" +
        "xSvEmM6AUkwBS4ERkBA2tubgEJcmVhbGlzdGljAQd7ImsiOjB9AQRob3N0AAAAAwEBAQAAAAAAABpAAAAAAAAAIEABAQdncHUtYm94At8/YZgE" +
        "qS/bQFcZLcQ910jqd4rcUrxJjOgFJMAUuBEZAQdwZW5kaW5nAAAAAADA6Sr/Ut8I1P4AAAAAAAAAAAACZ6vdchAk8P9OCz9ML8E7xbrULQt4Ud" +
        "RW2I0gPRWqpFABA2dydQQBAnt9BgIBEGVsbGlvdHQtdGhpbmtwYWQHAQEDAAABBmxlYXNlZAEB6QcBCHNpbS0wMDAxAMDpKv9S3wjU/gGAVoIr" +
        "/1LfCNT+AAAAAAEPZWFybGllcjogZXhpdCAxAAOFBwEIc2ltLTAwMDIAwOkq/1LfCNT+AQDA6Sr/Ut8I1P4BAAatTv9S3wjU/gEGZmFpbGVkAR" +
        "RleGl0IDEg4oCUIMO8bsOvY29kZekHDYBWgiv/Ut8I1P4AAAwAAQAAAAAAgFZAAiayXUV1l6ewRj+WIPZm3RCqLENzpQWWfHyNcJIqLW7OAwQK" +
        "BgILBwICAwAAAQljb21wbGV0ZWQCANIPAQhzaW0tMDAwMwDA6Sr/Ut8I1P4BAMDpKv9S3wjU/gEA7Ros/1LfCNT+AYAKRzD/Ut8I1P4CnZ8pBS" +
        "emvmJqj1mFsm4Zsje0SHKwNjGBHfRBb8FxMXgCAQx2YWxfbWFjcm9fZjEt6L0xBADgPwEVdmFsX21ham9yaXR5X21hY3JvX2YxAAAAAAAA+P8A" +
        "AALSDxMAwOkq/1LfCNT+AQDtGiz/Ut8I1P4BgApHMP9S3wjU/hIAAAFAQUJDZjI5MDUyN2E2YmU2MjZhOGY1OTg1YjI2ZTE5YjIzN2I0NDg3Mm" +
        "IwMzYzMTgxMWRmNDQxNmZjMTcxMzE3OAkECgYAAwMDAAAIAwK7FwAAwOkq/1LfCEoBAAAAAAABDWxlYXNlIGV4cGlyZWQBAB663f9S3wjU/gEA";
}
