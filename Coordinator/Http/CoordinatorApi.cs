using System.Text.Json;
using Akka.Actor;
using Akka.Event;
using Cis490.Coordinator.Operator;
using Microsoft.AspNetCore.Http;

namespace Cis490.Coordinator.Http;

/// <summary>What the HTTP endpoints need from the node, in one service: the actors they ask, the settings, the token check.
/// Endpoints talk to the coordinator only through messages; this class turns an unanswered ask into a 504, not a hang.</summary>
public sealed class CoordinatorApi(
    ActorSystem system,
    IActorRef operatorEndpoint,
    IActorRef workerGateway,
    HttpSettings settings,
    OperatorToken token,
    V1Access v1)
{
    public ActorSystem System { get; } = system;

    /// <summary>The node's operator endpoint (<c>/user/operator</c>): operator requests and queries go there, as the shell's do.</summary>
    public IActorRef Operator { get; } = operatorEndpoint;

    /// <summary>The HTTP-worker gateway: one child per <c>/v1</c> worker, speaking the worker protocol to the coordinator.</summary>
    public IActorRef Workers { get; } = workerGateway;

    public HttpSettings Settings { get; } = settings;

    /// <summary>Who may use the <c>/v1</c> worker endpoints.</summary>
    public V1Access V1 { get; } = v1;

    public ILoggingAdapter Log { get; } = Logging.GetLogger(system, "cis490.http");

    /// <summary>Asks <paramref name="target"/>; the reply, or a 504 result when none came within <paramref name="timeout"/> (ask-timeout by default).</summary>
    public async Task<(object? Reply, IResult? Failure)> Ask(IActorRef target, object message, string what, TimeSpan? timeout = null)
    {
        var wait = timeout ?? Settings.AskTimeout;
        try
        {
            return (await target.Ask<object>(message, wait), null);
        }
        catch (AskTimeoutException)
        {
            Log.Warning("HTTP: no answer to {0} within {1}", what, wait);
            return (null, ApiJson.Timeout(what, wait));
        }
    }

    /// <summary>Asks the operator endpoint.</summary>
    public Task<(object? Reply, IResult? Failure)> AskOperator(object message, string what) => Ask(Operator, message, what);

    /// <summary>The operator token from <c>X-Operator-Token</c>, or the 401/403 to answer. Checked here (constant time) for a
    /// clear status code, and forwarded so the coordinator checks and logs it too.</summary>
    public (string? Token, IResult? Failure) RequireToken(HttpRequest request, string what)
    {
        var presented = request.Headers["X-Operator-Token"].ToString();
        if (string.IsNullOrEmpty(presented))
        {
            Log.Warning("HTTP: refused {0} from {1}: no operator token", what, request.HttpContext.Connection.RemoteIpAddress);
            return (null, ApiJson.Error(StatusCodes.Status401Unauthorized, "token_required",
                $"{what} needs the operator token in the X-Operator-Token header ({OperatorToken.EnvironmentVariable} or <data-dir>/{OperatorToken.FileName} on the coordinator)"));
        }
        if (!token.Matches(presented))
        {
            Log.Warning("HTTP: refused {0} from {1}: wrong operator token", what, request.HttpContext.Connection.RemoteIpAddress);
            return (null, ApiJson.Error(StatusCodes.Status403Forbidden, "token_wrong", $"{what}: wrong operator token"));
        }
        return (presented, null);
    }

    /// <summary>Null when the request may use a <c>/v1</c> worker endpoint: it carries the worker token (or the operator token) in
    /// one of <see cref="V1Access.Headers"/>, or the endpoints are open (<c>--v1-anonymous</c>). Otherwise the 401 to answer; the
    /// refusal is logged with the caller's address, never with what it presented.</summary>
    public IResult? RequireWorker(HttpRequest request)
    {
        if (V1.Anonymous) return null;
        var presented = WorkerCredential(request);
        var (status, _) = OperatorReplies.StatusOf(Protocols.ErrorKind.Unauthorized);
        var what = $"{request.Method} {request.Path}";
        if (presented is not null && (V1.WorkerToken?.Matches(presented) == true || token.Matches(presented))) return null;
        request.HttpContext.Response.Headers.WWWAuthenticate = "Bearer realm=\"cis490 /v1 workers\"";
        if (presented is null)
        {
            Log.Warning("HTTP: refused {0} from {1}: no worker token", what, request.HttpContext.Connection.RemoteIpAddress);
            return ApiJson.Error(status, "worker_token_required",
                $"{what} needs the worker token: send 'Authorization: Bearer <token>' (or X-Worker-Token; an earlier-fleet worker can set " +
                $"CIS490_OPERATOR_TOKEN to the worker token, which it sends as X-Operator-Token). The coordinator takes it from " +
                $"{WorkerToken.FileVariable}, {WorkerToken.EnvironmentVariable} or <data-dir>/{WorkerToken.FileName}");
        }
        Log.Warning("HTTP: refused {0} from {1}: wrong worker token", what, request.HttpContext.Connection.RemoteIpAddress);
        return ApiJson.Error(status, "worker_token_wrong",
            $"{what}: the credential sent is not the worker token (compare with <data-dir>/{WorkerToken.FileName} on the coordinator)");
    }

    /// <summary>The credential a request carries for the worker endpoints, from the first of <see cref="V1Access.Headers"/> present.</summary>
    public static string? WorkerCredential(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.Length > 0)
            return authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? authorization[7..].Trim() : authorization.Trim();
        foreach (var header in V1Access.Headers.Skip(1))
            if (request.Headers[header].ToString() is { Length: > 0 } value) return value.Trim();
        return null;
    }

    /// <summary>Null when the request has no body, or a JSON one; otherwise the 415. Browsers post <c>text/plain</c>, form and
    /// multipart bodies (and bodies with no type) from any page without asking the server first; they never send
    /// <c>application/json</c> cross-site without a CORS preflight, which this API never approves.</summary>
    public static IResult? RequireJson(HttpRequest request)
    {
        var hasBody = request.ContentLength is > 0 || request.Headers.TransferEncoding.Count > 0;
        var type = request.ContentType;
        if (!hasBody && string.IsNullOrEmpty(type)) return null;
        if (IsJson(type)) return null;
        return ApiJson.Error(StatusCodes.Status415UnsupportedMediaType, "unsupported_media_type",
            $"{request.Method} {request.Path} takes a JSON body: send 'Content-Type: application/json' " +
            $"(got {(string.IsNullOrEmpty(type) ? "no Content-Type" : $"'{type}'")})", field: "Content-Type");
    }

    private static bool IsJson(string? contentType) =>
        contentType is not null
        && Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(contentType, out var parsed)
        && parsed.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
        && (parsed.Charset.Length == 0 || parsed.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase));

    /// <summary>Reads a JSON body of at most max-body-size bytes into <typeparamref name="T"/>; a 400 (or 413) naming what is wrong otherwise.</summary>
    public async Task<(T? Value, IResult? Failure)> ReadJson<T>(HttpRequest request) where T : class
    {
        var (bytes, failure) = await ReadBody(request);
        if (failure is not null) return (null, failure);
        if (bytes!.Length == 0) return (null, ApiJson.BadRequest("the request needs a JSON body"));
        try
        {
            var value = JsonSerializer.Deserialize<T>(bytes, ApiJson.Options);
            return value is null ? (null, ApiJson.BadRequest("the JSON body is null; send an object")) : (value, null);
        }
        catch (JsonException e)
        {
            var where = e.LineNumber is { } line ? $" at line {line + 1}, byte {e.BytePositionInLine + 1}" : "";
            var field = string.IsNullOrEmpty(e.Path) || e.Path == "$" ? null : e.Path.StartsWith("$.", StringComparison.Ordinal) ? e.Path[2..] : e.Path;
            return (null, ApiJson.BadRequest($"malformed JSON body{where}{(field is null ? "" : $" ({field})")}: {FirstLine(e.Message)}", field));
        }
    }

    /// <summary>The whole body, up to max-body-size bytes (413 beyond).</summary>
    public async Task<(byte[]? Bytes, IResult? Failure)> ReadBody(HttpRequest request)
    {
        if (request.ContentLength > Settings.MaxBodyBytes) return (null, TooLarge(Settings.MaxBodyBytes, "max-body-size"));
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int n;
        while ((n = await request.Body.ReadAsync(chunk, request.HttpContext.RequestAborted)) > 0)
        {
            if (buffer.Length + n > Settings.MaxBodyBytes) return (null, TooLarge(Settings.MaxBodyBytes, "max-body-size"));
            buffer.Write(chunk, 0, n);
        }
        return (buffer.ToArray(), null);
    }

    public static IResult TooLarge(long limit, string setting) =>
        ApiJson.Error(StatusCodes.Status413PayloadTooLarge, "too_large", $"the request body is larger than {limit} bytes (cis490.http.{setting})");

    /// <summary>System.Text.Json's message without the "Path: … | LineNumber: …" tail, which the answer states itself.</summary>
    private static string FirstLine(string s) => s.Split('\n')[0].Split(" Path:")[0].Trim();
}
