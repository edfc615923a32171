using System.Buffers;
using System.Runtime.Serialization;
using System.Text;
using System.Text.Json;
using Cis490.Protocols.DataSets;
using Cis490.Protocols.Jobs;

namespace Cis490.Protocols.Serialization;

/// <summary>The job table's snapshot in a compact binary form (manifest <c>JS3</c>): at 100 000 jobs the JSON form (<c>JS1</c>,
/// still read) was 62 MB and took seconds to write and to read back, once per <c>snapshot-every</c> events and at every recovery.</summary>
/// <remarks>
/// Layout: the magic <c>CJT1</c>, then the table's counters, its host policies and data sets (rare and small: JSON, length-prefixed),
/// then every job. Integers are 7-bit varints; times are UTC ticks plus the offset in minutes (round trips exactly); doubles are
/// 8 bytes (NaN survives). Strings are written once and referred to afterwards (model, mode, hyper, split, worker ids, outcomes
/// repeat across jobs), and a 64-digit lowercase hex string (job ids, artifact hashes) is written as its 32 bytes. Reading shares
/// each repeated string and every empty collection between jobs, so a recovered table also takes less memory.
/// </remarks>
public static partial class JobTableSnapshotCodec
{
    private static readonly byte[] Magic = "CJT1"u8.ToArray();

    // String tags; a tag of FirstReference or more refers to the (tag - FirstReference)th string written before.
    private const int NullString = 0, NewString = 1, HexString = 2, FirstReference = 3;

