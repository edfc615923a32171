using Cis490.Protocols;
using Cis490.Protocols.Operator;
using Microsoft.AspNetCore.Http;

namespace Cis490.Coordinator.Http;

/// <summary>Turns the coordinator's replies to operator requests into HTTP answers. The status code comes from the refusal's
/// <see cref="ErrorKind"/> alone (<see cref="StatusOf"/>), never from its wording, which is for people and may change.</summary>
public static class OperatorReplies
{
    /// <summary>The HTTP status and the JSON error code of a kind of refusal.</summary>
    public static (int Status, string Code) StatusOf(ErrorKind kind) => kind switch
    {
        ErrorKind.Invalid => (StatusCodes.Status400BadRequest, "bad_request"),
        ErrorKind.NotFound => (StatusCodes.Status404NotFound, "not_found"),
        ErrorKind.Conflict => (StatusCodes.Status409Conflict, "conflict"),
        ErrorKind.StaleLease => (StatusCodes.Status409Conflict, "stale_lease"),
        ErrorKind.Unauthorized => (StatusCodes.Status401Unauthorized, "token_required"),
        ErrorKind.Forbidden => (StatusCodes.Status403Forbidden, "token_wrong"),
        ErrorKind.TooLarge => (StatusCodes.Status413PayloadTooLarge, "too_large"),
        ErrorKind.Unavailable => (StatusCodes.Status503ServiceUnavailable, "unavailable"),
        _ => (StatusCodes.Status500InternalServerError, "unknown_error_kind"),
    };

    /// <summary>A reply to a read query: the expected type is 200; an <see cref="OperatorProtocol.OperatorError"/> is its kind's
    /// status; anything else is a 502 (a coordinator of another version).</summary>
    public static IResult Read<T>(object? reply, string? id = null) => reply switch
    {
        T value => ApiJson.Ok(value),
        OperatorProtocol.OperatorError e => Refused(e.Kind, e.Message, id),
        _ => Unexpected(reply, typeof(T).Name),
    };

    /// <summary>A reply to cancel or requeue: done is 200; a refusal is its kind's status (unknown id 404, already finished 409,
    /// token 401/403).</summary>
    public static IResult Operation(object? reply) => reply switch
    {
        OperatorProtocol.OperatorResult { Ok: true } r => ApiJson.Ok(r),
        OperatorProtocol.OperatorResult r => Refused(r.Kind ?? ErrorKind.Invalid, r.Message, r.JobId),
        OperatorProtocol.OperatorError e => Refused(e.Kind, e.Message),
        _ => Unexpected(reply, nameof(OperatorProtocol.OperatorResult)),
    };

    /// <summary>A reply to a manifest: accepted is 200; rejected is 400 with every error and its line; other refusals their kind's status.</summary>
    public static IResult Manifest(object? reply) => reply switch
    {
        OperatorProtocol.ManifestAccepted a => ApiJson.Ok(a),
        OperatorProtocol.ManifestRejected r => ApiJson.Error(StatusCodes.Status400BadRequest, "manifest_invalid",
            $"{r.FileName}: {r.TotalCount} error(s), nothing changed: {string.Join("; ", r.Errors.Take(5))}", details: r.Errors.Cast<object>().ToList()),
        OperatorProtocol.OperatorError e => Refused(e.Kind, e.Message),
        _ => Unexpected(reply, nameof(OperatorProtocol.ManifestAccepted)),
    };

    private static IResult Refused(ErrorKind kind, string message, string? jobId = null)
    {
        var (status, code) = StatusOf(kind);
        return ApiJson.Error(status, code, message, string.IsNullOrEmpty(jobId) ? null : jobId);
    }

    private static IResult Unexpected(object? reply, string expected) =>
        ApiJson.Error(StatusCodes.Status502BadGateway, "unexpected_reply",
            $"the coordinator answered {reply?.GetType().Name ?? "nothing"} where {expected} was expected (are all coordinator nodes the same version?)");
}
