using Cis490.Protocols.Operator;
using Microsoft.AspNetCore.Http;

namespace Cis490.Coordinator.Http;

/// <summary>Turns the coordinator's replies to operator requests into HTTP answers: the status code follows what the reply means.</summary>
public static class OperatorReplies
{
    /// <summary>A reply to a read query: the expected type is 200; an <see cref="OperatorProtocol.OperatorError"/> is 404 when it is
    /// about an id that names nothing, else 400; anything else is a 502 (a coordinator of another version).</summary>
    public static IResult Read<T>(object? reply, string? id = null) => reply switch
    {
        T value => ApiJson.Ok(value),
        OperatorProtocol.OperatorError e when IsUnknownId(e.Message) => ApiJson.NotFound(e.Message, id),
        OperatorProtocol.OperatorError e => ApiJson.BadRequest(e.Message),
        _ => Unexpected(reply, typeof(T).Name),
    };

    /// <summary>A reply to cancel or requeue: done is 200; an unknown id 404; a token refusal 403; any other refusal 409 (e.g. already cancelled).</summary>
    public static IResult Operation(object? reply) => reply switch
    {
        OperatorProtocol.OperatorResult { Ok: true } r => ApiJson.Ok(r),
        OperatorProtocol.OperatorResult r when IsTokenRefusal(r.Message) => ApiJson.Error(StatusCodes.Status403Forbidden, "token_wrong", r.Message, r.JobId),
        OperatorProtocol.OperatorResult { Status: "" } r => ApiJson.NotFound(r.Message, r.JobId),
        OperatorProtocol.OperatorResult r => ApiJson.Error(StatusCodes.Status409Conflict, "conflict", r.Message, r.JobId),
        OperatorProtocol.OperatorError e => ErrorReply(e),
        _ => Unexpected(reply, nameof(OperatorProtocol.OperatorResult)),
    };

    /// <summary>A reply to a manifest: accepted is 200; rejected is 400 with every error and its line; a token refusal 403.</summary>
    public static IResult Manifest(object? reply) => reply switch
    {
        OperatorProtocol.ManifestAccepted a => ApiJson.Ok(a),
        OperatorProtocol.ManifestRejected r => ApiJson.Error(StatusCodes.Status400BadRequest, "manifest_invalid",
            $"{r.FileName}: {r.Errors.Count} error(s), nothing changed: {string.Join("; ", r.Errors.Take(5))}", details: r.Errors.Cast<object>().ToList()),
        OperatorProtocol.OperatorError e => ErrorReply(e),
        _ => Unexpected(reply, nameof(OperatorProtocol.ManifestAccepted)),
    };

    private static IResult ErrorReply(OperatorProtocol.OperatorError e) =>
        IsTokenRefusal(e.Message) ? ApiJson.Error(StatusCodes.Status403Forbidden, "token_wrong", e.Message) : ApiJson.BadRequest(e.Message);

    /// <summary>The coordinator's wording for a refused token (JobCoordinator.Operator.cs, TokenRefusal).</summary>
    public static bool IsTokenRefusal(string message) => message.Contains("operator token", StringComparison.Ordinal);

    /// <summary>The coordinator's wording for an id that names nothing (JobTable.Resolve and the queries' "no such" answers).</summary>
    public static bool IsUnknownId(string message) =>
        message.Contains("no job", StringComparison.OrdinalIgnoreCase) || message.Contains("not a job id", StringComparison.Ordinal)
        || message.Contains("unknown", StringComparison.OrdinalIgnoreCase) || message.Contains("no artifact", StringComparison.OrdinalIgnoreCase)
        || message.Contains("no stored artifact", StringComparison.OrdinalIgnoreCase)
        || message.Contains("not found", StringComparison.OrdinalIgnoreCase);

    private static IResult Unexpected(object? reply, string expected) =>
        ApiJson.Error(StatusCodes.Status502BadGateway, "unexpected_reply",
            $"the coordinator answered {reply?.GetType().Name ?? "nothing"} where {expected} was expected (are all coordinator nodes the same version?)");
}
