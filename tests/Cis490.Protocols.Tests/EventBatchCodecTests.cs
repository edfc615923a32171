using System.Runtime.Serialization;
using System.Text;
using System.Text.Json;
using Cis490.Protocols.Jobs;
using Cis490.Protocols.Serialization;
using Xunit;

namespace Cis490.Protocols.Tests;

/// <summary>A group-committed write as one journal entry (JEB, issue 17): every event comes back in order and byte for byte as it
/// would be alone, and a damaged entry is an error that says where, never a shorter batch.</summary>
public sealed class EventBatchCodecTests
{
    private static readonly JsonSerializerOptions Json = Cis490Serializer.CreateOptions(null);
    private static readonly DateTimeOffset At = new(2026, 12, 5, 20, 0, 0, TimeSpan.FromHours(1));

    private static JobSpec Spec(int i) => new(new string((char)('a' + i % 6), 64), "knn", "realistic", "{}", "host", [], i, 0, 3);

    /// <summary>Every kind of coordinator event, several times over, as a busy write holds them.</summary>
    private static JobEvents.Batch Sample(int rounds)
    {
        var events = new List<JobEvents.ICoordinatorEvent>();
        for (var i = 0; i < rounds; i++)
        {
            var id = Spec(i).JobId;
            events.Add(new JobEvents.JobAdded(Spec(i), "m.toml", At));
            events.Add(new JobEvents.LeaseGranted(id, 10 + i, "w-ü" + i, At, i % 2 == 0 ? null : 90));
            events.Add(new JobEvents.JobStarted(id, 10 + i, At));
            events.Add(new JobEvents.LeaseEnded(id, 10 + i, "exit 1", i % 3 == 0, At, i % 2 == 0 ? At.AddSeconds(10) : null));
            events.Add(new JobEvents.JobCompleted(id, 10 + i, new string('b', 64), 1234 + i, new Dictionary<string, double> { ["f1"] = 0.5, ["nan"] = double.NaN }, At));
            events.Add(new JobEvents.JobCancelled(id, 0, "operator", At));
            events.Add(new JobEvents.JobRequeued(id, At));
        }
        return new JobEvents.Batch(events);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(500)] // 3 500 events: larger than the codec's first buffer
    public void Every_event_comes_back_in_order_as_it_would_be_alone(int rounds)
    {
        var batch = Sample(rounds);
        var back = EventBatchCodec.Read(EventBatchCodec.Write(batch, Json), Json);

        Assert.Equal(batch.Events.Count, back.Events.Count);
        for (var i = 0; i < batch.Events.Count; i++)
        {
            Assert.IsType(batch.Events[i].GetType(), back.Events[i]);
            Assert.Equal(JsonSerializer.Serialize(batch.Events[i], batch.Events[i].GetType(), Json),
                JsonSerializer.Serialize(back.Events[i], back.Events[i].GetType(), Json));
        }
    }

    [Fact]
    public void Writing_twice_on_one_thread_gives_the_same_bytes()
    {
        // The codec reuses a buffer per thread: a second, smaller batch must not carry anything of the first.
        var large = EventBatchCodec.Write(Sample(50), Json);
        var small = EventBatchCodec.Write(Sample(1), Json);
        Assert.Equal(small, EventBatchCodec.Write(Sample(1), Json));
        Assert.True(large.Length > small.Length);
        Assert.Equal(7, EventBatchCodec.Read(small, Json).Events.Count);
    }

    [Fact]
    public void A_truncated_entry_is_an_error_naming_the_event_it_ends_in()
    {
        var bytes = EventBatchCodec.Write(Sample(2), Json);
        var e = Assert.Throws<SerializationException>(() => EventBatchCodec.Read(bytes[..(bytes.Length - 5)], Json));
        Assert.Contains("ends inside event 13", e.Message);
    }

    [Fact]
    public void Bytes_after_the_last_event_are_an_error()
    {
        var bytes = EventBatchCodec.Write(Sample(1), Json).Append((byte)0).ToArray();
        var e = Assert.Throws<SerializationException>(() => EventBatchCodec.Read(bytes, Json));
        Assert.Contains("1 bytes left after its last event", e.Message);
    }

    [Fact]
    public void An_entry_that_is_not_a_batch_is_refused_by_its_magic()
    {
        var e = Assert.Throws<SerializationException>(() => EventBatchCodec.Read("{\"job_id\":\"x\"}"u8.ToArray(), Json));
        Assert.Contains("does not start with CEB1", e.Message);
    }

    [Fact]
    public void An_unknown_manifest_inside_is_an_error_naming_it()
    {
        var bytes = EventBatchCodec.Write(new JobEvents.Batch([new JobEvents.JobRequeued(Spec(0).JobId, At)]), Json);
        var text = bytes.ToArray();
        // The one event's manifest, "JE7", follows the magic and the count; make it "JX7".
        var at = Encoding.ASCII.GetString(text).IndexOf("JE7", StringComparison.Ordinal);
        text[at + 1] = (byte)'X';
        var e = Assert.Throws<SerializationException>(() => EventBatchCodec.Read(text, Json));
        Assert.Contains("unknown manifest 'JX7'", e.Message);
    }

    [Fact]
    public void A_message_that_is_not_a_coordinator_event_inside_is_refused()
    {
        // Laid out by hand: the magic, one entry, manifest "J1" (a JobSpec, not an event) and the spec's JSON.
        var json = JsonSerializer.SerializeToUtf8Bytes(Spec(0), Json);
        Assert.InRange(json.Length, 128, 16_383); // a two-byte varint
        byte[] bytes = [.."CEB1"u8, 1, 2, .."J1"u8, (byte)(json.Length | 0x80), (byte)(json.Length >> 7), ..json];
        var e = Assert.Throws<SerializationException>(() => EventBatchCodec.Read(bytes, Json));
        Assert.Contains("event 0 of the batch is a JobSpec ('J1'), not a coordinator event", e.Message);
    }

    [Fact]
    public void An_empty_batch_is_never_written()
    {
        var e = Assert.Throws<SerializationException>(() => EventBatchCodec.Write(new JobEvents.Batch([]), Json));
        Assert.Contains("at least one event", e.Message);
    }
}
