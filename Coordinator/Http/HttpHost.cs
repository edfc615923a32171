using Akka.Actor;
using Akka.Event;
using Cis490.Coordinator.Http.Workers;
using Cis490.Coordinator.Operator;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Cis490.Coordinator.Http;

/// <summary>The coordinator node's HTTP server (Kestrel, minimal APIs) beside its ActorSystem. Endpoints come in modules
/// (<c>/api</c>, <c>/v1</c>; the dashboard and its event stream add theirs) that all reach the node through one <see cref="CoordinatorApi"/>.</summary>
public sealed class HttpHost : IAsyncDisposable
{
    /// <summary>The modules every coordinator serves. A module maps its routes; it reaches the cluster only through <see cref="CoordinatorApi"/>.</summary>
    public static readonly IReadOnlyList<Action<IEndpointRouteBuilder>> DefaultModules = [ApiEndpoints.Map, V1Endpoints.Map, Dashboard.DashboardEndpoints.Map];

    public WebApplication App { get; }
    public CoordinatorApi Api { get; }

    /// <summary>The server's base address, e.g. <c>http://127.0.0.1:8080</c> (the real port when 0 was asked for).</summary>
    public Uri BaseAddress { get; }

    private HttpHost(WebApplication app, CoordinatorApi api, Uri baseAddress)
    {
        App = app;
        Api = api;
        BaseAddress = baseAddress;
    }

    /// <summary>Starts the server on <paramref name="settings"/>' bind address and port (0 picks a free one, for tests), with the
    /// HTTP-worker gateway as <c>/user/http-workers</c>; stops it when the actor system shuts down.</summary>
    /// <param name="coordinator">The JobCoordinator singleton's proxy: the gateway speaks the worker protocol to it.</param>
    /// <param name="operatorEndpoint">The node's operator endpoint: reads and operator commands go there.</param>
    /// <param name="v1">Who may use the <c>/v1</c> worker endpoints (the worker token, or anyone with <c>--v1-anonymous</c>).</param>
    public static async Task<HttpHost> StartAsync(ActorSystem system, IActorRef coordinator, IActorRef operatorEndpoint, HttpSettings settings,
        string operatorToken, V1Access v1, IEnumerable<Action<IEndpointRouteBuilder>>? extraModules = null, X509Certificate2? https = null)
    {
        if (settings.Refusal() is { } refused) throw new Shared.Cli.CliException(refused);
        if (!v1.Anonymous && v1.WorkerToken is null) throw new ArgumentException("the /v1 worker endpoints need a worker token unless they are open", nameof(v1));
        Directory.CreateDirectory(settings.SpoolDir);
        foreach (var stale in Directory.EnumerateFiles(settings.SpoolDir, "*.part")) File.Delete(stale); // uploads cut off by a previous run
        var gateway = system.ActorOf(HttpWorkerGateway.Props(coordinator, settings), HttpWorkerGateway.Name);
        var api = new CoordinatorApi(system, operatorEndpoint, gateway, settings, new OperatorToken(operatorToken), v1);
        var app = Build(api, settings.Port, DefaultModules.Concat(extraModules ?? []), https);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var host = new HttpHost(app, api, new Uri(address));
        api.Log.Info("HTTP API listening on {0} (OpenAPI document at {0}/api/openapi.json)", address);
        if (v1.Anonymous)
            api.Log.Warning("HTTP: THE /v1 WORKER ENDPOINTS TAKE REQUESTS WITHOUT A CREDENTIAL (--v1-anonymous): any program that reaches {0} " +
                            "can claim, heartbeat, fail and upload for HTTP leases. Give the workers the worker token and drop --v1-anonymous.", address);
        CoordinatedShutdown.Get(system).AddTask(CoordinatedShutdown.PhaseServiceUnbind, "stop-http-api", async () =>
        {
            await host.DisposeAsync();
            return Akka.Done.Instance;
        });
        return host;
    }

