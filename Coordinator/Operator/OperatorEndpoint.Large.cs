using System.Text;
using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;
using Cis490.Protocols;
using Cis490.Protocols.Operator;

namespace Cis490.Coordinator.Operator;

/// <summary>Answers of any size: a manifest arrives as a stream (<see cref="OperatorProtocol.SubmitManifestStream"/>) and is
/// submitted whole on this node; an answer for a tool outside the cluster that would not fit one Akka.Remote frame is replaced
/// by a "too large" error saying what to ask instead (Akka.Remote would drop it silently and the tool would wait in vain).</summary>
public sealed partial class OperatorEndpoint
{
    /// <summary>The endpoint's size limits, from HOCON (coordinator.conf and base.conf say why each value).</summary>
    private sealed record Limits(long FrameBytes, long FrameMargin, long ManifestMaxBytes, TimeSpan ManifestTimeout)
    {
        public static Limits From(Akka.Configuration.Config config) => new(
            config.GetByteSize("akka.remote.dot-netty.tcp.maximum-frame-size") ?? 128000,
            config.GetByteSize("cis490.coordinator.operator-reply-frame-margin") ?? 4096,
            config.GetByteSize("cis490.coordinator.manifest-max-bytes") ?? 64L << 20,
            config.GetTimeSpan("cis490.coordinator.manifest-submit-timeout", TimeSpan.FromSeconds(180)));
    }

    /// <summary>A streamed manifest's bytes have all arrived (or the stream failed: <paramref name="Problem"/>).</summary>
    private sealed record ManifestStreamed(string FileName, byte[]? Bytes, string? Problem, IActorRef ReplyTo) : INoSerializationVerificationNeeded;

    private void SubmitStream(OperatorProtocol.SubmitManifestStream m)
    {
        if (!Authorized(m.Token, $"manifest {m.FileName}", r => new OperatorProtocol.OperatorError(r.Message, r.Kind))) return;
        var replyTo = Sender;
        if (m.Bytes > _limits.ManifestMaxBytes)
        {
            replyTo.Tell(new OperatorProtocol.OperatorError(
                $"manifest {m.FileName} is too large: {m.Bytes} bytes, this coordinator takes up to {_limits.ManifestMaxBytes} " +
                "(cis490.coordinator.manifest-max-bytes); split it into several manifests", ErrorKind.TooLarge));
            return;
        }
        var max = _limits.ManifestMaxBytes;
        m.Source.Source
            .RunAggregate(new MemoryStream(), (buffer, chunk) =>
            {
                if (buffer.Length + chunk.Length > max) throw new InvalidOperationException($"more than the {max} bytes announced or allowed");
                buffer.Write(chunk);
                return buffer;
            }, Context.Materializer())
            .PipeTo(Self,
                success: buffer => new ManifestStreamed(m.FileName, buffer.ToArray(), null, replyTo),
                failure: e => new ManifestStreamed(m.FileName, null, e.GetBaseException().Message, replyTo));
    }

    private void Streamed(ManifestStreamed s)
    {
        if (s.Bytes is null)
        {
            s.ReplyTo.Tell(new OperatorProtocol.OperatorError($"manifest {s.FileName} did not arrive whole: {s.Problem}; nothing changed", ErrorKind.Unavailable));
            return;
        }
        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(s.Bytes);
        }
        catch (DecoderFallbackException e)
        {
            s.ReplyTo.Tell(new OperatorProtocol.OperatorError($"manifest {s.FileName} is not UTF-8 text: {e.Message}; nothing changed", ErrorKind.Invalid));
            return;
        }
        var timeout = _limits.ManifestTimeout;
        var replyTo = s.ReplyTo;
        var answer = _coordinator.Ask<object>(new OperatorProtocol.SubmitManifest(s.FileName, text), timeout).ContinueWith(t =>
            t.IsCompletedSuccessfully
                ? t.Result
                : new OperatorProtocol.OperatorError(
                    $"the coordinator did not answer manifest {s.FileName} within {timeout.TotalSeconds:0} s (cis490.coordinator.manifest-submit-timeout); " +
                    "it may still be writing it: see `jobs list`", ErrorKind.Unavailable));
        Relay(answer, replyTo);
    }

    /// <summary>Sends <paramref name="answer"/>'s result to <paramref name="replyTo"/>, or "too large" when it goes over the wire
    /// (to a tool outside this node, through the receptionist's tunnel) and would not fit one frame.</summary>
    private void Relay(Task<object> answer, IActorRef replyTo)
    {
        var serialization = Context.System.Serialization; // read here: the continuation runs outside the actor
        var room = _limits.FrameBytes - _limits.FrameMargin;
        var wire = OverTheWire(replyTo);
        answer.ContinueWith(t =>
        {
            var reply = t.Result;
            if (!wire || reply is not ICis490Message) return reply;
            var bytes = serialization.FindSerializerFor(reply).ToBinary(reply).Length;
            return bytes <= room ? reply : new OperatorProtocol.OperatorError(TooLargeMessage(reply, bytes, room), ErrorKind.TooLarge);
        }).PipeTo(replyTo);
    }

    /// <summary>What a tool should ask instead of an answer of <paramref name="bytes"/> that does not fit <paramref name="room"/>.</summary>
    public static string TooLargeMessage(object reply, long bytes, long room)
    {
        var what = reply switch
        {
            OperatorProtocol.JobList l => $"the answer to jobs list ({l.Jobs.Count} rows) is too large: {bytes} bytes, one message holds {room}; " +
                                          "ask for fewer rows (--limit N; --all pages through them all; HTTP: ?limit=N&after=CURSOR)",
            _ => $"the answer ({reply.GetType().Name}) is too large: {bytes} bytes, one message holds {room}; ask for less (a filter, --limit), " +
                 "or use the HTTP API, which has no such limit",
        };
        return what + " (akka.remote.dot-netty.tcp.maximum-frame-size)";
    }

    /// <summary>Whether a reply to <paramref name="replyTo"/> is serialized into a remote frame: a remote actor, or the cluster
    /// receptionist's response tunnel to a ClusterClient (a local actor that forwards over the wire).</summary>
    private static bool OverTheWire(IActorRef replyTo) =>
        replyTo.Path.Address.HasGlobalScope || replyTo.Path.ToStringWithoutAddress().StartsWith("/system/receptionist/", StringComparison.Ordinal);
}
