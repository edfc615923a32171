using System.Buffers;
using System.Runtime.Serialization;
using System.Text;
using System.Text.Json;
using Cis490.Protocols.Jobs;

namespace Cis490.Protocols.Serialization;

/// <summary>A group-committed write's events as one journal entry (manifest <c>JEB</c>, <see cref="JobEvents.Batch"/>): each event
/// keeps its own manifest and the JSON it has as a journal entry of its own, so an event reads the same inside a batch or alone.</summary>
/// <remarks>Layout: the magic <c>CEB1</c>, a 7-bit varint count, then per event its manifest and its JSON, each a varint byte length
/// followed by the bytes. Every event is written into one pooled buffer, and the entry is copied out once at its exact size.</remarks>
public static class EventBatchCodec
{
    private static readonly byte[] Magic = "CEB1"u8.ToArray();

    /// <summary>A buffer and a JSON writer per thread, reused: a busy coordinator writes hundreds of batches a second.</summary>
    [ThreadStatic] private static ArrayBufferWriter<byte>? _json;
    [ThreadStatic] private static Utf8JsonWriter? _writer;

    public static byte[] Write(JobEvents.Batch batch, JsonSerializerOptions options)
    {
        if (batch.Events.Count == 0) throw new SerializationException("an event batch must hold at least one event");
        var json = _json ??= new ArrayBufferWriter<byte>(4096);
        var writer = _writer ??= new Utf8JsonWriter(json, new JsonWriterOptions { SkipValidation = true });
        json.ResetWrittenCount();
        var ends = ArrayPool<int>.Shared.Rent(batch.Events.Count); // where each event's JSON ends in the buffer
        try
        {
            var size = Magic.Length + VarIntSize(batch.Events.Count);
            for (var i = 0; i < batch.Events.Count; i++)
            {
                var e = batch.Events[i];
                if (!Manifests.ByType.TryGetValue(e.GetType(), out var manifest))
                    throw new SerializationException($"event {i} of the batch ({e.GetType().FullName}) has no manifest in {nameof(Manifests)}");
                writer.Reset(json);
                JsonSerializer.Serialize(writer, e, e.GetType(), options);
                writer.Flush();
                ends[i] = json.WrittenCount;
                var length = ends[i] - (i == 0 ? 0 : ends[i - 1]);
                size += VarIntSize(manifest.Length) + manifest.Length + VarIntSize(length) + length; // manifests are ASCII
            }
            var bytes = new byte[size];
            var at = 0;
            Magic.CopyTo(bytes, 0);
            at += Magic.Length;
            at = WriteVarInt(bytes, at, batch.Events.Count);
            var written = json.WrittenSpan;
            for (var i = 0; i < batch.Events.Count; i++)
            {
                var manifest = Manifests.ByType[batch.Events[i].GetType()];
                at = WriteVarInt(bytes, at, manifest.Length);
                at += Encoding.ASCII.GetBytes(manifest, bytes.AsSpan(at));
                var start = i == 0 ? 0 : ends[i - 1];
                at = WriteVarInt(bytes, at, ends[i] - start);
                written[start..ends[i]].CopyTo(bytes.AsSpan(at));
                at += ends[i] - start;
            }
            return bytes;
        }
        finally
        {
            ArrayPool<int>.Shared.Return(ends);
            if (json.Capacity > 1 << 20) _json = null; // a huge batch (a manifest of many jobs) does not pin its buffer to the thread
        }
    }

    public static JobEvents.Batch Read(byte[] bytes, JsonSerializerOptions options)
    {
        var span = bytes.AsSpan();
        if (span.Length < Magic.Length || !span[..Magic.Length].SequenceEqual(Magic))
            throw new SerializationException($"not an event batch: the {bytes.Length}-byte entry does not start with {Encoding.ASCII.GetString(Magic)}");
        var at = Magic.Length;
        var count = ReadVarInt(span, ref at, "the event count");
        if (count < 1) throw new SerializationException("an event batch holds no events");
        var events = new JobEvents.ICoordinatorEvent[count];
        for (var i = 0; i < count; i++)
        {
            var manifestLength = ReadVarInt(span, ref at, $"event {i}'s manifest length");
            var manifest = Encoding.ASCII.GetString(Slice(span, ref at, manifestLength, $"event {i}'s manifest"));
            var length = ReadVarInt(span, ref at, $"event {i}'s length");
            var json = Slice(span, ref at, length, $"event {i} ({manifest})");
            if (!Manifests.ByManifest.TryGetValue(manifest, out var type))
                throw new SerializationException($"event {i} of the batch has the unknown manifest '{manifest}'; is this node older than the journal?");
            if (!typeof(JobEvents.ICoordinatorEvent).IsAssignableFrom(type))
                throw new SerializationException($"event {i} of the batch is a {type.Name} ('{manifest}'), not a coordinator event");
            events[i] = (JobEvents.ICoordinatorEvent)(JsonSerializer.Deserialize(json, type, options)
                                                       ?? throw new SerializationException($"event {i} of the batch ('{manifest}') decoded to null"));
        }
        if (at != span.Length) throw new SerializationException($"an event batch of {count} events has {span.Length - at} bytes left after its last event");
        return new JobEvents.Batch(events);
    }

    private static ReadOnlySpan<byte> Slice(ReadOnlySpan<byte> span, ref int at, int length, string what)
    {
        if (length < 0 || length > span.Length - at)
            throw new SerializationException($"the event batch ends inside {what} ({length} bytes wanted at byte {at} of {span.Length})");
        var slice = span.Slice(at, length);
        at += length;
        return slice;
    }

    private static int VarIntSize(int value)
    {
        var size = 1;
        for (var v = (uint)value; v >= 0x80; v >>= 7) size++;
        return size;
    }

    private static int WriteVarInt(byte[] bytes, int at, int value)
    {
        var v = (uint)value;
        for (; v >= 0x80; v >>= 7) bytes[at++] = (byte)(v | 0x80);
        bytes[at++] = (byte)v;
        return at;
    }

    private static int ReadVarInt(ReadOnlySpan<byte> span, ref int at, string what)
    {
        uint value = 0;
        for (var shift = 0; shift < 35; shift += 7)
        {
            if (at >= span.Length) throw new SerializationException($"the event batch ends inside {what} (byte {at})");
            var b = span[at++];
            value |= (uint)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return value <= int.MaxValue ? (int)value : throw new SerializationException($"{what} in the event batch is too large ({value})");
        }
        throw new SerializationException($"{what} in the event batch is not a valid varint (byte {at})");
    }
}