    /// <param name="https">The node's fleet certificate (with its key): the server speaks HTTPS with it; null: plain HTTP.</param>
    private static WebApplication Build(CoordinatorApi api, int port, IEnumerable<Action<IEndpointRouteBuilder>> modules, X509Certificate2? https)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders(); // the node logs through Akka; requests that matter are logged by the endpoints
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(api.Settings.BindAddress, port, listen =>
            {
                // Clients check it against the fleet CA (curl --cacert ca.crt); no client certificate is asked for here: the API has
                // its own credentials (the operator token, the /v1 worker credential).
                if (https is not null) listen.UseHttps(https);
                // Kestrel's own refusals (sent before any middleware runs) get a JSON body: EmptyErrorRewriter. After UseHttps, so
                // that it sees the plaintext response.
                listen.Use(EmptyErrorRewriter.Middleware);
            });
            k.AddServerHeader = false;
            // The largest body any endpoint takes; each endpoint enforces its own, smaller limit as it reads.
            k.Limits.MaxRequestBodySize = Math.Max(api.Settings.MaxUploadBytes, api.Settings.MaxBodyBytes);
            // Kestrel answers requests it refuses itself with an empty body, and no hook changes that. Its own limits are set well
            // above ours so that a request a little over ours reaches RequestGuard, which answers with a JSON error.
            k.Limits.MaxRequestLineSize = (int)Math.Min(int.MaxValue / 2, Math.Max(64 * 1024, api.Settings.MaxRequestLine * 8));
            k.Limits.MaxRequestHeadersTotalSize = (int)Math.Min(int.MaxValue / 2, Math.Max(1024 * 1024, api.Settings.MaxHeaderBytes * 8));
            k.Limits.MaxRequestBufferSize = Math.Max(k.Limits.MaxRequestBufferSize ?? 0, k.Limits.MaxRequestHeadersTotalSize + k.Limits.MaxRequestLineSize);
            // Header values are decoded as Latin-1 rather than refused by Kestrel, so that RequestGuard can refuse a non-ASCII one
            // with a JSON error naming the header.
            k.RequestHeaderEncodingSelector = _ => System.Text.Encoding.Latin1;
        });
        builder.Services.AddSingleton(api);
        builder.Services.ConfigureHttpJsonOptions(o => ApiJson.Configure(o.SerializerOptions));
        MetricsEndpoint.AddServices(builder.Services);

        var app = builder.Build();
        app.Use(Guard);
        app.Use(RequestGuard.Check);
        app.UseStatusCodePages(ctx => ctx.HttpContext.Response.HasStarted
            ? Task.CompletedTask
            : ApiJson.Write(ctx.HttpContext, ctx.HttpContext.Response.StatusCode, StatusCode(ctx.HttpContext.Response.StatusCode),
                $"{ctx.HttpContext.Request.Method} {ctx.HttpContext.Request.Path}: HTTP {ctx.HttpContext.Response.StatusCode} " +
                $"({(ctx.HttpContext.Response.StatusCode == 404 ? "no such endpoint; see /api/openapi.json" : ReasonFor(ctx.HttpContext.Response.StatusCode))})"));
        foreach (var map in modules) map(app);
        MetricsEndpoint.Map(app);
        return app;
    }

    /// <summary>The global error handler: a bad request Kestrel or the framework detects becomes its 4xx with a JSON body; anything
    /// else that escapes an endpoint is logged and becomes a JSON 500 (tests show bad input never gets here).</summary>
    private static async Task Guard(HttpContext ctx, RequestDelegate next)
    {
        try
        {
            await next(ctx);
        }
        catch (BadHttpRequestException e) when (!ctx.Response.HasStarted)
        {
            var code = e.StatusCode == StatusCodes.Status413PayloadTooLarge ? "too_large" : "bad_request";
            await ApiJson.Write(ctx, e.StatusCode, code, $"{ctx.Request.Method} {ctx.Request.Path}: {e.Message}");
        }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested)
        {
            // The client went away: nobody to answer.
        }
        catch (Exception e) when (!ctx.Response.HasStarted)
        {
            var api = ctx.RequestServices.GetRequiredService<CoordinatorApi>();
            api.Log.Error(e, "HTTP: {0} {1} failed unexpectedly", ctx.Request.Method, ctx.Request.Path);
            ctx.Response.Clear();
            await ApiJson.Write(ctx, StatusCodes.Status500InternalServerError, "internal_error",
                $"{ctx.Request.Method} {ctx.Request.Path} failed on the coordinator ({e.GetType().Name}); see the coordinator's log");
        }
    }

    private static string StatusCode(int status) => status switch
    {
        404 => "not_found",
        405 => "method_not_allowed",
        415 => "unsupported_media_type",
        _ => status < 500 ? "bad_request" : "server_error",
    };

    private static string ReasonFor(int status) => Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status);

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
