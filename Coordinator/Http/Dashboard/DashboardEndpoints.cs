using System.Reflection;
using System.Security.Cryptography;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Cis490.Coordinator.Http.Dashboard;

/// <summary>The cluster dashboard: the page at <c>/</c> and its assets (embedded in this assembly, nothing fetched at run time), the
/// live feed <c>/api/events</c> (server-sent events), the evaluation comparison <c>/api/evaluation</c> and the episode replay
/// <c>/api/replay</c>. docs/dashboard.md.</summary>
public static class DashboardEndpoints
{
    /// <summary>The page's files: name → (content type, bytes, ETag). Hand-written HTML, CSS, JS and SVG; no framework.</summary>
    private static readonly Dictionary<string, (string Type, byte[] Bytes, string ETag)> Assets = LoadAssets();

    /// <summary>What the page may load and talk to: only this server (no inline script, no third-party anything).</summary>
    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    public static void Map(IEndpointRouteBuilder app)
    {
        var api = app.ServiceProvider.GetRequiredService<CoordinatorApi>();
        var settings = DashboardSettings.From(api.System.Settings.Config, api.Settings.DataDir);
        var evaluation = new EvaluationReader(settings.EvaluationDir);
        var feed = new DashboardFeed(new SnapshotSource(api.Operator, settings, evaluation), settings, api.Log);
        // Open event streams would hold the server's shutdown up until its timeout: end them as it begins.
        app.ServiceProvider.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.Register(() => feed.DisposeAsync().AsTask().Wait());

        app.MapGet("/", (HttpContext ctx) => Asset(ctx, "index.html"));
        app.MapGet("/dashboard/{file}", (string file, HttpContext ctx) => Asset(ctx, file));
        app.MapGet("/api/events", (HttpContext ctx) => Events(ctx, feed));
        app.MapGet("/api/evaluation", () => evaluation.Read() is { } view
            ? ApiJson.Ok(view)
            : ApiJson.NotFound($"no evaluation yet: no *_eval.json in {evaluation.Dir} (run ./cis490 eval --out {evaluation.Dir}; the demo does)"));
        // Episode replay: the saved prediction runs that eval wrote beside its report (docs/dashboard.md, "Episode replay").
        var replay = new ReplayReader(settings.EvaluationDir);
        app.MapGet("/api/replay", () =>
        {
            var (runs, problems) = replay.List();
            return ApiJson.Ok(new { dir = replay.Dir, runs, problems });
        });
        app.MapGet("/api/replay/{name}/{episode}", (string name, string episode) =>
        {
            try
            {
                var (view, missing) = replay.Episode(name, episode);
                return view is not null ? ApiJson.Ok(view) : ApiJson.NotFound(missing!);
            }
            catch (Exception e) when (e is InvalidDataException or IOException)
            {
                return ApiJson.NotFound($"prediction run '{name}' cannot be read: {e.Message}");
            }
        });
    }

    private static IResult Asset(HttpContext ctx, string file)
    {
        if (!Assets.TryGetValue(file, out var asset))
            return ApiJson.NotFound($"the dashboard has no file '{file}' (it has {string.Join(", ", Assets.Keys.Order())})");
        var headers = ctx.Response.Headers;
        headers.ETag = asset.ETag;
        headers.CacheControl = "no-cache"; // revalidate: a new coordinator version serves new files at the same names
        headers["X-Content-Type-Options"] = "nosniff";
        if (file.EndsWith(".html", StringComparison.Ordinal))
        {
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            headers["Referrer-Policy"] = "no-referrer";
        }
        if (ctx.Request.Headers.IfNoneMatch.Contains(asset.ETag)) return Results.StatusCode(StatusCodes.Status304NotModified);
        return Results.Bytes(asset.Bytes, asset.Type);
    }

    /// <summary>The event stream: a reconnect hint, then the feed's messages until the page goes away or the server stops.</summary>
    private static async Task Events(HttpContext ctx, DashboardFeed feed)
    {
        var ct = ctx.RequestAborted;
        ctx.Response.ContentType = "text/event-stream; charset=utf-8";
        ctx.Response.Headers.CacheControl = "no-cache, no-store";
        ctx.Response.Headers["X-Accel-Buffering"] = "no"; // a reverse proxy must not hold events back
        ctx.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        await ctx.Response.WriteAsync($"retry: {(long)feed.Settings.ClientRetry.TotalMilliseconds}\n: cis490 dashboard feed\n\n", ct);
        await ctx.Response.Body.FlushAsync(ct);
        var reader = feed.Subscribe();
        try
        {
            await foreach (var message in reader.ReadAllAsync(ct))
            {
                await ctx.Response.WriteAsync(message.Format(), ct);
                await ctx.Response.Body.FlushAsync(ct);
            }
        }
        catch (InvalidOperationException)
        {
            // Dropped as too slow (the channel was completed with this): end the stream; the page reconnects and starts afresh.
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The page went away.
        }
        finally
        {
            feed.Unsubscribe(reader);
        }
    }

    private static Dictionary<string, (string, byte[], string)> LoadAssets()
    {
        const string prefix = "dashboard/";
        var assembly = Assembly.GetExecutingAssembly();
        var assets = new Dictionary<string, (string, byte[], string)>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            var bytes = buffer.ToArray();
            var file = name[prefix.Length..];
            assets[file] = (TypeOf(file), bytes, $"\"{Convert.ToHexStringLower(SHA256.HashData(bytes))[..16]}\"");
        }
        return assets;
    }

    private static string TypeOf(string file) => Path.GetExtension(file) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".svg" => "image/svg+xml",
        _ => "application/octet-stream",
    };
}
