using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;

namespace Cis490.Coordinator.Http;

/// <summary>The JSON shape of every error the API returns: a message a person can act on, a stable code for scripts,
/// and what it is about (job, lease, field) where that is known.</summary>
public sealed record ApiError(
    string Error,
    string Code,
    int Status,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? JobId = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? LeaseId = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Field = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<object>? Details = null);

/// <summary>JSON options and error results shared by every endpoint (snake_case, like the wire format and the earlier fleet).</summary>
public static class ApiJson
{
    public static readonly JsonSerializerOptions Options = Configure(new JsonSerializerOptions());

    /// <summary>Applies the API's conventions to a set of options (ASP.NET's own, or <see cref="Options"/>).</summary>
    public static JsonSerializerOptions Configure(JsonSerializerOptions o)
    {
        o.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        o.DictionaryKeyPolicy = null; // metric names and job counts keep their own spelling
        o.NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals;
        o.WriteIndented = false;
        o.Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping; // application/json only, never inlined in HTML: quotes in messages stay readable
        return o;
    }

    public static IResult Ok(object value) => Results.Json(value, Options);

    public static IResult Error(int status, string code, string message, string? jobId = null, long? leaseId = null, string? field = null,
        IReadOnlyList<object>? details = null) =>
        Results.Json(new ApiError(message, code, status, jobId, leaseId, field, details), Options, statusCode: status);

    public static IResult BadRequest(string message, string? field = null) => Error(StatusCodes.Status400BadRequest, "bad_request", message, field: field);

    public static IResult NotFound(string message, string? jobId = null) => Error(StatusCodes.Status404NotFound, "not_found", message, jobId);

    public static IResult StaleLease(string message, string jobId, long? leaseId) =>
        Error(StatusCodes.Status409Conflict, "stale_lease", message, jobId, leaseId);

    public static IResult Timeout(string what, TimeSpan after) =>
        Error(StatusCodes.Status504GatewayTimeout, "coordinator_timeout",
            $"the coordinator did not answer {what} within {after.TotalSeconds:0.#} s (it may be starting, moving to another node, or not serve this request yet); try again");

    /// <summary>Writes an error straight to a response (middleware that has no endpoint result to return).</summary>
    public static Task Write(HttpContext ctx, int status, string code, string message, string? field = null)
    {
        ctx.Response.StatusCode = status;
        return ctx.Response.WriteAsJsonAsync(new ApiError(message, code, status, Field: field), Options, contentType: "application/json; charset=utf-8");
    }
}