    /// <remarks>The bytes are written into a pooled buffer and copied out once at their exact size: a snapshot is taken every
    /// thousand or so events and is megabytes at tens of thousands of jobs, and a fresh, growing buffer for each was a large
    /// object allocated, zeroed and copied again per snapshot (bench coordinator, issue 17).</remarks>
    public static byte[] Write(JobTableSnapshot s, JsonSerializerOptions options)
    {
        for (var capacity = 64 + s.Jobs.Count * 160; ; capacity *= 2)
        {
            var rented = ArrayPool<byte>.Shared.Rent(capacity);
            try
            {
                // A MemoryStream over a given array cannot grow: a table larger than the estimate starts again with twice the room.
                using var buffer = new MemoryStream(rented, 0, rented.Length, writable: true, publiclyVisible: false);
                using (var w = new Writer(buffer))
                {
                    w.Raw.Write(Magic);
                    w.Raw.Write7BitEncodedInt64(s.LastLeaseId);
                    w.Raw.Write7BitEncodedInt64(s.NextSeq);
                    w.Json(s.Hosts, options);
                    w.Json(s.DataSets, options);
                    w.Raw.Write7BitEncodedInt(s.Jobs.Count);
                    foreach (var j in s.Jobs) w.Job(j);
                }
                // (A MemoryStream over a given array counts the whole array as its length: what was written ends at Position.)
                return rented.AsSpan(0, (int)buffer.Position).ToArray();
            }
            catch (NotSupportedException) when (rented.Length < Array.MaxLength / 2)
            {
                capacity = rented.Length;
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>How long the last <see cref="Read"/> in this process took: the coordinator's recovery log reports it as part of the
    /// time to the snapshot offered (issue 17).</summary>
    public static TimeSpan LastReadTime => TimeSpan.FromTicks(Volatile.Read(ref _lastReadTicks));

    private static long _lastReadTicks;

    public static JobTableSnapshot Read(byte[] bytes, JsonSerializerOptions options)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try { return ReadAll(bytes, options); }
        finally { Volatile.Write(ref _lastReadTicks, System.Diagnostics.Stopwatch.GetElapsedTime(started).Ticks); }
    }

    private static JobTableSnapshot ReadAll(byte[] bytes, JsonSerializerOptions options)
    {
        if (bytes.Length < Magic.Length || !bytes.AsSpan(0, Magic.Length).SequenceEqual(Magic))
            throw new SerializationException($"not a compact job-table snapshot ({bytes.Length} bytes, no {Encoding.ASCII.GetString(Magic)} header)");
        try
        {
            var r = new Reader(bytes.AsSpan(Magic.Length));
            var lastLeaseId = r.Int64Varint();
            var nextSeq = r.Int64Varint();
            var hosts = r.Json<List<HostPolicy>>(options);
            var dataSets = r.Json<List<DataSetInfo>>(options);
            var count = r.Int32Varint();
            if (count < 0 || count > r.Remaining) throw new FormatException($"a count of {count} jobs in {r.Remaining} bytes");
            var jobs = new JobState[count];
            for (var i = 0; i < count; i++) jobs[i] = r.Job();
            if (r.Remaining != 0) throw new SerializationException($"{r.Remaining} bytes left over after {count} jobs");
            return new JobTableSnapshot(lastLeaseId, nextSeq, jobs, hosts, dataSets);
        }
        catch (Exception e) when (e is not SerializationException)
        {
            throw new SerializationException($"compact job-table snapshot of {bytes.Length} bytes is damaged: {e.Message}", e);
        }
    }

    private sealed class Writer(Stream stream) : IDisposable
    {
        public readonly BinaryWriter Raw = new(stream, Encoding.UTF8, leaveOpen: true);
        private readonly Dictionary<string, int> _seen = new(StringComparer.Ordinal);

        public void Dispose() => Raw.Dispose();

        public void Json<T>(T? value, JsonSerializerOptions options) where T : class
        {
            if (value is null) { Raw.Write7BitEncodedInt(0); return; }
            var json = JsonSerializer.SerializeToUtf8Bytes(value, options);
            Raw.Write7BitEncodedInt(json.Length + 1);
            Raw.Write(json);
        }

        public void String(string? s)
        {
            if (s is null) { Raw.Write7BitEncodedInt(NullString); return; }
            if (IsHex64(s))
            {
                Raw.Write7BitEncodedInt(HexString);
                Raw.Write(Convert.FromHexString(s));
                return;
            }
            if (_seen.TryGetValue(s, out var index)) { Raw.Write7BitEncodedInt(FirstReference + index); return; }
            _seen[s] = _seen.Count;
            Raw.Write7BitEncodedInt(NewString);
            Raw.Write(s); // length-prefixed UTF-8
        }

        public void Strings(IReadOnlyList<string> list)
        {
            Raw.Write7BitEncodedInt(list.Count);
            foreach (var s in list) String(s);
        }

        public void Time(DateTimeOffset t)
        {
            Raw.Write(t.UtcTicks);
            Raw.Write((short)t.Offset.TotalMinutes);
        }

        public void Time(DateTimeOffset? t)
        {
            Raw.Write(t.HasValue);
            if (t is { } v) Time(v);
        }

        public void Double(double? d)
        {
            Raw.Write(d.HasValue);
            if (d is { } v) Raw.Write(v);
        }

        public void Job(JobState j)
        {
            var spec = j.Spec;
            String(spec.JobId);
            String(spec.Model);
            String(spec.Mode);
            String(spec.HyperJson);
            String(spec.SplitRecipe);
            Strings(spec.TrainHosts);
            Raw.Write7BitEncodedInt64(spec.Seed);
            Raw.Write7BitEncodedInt(spec.Priority);
            Raw.Write7BitEncodedInt(spec.MaxAttempts);
            Raw.Write(spec.Constraints is not null);
            if (spec.Constraints is { } c)
            {
                Raw.Write(c.RequireCuda);
                Raw.Write(c.PreferCuda);
                Raw.Write(c.MinVramGib);
                Raw.Write(c.MinRamGib);
                Strings(c.AllowedHosts);
            }
            String(spec.DataSet);

            String(j.Status);
            Raw.Write7BitEncodedInt64(j.Seq);
            Raw.Write7BitEncodedInt(j.FailedAttempts);
            Raw.Write7BitEncodedInt64(j.LeaseId);
            String(j.WorkerId);
            Time(j.AddedAt);
            Time(j.LeasedAt);
            Time(j.StartedAt);
            Time(j.FinishedAt);
            String(j.ArtifactSha256);
            Raw.Write7BitEncodedInt(j.Metrics.Count);
            foreach (var (name, value) in j.Metrics)
            {
                String(name);
                Raw.Write(value);
            }
            String(j.LastError);
            Time(j.RetryAt);
            Raw.Write7BitEncodedInt(j.Attempts is null ? 0 : j.Attempts.Count + 1);
            foreach (var a in j.Attempts ?? [])
            {
                Raw.Write7BitEncodedInt64(a.LeaseId);
                String(a.WorkerId);
                Time(a.LeasedAt);
                Time(a.StartedAt);
                Time(a.EndedAt);
                String(a.Outcome);
                String(a.Error);
            }
            Double(j.LeaseDeadlineSeconds);
        }

        private static bool IsHex64(string s)
        {
            if (s.Length != 64) return false;
            foreach (var c in s)
                if (c is not (>= '0' and <= '9' or >= 'a' and <= 'f')) return false;
            return true;
        }
    }
}
