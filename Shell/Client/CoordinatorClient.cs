using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster.Tools.Client;
using Akka.Streams;
using Cis490.Protocols.Operator;
using Cis490.Shared.Cli;
using Cis490.Shared.Config;
using Cis490.Shared.Tls;
using Akka.Actor.Setup;
using Akka.Configuration;

namespace Cis490.Shell.Client;

/// <summary>Talks to a running coordinator node from outside the cluster, through a ClusterClient to its <c>/user/operator</c> endpoint.</summary>
public sealed class CoordinatorClient : IAsyncDisposable
{
    private readonly ActorSystem _system;
    private readonly IActorRef _client;
    private readonly TimeSpan _timeout;

    public string Address { get; }

    /// <summary>Whether this client speaks mutual TLS (an operator enrolment folder was given).</summary>
    public bool Tls { get; private init; }

    /// <summary>The shell's typed settings (hocon/shell.conf).</summary>
    public ShellSettings Settings { get; }

    /// <summary>Runs the streams of downloads (an artifact's source ref).</summary>
    public IMaterializer Materializer => _materializer ??= _system.Materializer();

    private IMaterializer? _materializer;

    private CoordinatorClient(ActorSystem system, IActorRef client, ShellSettings settings, string address)
    {
        _system = system;
        _client = client;
        _timeout = settings.AskTimeout;
        Settings = settings;
        Address = address;
    }

