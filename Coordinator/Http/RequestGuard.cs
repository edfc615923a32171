using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Cis490.Coordinator.Http;

/// <summary>The first middleware: refuses, with a JSON error, requests Kestrel would have refused with an empty body (a request line
/// or headers over the limits, a non-ASCII header) and paths no endpoint can mean (a control character such as NUL, a bidi override).</summary>
/// <remarks>Kestrel's own limits are set far above cis490.http.max-request-line and max-header-bytes (<see cref="HttpHost"/>), so
/// such requests reach this middleware and get an answer that names the setting. What Kestrel still refuses itself (a <c>%00</c> or
/// raw NUL in the path, a malformed request line, a line or headers beyond its hard limits) gets its JSON body from
/// <see cref="EmptyErrorRewriter"/>.</remarks>
public static class RequestGuard
{
    public static Task Check(HttpContext ctx, RequestDelegate next)
    {
        var settings = ctx.RequestServices.GetRequiredService<CoordinatorApi>().Settings;
        var request = ctx.Request;
        var target = ctx.Features.Get<IHttpRequestFeature>()?.RawTarget ?? request.Path + request.QueryString;
        var line = request.Method.Length + 1 + target.Length + 1 + request.Protocol.Length;
        if (line > settings.MaxRequestLine)
            return ApiJson.Write(ctx, StatusCodes.Status414UriTooLong, "uri_too_long",
                $"the request line is {line} bytes; the API takes at most {settings.MaxRequestLine} (cis490.http.max-request-line)");

        long headerBytes = 0;
        foreach (var (name, values) in request.Headers)
        {
            foreach (var value in values)
            {
                headerBytes += name.Length + 4 + (value?.Length ?? 0);
                if (value is not null && FirstNonAscii(value) is { } at)
                    return ApiJson.Write(ctx, StatusCodes.Status400BadRequest, "bad_header",
                        $"header {Printable(name)} has a byte that is not printable ASCII at position {at + 1} (header values must be ASCII; " +
                        "percent-encode or base64 anything else)", Printable(name));
            }
        }
        if (headerBytes > settings.MaxHeaderBytes)
            return ApiJson.Write(ctx, StatusCodes.Status431RequestHeaderFieldsTooLarge, "headers_too_large",
                $"the request's headers are {headerBytes} bytes; the API takes at most {settings.MaxHeaderBytes} (cis490.http.max-header-bytes)");

        var path = request.Path.Value ?? "";
        for (var i = 0; i < path.Length; i++)
            if (Shared.Text.SafeText.IsUnsafe(path[i]))
                return ApiJson.Write(ctx, StatusCodes.Status400BadRequest, "bad_path",
                    $"{request.Method} {Shared.Text.SafeText.Escape(path)}: the path has a control or bidi character " +
                    $"({Shared.Text.SafeText.Escape(path[i].ToString())} at position {i + 1}); no id or name of this API contains one", "path");
        return next(ctx);
    }

    /// <summary>The index of the first character outside printable ASCII (tab allowed), or null.</summary>
    private static int? FirstNonAscii(string value)
    {
        for (var i = 0; i < value.Length; i++)
            if (value[i] is not ('\t' or (>= ' ' and <= '~'))) return i;
        return null;
    }

    private static string Printable(string name) => Shared.Text.SafeText.Escape(name);
}
