using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Cis490.Coordinator.Http;

/// <summary>A <c>/v1</c> worker request's body, read the way the earlier fleet's server read it (Starlette's <c>request.json()</c>
/// looks at the bytes, not the Content-Type): JSON under any declared type, a form (<c>worker_id=w1&amp;lease_id=3</c>), plain text
/// (a failure's traceback), or nothing at all (an empty body is an empty object).</summary>
/// <remarks>One thing is kept from the 415 rule of <c>/api</c>: a request a browser made (it carries <c>Origin</c> or
/// <c>Sec-Fetch-*</c> headers) with a body that is not <c>application/json</c> and without a credential header is refused, since a
/// web page can send such a "simple" request to a loopback port cross-site without asking (with <c>--v1-anonymous</c> nothing else
/// would stop it). A request with a credential header (Authorization, X-Worker-Token, X-Operator-Token) is always preflighted by
/// a browser, and Python's urllib or requests send none of the browser headers.</remarks>
public sealed record V1Body(V1Fields Fields, string? PlainText)
{
    public static async Task<(V1Body? Body, IResult? Failure)> Read(HttpRequest request, CoordinatorApi c)
    {
        var (bytes, tooLarge) = await c.ReadBody(request);
        if (tooLarge is not null) return (null, tooLarge);
        if (bytes!.Length == 0 || bytes.All(b => b is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t')) return (new V1Body(V1Fields.Empty, null), null);
        var type = request.ContentType ?? "";
        var isJson = type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) || type.Contains("+json", StringComparison.OrdinalIgnoreCase);
        if (!isJson && FromBrowser(request) && CoordinatorApi.WorkerCredential(request) is null)
            return (null, ApiJson.Error(StatusCodes.Status415UnsupportedMediaType, "unsupported_media_type",
                $"{request.Method} {request.Path} from a web browser takes only a JSON body (Content-Type: application/json), got '{type}'", field: "Content-Type"));
        string text;
        try
        {
            text = new UTF8Encoding(false, true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return (null, ApiJson.BadRequest("the request body is not UTF-8 text (JSON, a form or plain text)"));
        }
        var trimmed = text.TrimStart('\uFEFF', ' ', '\t', '\r', '\n');
        if (isJson || trimmed.StartsWith('{') || trimmed.StartsWith('['))
        {
            try
            {
                using var doc = JsonDocument.Parse(trimmed);
                if (doc.RootElement.ValueKind != JsonValueKind.Object)
                    return (null, ApiJson.BadRequest($"the JSON body must be an object ({{\"worker_id\": …}}), got {V1Fields.Shown(doc.RootElement)}"));
                return (new V1Body(V1Fields.Of(doc.RootElement.Clone()), null), null);
            }
            catch (JsonException e)
            {
                var where = e.LineNumber is { } line ? $" at line {line + 1}, byte {e.BytePositionInLine + 1}" : "";
                return (null, ApiJson.BadRequest($"malformed JSON body{where}: {e.Message.Split('\n')[0].Split(" Path:")[0].Trim()}"));
            }
        }
        if (type.StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase) || LooksLikeForm(trimmed))
            return (new V1Body(FormFields(trimmed), null), null);
        return (new V1Body(V1Fields.Empty, text), null); // plain text: a failure's error, nothing else takes it
    }

    /// <summary>Whether a browser made the request: only browsers send <c>Origin</c> on a same-site POST or <c>Sec-Fetch-*</c> headers.</summary>
    public static bool FromBrowser(HttpRequest r) =>
        r.Headers.ContainsKey("Origin") || r.Headers.ContainsKey("Sec-Fetch-Site") || r.Headers.ContainsKey("Sec-Fetch-Mode");

    private static bool LooksLikeForm(string s) =>
        s.Length > 0 && !s.Contains('\n') && !s.Contains(' ') && s.Split('&').All(p => p.IndexOf('=') > 0);

    /// <summary>A form's fields as a JSON object of strings (each value may still be read as a number or flag).</summary>
    private static V1Fields FormFields(string form)
    {
        var parsed = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(form.StartsWith('?') ? form : "?" + form);
        var json = JsonSerializer.Serialize(parsed.ToDictionary(kv => kv.Key, kv => kv.Value.ToString()));
        return V1Fields.Of(JsonDocument.Parse(json).RootElement.Clone());
    }
}
