using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using Cis490.Protocols.Jobs;

namespace Cis490.Protocols.Serialization;

public static partial class JobTableSnapshotCodec
{
    private static readonly IReadOnlyDictionary<string, double> NoMetrics = ImmutableDictionary<string, double>.Empty;

    /// <summary>Reads what <see cref="Writer"/> wrote, straight from the snapshot's bytes: the same format as a <see cref="BinaryReader"/>
    /// reads (7-bit varints, little-endian numbers, length-prefixed UTF-8 strings), without a stream and a virtual call per byte.
    /// A coordinator's recovery decodes 100 000 jobs with it (issue 17: recovery ≤ 1 s). A read past the end throws, which
    /// <see cref="Read"/> reports as a damaged snapshot.</summary>
    private ref struct Reader(ReadOnlySpan<byte> bytes)
    {
        private readonly ReadOnlySpan<byte> _bytes = bytes;
        private int _at;
        private readonly List<string> _seen = [];

        public readonly int Remaining => _bytes.Length - _at;

        private ReadOnlySpan<byte> Take(int count)
        {
            if (count < 0 || count > _bytes.Length - _at)
                throw new EndOfStreamException($"{count} bytes wanted at byte {_at}, {_bytes.Length - _at} left");
            var span = _bytes.Slice(_at, count);
            _at += count;
            return span;
        }

        private byte Byte() => _at < _bytes.Length ? _bytes[_at++] : throw new EndOfStreamException($"the snapshot ends at byte {_at}");

        public bool Bool() => Byte() != 0;

        /// <summary>A 7-bit varint of at most 5 bytes (<see cref="BinaryWriter.Write7BitEncodedInt"/>; a negative int is 5 bytes).</summary>
        public int Int32Varint()
        {
            uint result = 0;
            for (var shift = 0; shift < 28; shift += 7)
            {
                var b = Byte();
                result |= (b & 0x7Fu) << shift;
                if (b <= 0x7F) return (int)result;
            }
            var last = Byte();
            if (last > 0b1111) throw new FormatException($"a 32-bit varint runs past its 5 bytes at byte {_at}");
            return (int)(result | (uint)last << 28);
        }

        /// <summary>A 7-bit varint of at most 10 bytes (<see cref="BinaryWriter.Write7BitEncodedInt64"/>).</summary>
        public long Int64Varint()
        {
            ulong result = 0;
            for (var shift = 0; shift < 63; shift += 7)
            {
                var b = Byte();
                result |= (b & 0x7FUL) << shift;
                if (b <= 0x7F) return (long)result;
            }
            var last = Byte();
            if (last > 1) throw new FormatException($"a 64-bit varint runs past its 10 bytes at byte {_at}");
            return (long)(result | (ulong)last << 63);
        }

        public long Int64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));

        public double Double() => BinaryPrimitives.ReadDoubleLittleEndian(Take(8));

        public T? Json<T>(JsonSerializerOptions options) where T : class
        {
            var length = Int32Varint();
            if (length == 0) return null;
            return JsonSerializer.Deserialize<T>(Take(length - 1), options) ?? throw new FormatException($"{typeof(T).Name} decoded to null");
        }

        public string? String()
        {
            var tag = Int32Varint();
            switch (tag)
            {
                case NullString: return null;
                case HexString: return Convert.ToHexStringLower(Take(32));
                case NewString:
                    var s = Encoding.UTF8.GetString(Take(Int32Varint())); // BinaryWriter.Write(string): its UTF-8 length, then the bytes
                    _seen.Add(s);
                    return s;
                default:
                    var index = tag - FirstReference;
                    return (uint)index < (uint)_seen.Count ? _seen[index] : throw new FormatException($"string reference {index} before {_seen.Count} strings were read");
            }
        }

        private string Required(string what) => String() ?? throw new FormatException($"{what} is missing");

        private IReadOnlyList<string> Strings()
        {
            var count = Int32Varint();
            if (count == 0) return [];
            if (count < 0 || count > Remaining) throw new FormatException($"a list of {count} strings in {Remaining} bytes");
            var list = new string[count];
            for (var i = 0; i < count; i++) list[i] = Required("a list's string");
            return list;
        }

        private DateTimeOffset Time()
        {
            var ticks = Int64();
            var offset = TimeSpan.FromMinutes(BinaryPrimitives.ReadInt16LittleEndian(Take(2)));
            return new DateTimeOffset(ticks + offset.Ticks, offset);
        }

        private DateTimeOffset? MaybeTime() => Bool() ? Time() : null;

        private double? MaybeDouble() => Bool() ? Double() : null;

        public JobState Job()
        {
            var jobId = Required("job id");
            var model = Required("model");
            var mode = Required("mode");
            var hyper = Required("hyper");
            var split = Required("split recipe");
            var trainHosts = Strings();
            var seed = Int64Varint();
            var priority = Int32Varint();
            var maxAttempts = Int32Varint();
            JobConstraints? constraints = null;
            if (Bool()) constraints = new JobConstraints(Bool(), Bool(), Double(), Double(), Strings());
            var spec = new JobSpec(jobId, model, mode, hyper, split, trainHosts, seed, priority, maxAttempts, constraints, String());

            var status = Required("status");
            var seq = Int64Varint();
            var failed = Int32Varint();
            var leaseId = Int64Varint();
            var workerId = String();
            var addedAt = Time();
            var leasedAt = MaybeTime();
            var startedAt = MaybeTime();
            var finishedAt = MaybeTime();
            var sha = String();
            var metricCount = Int32Varint();
            var metrics = NoMetrics;
            if (metricCount > 0)
            {
                if (metricCount > Remaining) throw new FormatException($"{metricCount} metrics in {Remaining} bytes");
                var d = new Dictionary<string, double>(metricCount, StringComparer.Ordinal);
                for (var i = 0; i < metricCount; i++)
                {
                    var name = Required("metric name");
                    d[name] = Double();
                }
                metrics = d;
            }
            var lastError = String();
            var retryAt = MaybeTime();
            var attemptCount = Int32Varint() - 1;
            List<AttemptRecord>? attempts = null;
            if (attemptCount >= 0)
            {
                if (attemptCount > Remaining) throw new FormatException($"{attemptCount} attempts in {Remaining} bytes");
                attempts = new List<AttemptRecord>(attemptCount);
                for (var i = 0; i < attemptCount; i++)
                    attempts.Add(new AttemptRecord(Int64Varint(), Required("attempt worker"), Time(), MaybeTime(), MaybeTime(), Required("attempt outcome"), String()));
            }
            return new JobState(spec, status, seq, failed, leaseId, workerId, addedAt, leasedAt, startedAt, finishedAt, sha, metrics, lastError,
                retryAt, attempts, MaybeDouble());
        }
    }
}