    /// <summary>Connects to <paramref name="hostPort"/> (the coordinator node's Akka address, HOST:PORT). With an operator's
    /// enrolment folder (<paramref name="tlsDir"/>, else CIS490_TLS_DIR, else cis490.tls.dir) it speaks mutual TLS and accepts only
    /// a coordinator certificate of the fleet CA at the other end.</summary>
    public static CoordinatorClient Connect(string hostPort, string? tlsDir = null)
    {
        var colon = hostPort.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(hostPort[(colon + 1)..], out var port) || port is <= 0 or > 65535)
            throw new CliException($"--coordinator must be HOST:PORT (the coordinator node's address), got '{hostPort}'");
        var hocon = HoconLoader.Load(["shell.conf"]);
        StartupClock.Mark("hocon");
        var config = hocon
            .WithFallback(ClusterClientReceptionist.DefaultConfig())
            .WithFallback(Akka.Cluster.Tools.PublishSubscribe.DistributedPubSub.DefaultConfig()) // binds ClusterClient's Send envelope
            .WithFallback(ActorMaterializer.DefaultConfig()); // binds the stream-ref serializer: an artifact download arrives as a source ref
        var systemName = config.GetString("cis490.system-name");
        // The shell's own end binds loopback (shell.conf): TLS is its choice, made by giving an operator enrolment folder.
        var security = TransportSecurity.Decide(FleetRole.Operator, config.GetString("akka.remote.dot-netty.tcp.hostname", "127.0.0.1"),
            tlsDir, insecure: false, config.GetString(TransportSecurity.ConfigKey, ""));
        if (security.Enabled) config = ConfigurationFactory.ParseString(security.Overrides).WithFallback(config);
        StartupClock.Mark("config");
        var bootstrap = BootstrapSetup.Create().WithConfig(config);
        var system = ActorSystem.Create("cis490-shell",
            security.Setup() is { } tls ? ActorSystemSetup.Create(bootstrap, tls) : ActorSystemSetup.Create(bootstrap));
        StartupClock.Mark("actor-system");
        var contact = ActorPath.Parse($"{security.Scheme}://{systemName}@{hostPort}/system/receptionist");
        var client = system.ActorOf(ClusterClient.Props(
            ClusterClientSettings.Create(system).WithInitialContacts(ImmutableHashSet.Create(contact))), "client");
        StartupClock.Mark("cluster-client");
        return new CoordinatorClient(system, client, ShellSettings.From(config), hostPort) { Tls = security.Enabled };
    }

    /// <summary>Sends a request to the operator endpoint and waits for its reply, up to ask-timeout. A read
    /// (<see cref="IOperatorRead"/>) is sent again every read-try: the ClusterClient talks to one coordinator node's receptionist
    /// (not necessarily the one named by --coordinator), and a request sent to a node that just crashed is lost; the next try
    /// goes to another node once the client has noticed. A write is sent once: whether it was applied is the operator's call.</summary>
    public Task<object> Ask(object request) => Ask(request, _timeout);

    /// <summary><see cref="Ask(object)"/> with its own <paramref name="timeout"/> (a manifest's answer takes longer). A request that
    /// would not fit one Akka.Remote frame is refused here as "too large": Akka.Remote would drop it without a word.</summary>
    public async Task<object> Ask(object request, TimeSpan timeout)
    {
        var bytes = _system.Serialization.FindSerializerFor(request).ToBinary(request).Length;
        var frame = _system.Settings.Config.GetByteSize("akka.remote.dot-netty.tcp.maximum-frame-size") ?? 128000;
        if (bytes > frame - FrameMargin)
            throw new CliException($"the request ({request.GetType().Name}) is too large: {bytes} bytes, one message holds {frame - FrameMargin} " +
                                   "(akka.remote.dot-netty.tcp.maximum-frame-size); send less at a time");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var envelope = new ClusterClient.Send("/user/operator", request);
        while (true)
        {
            var left = timeout - clock.Elapsed;
            var tryFor = request is IOperatorRead && Settings.ReadTry < left ? Settings.ReadTry : left;
            try
            {
                var answer = await _client.Ask<object>(envelope, tryFor);
                StartupClock.Mark("first-answer");
                return answer;
            }
            catch (AskTimeoutException) when (timeout - clock.Elapsed > Settings.ReadTry / 10)
            {
                // a read whose try went unanswered: ask again (see above)
            }
            catch (AskTimeoutException)
            {
                throw new CliException($"no answer from a coordinator at {Address} within {timeout.TotalSeconds:F0} s: is it running, and is that its address?" +
                                       (Tls ? " (TLS: is it a node of the fleet whose CA issued this operator certificate?)"
                                            : " If the fleet uses TLS, give --tls DIR (an operator enrolment folder) or set CIS490_TLS_DIR."));
            }
        }
    }

    /// <summary>Sends <paramref name="request"/> to the operator endpoint with <paramref name="replyTo"/> as its sender: for a
    /// conversation of several messages (a data-set publication: the upload's sink, then the outcome), which an ask cannot hold.</summary>
    public void Tell(object request, IActorRef replyTo) => _client.Tell(new ClusterClient.Send("/user/operator", request), replyTo);

    /// <summary>Starts an actor in the shell's own actor system (the other end of a <see cref="Tell"/> conversation).</summary>
    public IActorRef Spawn(Props props, string name) => _system.ActorOf(props, name);

    /// <summary>Room left in a frame for the envelope around a request (recipient path, ClusterClient's Send, manifests).</summary>
    private const int FrameMargin = 4096;

    /// <summary>Every job (matching the filters), page by page (<see cref="ShellSettings.ListPage"/> rows a page).</summary>
    public async Task<OperatorProtocol.JobList> ListJobs(string? status = null, string? model = null)
    {
        var rows = new List<OperatorProtocol.JobView>();
        OperatorProtocol.JobList? page = null;
        long? after = null;
        var limit = Settings.ListPage;
        do
        {
            switch (await Ask(new OperatorProtocol.ListJobs(status, model, limit, after)))
            {
                case OperatorProtocol.JobList list:
                    page = list;
                    rows.AddRange(list.Jobs);
                    after = list.Next;
                    break;
                case OperatorProtocol.OperatorError { Kind: Cis490.Protocols.ErrorKind.TooLarge } when limit > 1:
                    limit /= 2; // rows bigger than usual: ask again for half as many
                    break;
                case OperatorProtocol.OperatorError e:
                    throw new CliException(e.Message);
                case var other:
                    throw new CliException($"unexpected reply {other.GetType().Name}");
            }
        } while (page is null || after is not null);
        return page with { Jobs = rows, Next = null };
    }

    /// <summary>Sends a manifest file of any size as a stream of chunks (a source ref the operator endpoint pulls) and waits for
    /// the coordinator's answer (ManifestAccepted, ManifestRejected or OperatorError) up to manifest-timeout.</summary>
    public async Task<object> SubmitManifest(string path, string? token)
    {
        var bytes = await File.ReadAllBytesAsync(path);
        var chunk = Settings.ManifestChunk;
        var chunks = Enumerable.Range(0, (bytes.Length + chunk - 1) / chunk)
            .Select(i => bytes.AsSpan(i * chunk, Math.Min(chunk, bytes.Length - i * chunk)).ToArray());
        var source = await Akka.Streams.Dsl.Source.From(chunks).RunWith(Akka.Streams.Dsl.StreamRefs.SourceRef<byte[]>(), Materializer);
        return await Ask(new OperatorProtocol.SubmitManifestStream(path, bytes.Length, source, token), Settings.ManifestTimeout);
    }

    public async ValueTask DisposeAsync()
    {
        StartupClock.Mark("output");
        await _system.Terminate();
        StartupClock.Mark("shutdown");
    }
}

/// <summary>The shell's settings, read once from <c>cis490.shell</c> (hocon/shell.conf says why each value).</summary>
public sealed record ShellSettings(TimeSpan AskTimeout, TimeSpan FollowInterval, TimeSpan DownloadIdleTimeout, TimeSpan CompletionTimeout, TimeSpan CompletionCache,
    TimeSpan ReadTry, TimeSpan ManifestTimeout, int ListPage, int ManifestChunk, TimeSpan PublishTimeout = default)
{
    public static ShellSettings From(Akka.Configuration.Config config)
    {
        var c = config.GetConfig("cis490.shell") ?? throw new InvalidOperationException("HOCON has no cis490.shell section (is shell.conf loaded?)");
        return new ShellSettings(c.GetTimeSpan("ask-timeout"), c.GetTimeSpan("follow-interval"), c.GetTimeSpan("download-idle-timeout"),
            c.GetTimeSpan("completion-timeout"), c.GetTimeSpan("completion-cache"), c.GetTimeSpan("read-try"), c.GetTimeSpan("manifest-timeout"),
            c.GetInt("list-page"), (int)(c.GetByteSize("manifest-chunk") ?? 65536), c.GetTimeSpan("publish-timeout"));
    }
}
