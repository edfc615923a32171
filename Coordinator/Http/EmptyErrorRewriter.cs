using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Connections;

namespace Cis490.Coordinator.Http;

/// <summary>Connection middleware that gives Kestrel's own refusals a JSON body. Kestrel answers a request it cannot parse
/// (a <c>%00</c> or a raw control byte in the path, a malformed request line or header, a line or headers over its hard limits)
/// before any application code runs, with <c>Content-Length: 0</c> and <c>Connection: close</c>, and offers no hook to change it
/// (aspnet/KestrelHttpServer#2947). This wrapper of the connection's output recognises exactly that answer — a flushed
/// 4xx/5xx response head with <c>Content-Length: 0</c> and <c>Connection: close</c> and nothing after it, which the API's own
/// endpoints never send (every error of theirs has a JSON body) — and adds the JSON error.</summary>
public static class EmptyErrorRewriter
{
    /// <summary>For <c>ListenOptions.Use</c>.</summary>
    public static ConnectionDelegate Middleware(ConnectionDelegate next) => async context =>
    {
        var original = context.Transport;
        context.Transport = new Duplex(original.Input, new RewritingWriter(original.Output));
        try
        {
            await next(context);
        }
        finally
        {
            context.Transport = original;
        }
    };

    private sealed class Duplex(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;
        public PipeWriter Output { get; } = output;
    }

    /// <summary>Collects what Kestrel writes between flushes, and passes it on at each flush (rewritten when it is an empty refusal).</summary>
    private sealed class RewritingWriter(PipeWriter inner) : PipeWriter
    {
        private readonly ArrayBufferWriter<byte> _pending = new(4096);

        public override void Advance(int bytes) => _pending.Advance(bytes);

        public override Memory<byte> GetMemory(int sizeHint = 0) => _pending.GetMemory(Math.Max(sizeHint, 1));

        public override Span<byte> GetSpan(int sizeHint = 0) => _pending.GetSpan(Math.Max(sizeHint, 1));

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        public override bool CanGetUnflushedBytes => true;

        public override long UnflushedBytes => _pending.WrittenCount;

        public override void Complete(Exception? exception = null)
        {
            Pass();
            inner.Complete(exception);
        }

        public override async ValueTask CompleteAsync(Exception? exception = null)
        {
            Pass();
            await inner.CompleteAsync(exception);
        }

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
        {
            Pass();
            return inner.FlushAsync(cancellationToken);
        }

        private void Pass()
        {
            if (_pending.WrittenCount == 0) return;
            var written = _pending.WrittenSpan;
            var rewritten = Rewrite(written);
            inner.Write(rewritten ?? written);
            _pending.ResetWrittenCount();
        }
    }

    /// <summary>The response with a JSON body when <paramref name="response"/> is exactly an empty refusal; null otherwise.</summary>
    public static byte[]? Rewrite(ReadOnlySpan<byte> response)
    {
        if (response.Length < 20 || response.Length > 4096 || !response.StartsWith("HTTP/1.1 "u8) || response[9] is not ((byte)'4' or (byte)'5')
            || !response.EndsWith("\r\n\r\n"u8) || response.IndexOf("\r\n\r\n"u8) != response.Length - 4)
            return null;
        var head = Encoding.ASCII.GetString(response[..^4]);
        var lines = head.Split("\r\n");
        if (!lines.Any(l => l.Equals("Content-Length: 0", StringComparison.OrdinalIgnoreCase))
            || !lines.Any(l => l.Equals("Connection: close", StringComparison.OrdinalIgnoreCase))
            || lines.Any(l => l.StartsWith("Content-Type:", StringComparison.OrdinalIgnoreCase)))
            return null;
        if (!int.TryParse(lines[0].AsSpan(9, 3), out var status)) return null;
        var body = JsonSerializer.SerializeToUtf8Bytes(new ApiError(Message(status), Code(status), status), ApiJson.Options);
        var sb = new StringBuilder();
        foreach (var line in lines)
            sb.Append(line.Equals("Content-Length: 0", StringComparison.OrdinalIgnoreCase) ? $"Content-Length: {body.Length}" : line).Append("\r\n");
        sb.Append("Content-Type: application/json; charset=utf-8\r\n\r\n");
        return [.. Encoding.ASCII.GetBytes(sb.ToString()), .. body];
    }

    private static string Code(int status) => status switch
    {
        414 => "uri_too_long",
        431 => "headers_too_large",
        _ => "bad_request",
    };

    private static string Message(int status) => status switch
    {
        400 => "the request is not valid HTTP the API can read (a NUL or control character in the path or request line — %00 included —, " +
               "a malformed header, or a bad chunked body); the connection is closed",
        408 => "the request's headers did not arrive in time; the connection is closed",
        411 => "the request has a body but neither Content-Length nor Transfer-Encoding: chunked",
        413 => "the request's body is larger than the API takes",
        414 => "the request line is far longer than the API takes (cis490.http.max-request-line)",
        431 => "the request's headers are far larger than the API takes (cis490.http.max-header-bytes)",
        505 => "the API speaks HTTP/1.1 (and 1.0)",
        _ => $"the HTTP server refused the request ({Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status)}); the connection is closed",
    };
}
