using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster.Tools.Client;
using Cis490.Protocols.Operator;
using Cis490.Shared.Cli;
using Cis490.Shared.Config;

namespace Cis490.Shell.Client;

/// <summary>Talks to a running coordinator node from outside the cluster, through a ClusterClient to its <c>/user/operator</c> endpoint.</summary>
public sealed class CoordinatorClient : IAsyncDisposable
{
    private readonly ActorSystem _system;
    private readonly IActorRef _client;
    private readonly TimeSpan _timeout;

    public string Address { get; }

    private CoordinatorClient(ActorSystem system, IActorRef client, TimeSpan timeout, string address)
    {
        _system = system;
        _client = client;
        _timeout = timeout;
        Address = address;
    }

    /// <summary>Connects to <paramref name="hostPort"/> (the coordinator node's Akka address, HOST:PORT).</summary>
    public static CoordinatorClient Connect(string hostPort)
    {
        var colon = hostPort.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(hostPort[(colon + 1)..], out var port) || port is <= 0 or > 65535)
            throw new CliException($"--coordinator must be HOST:PORT (the coordinator node's address), got '{hostPort}'");
        var config = HoconLoader.Load(["shell.conf"])
            .WithFallback(ClusterClientReceptionist.DefaultConfig())
            .WithFallback(Akka.Cluster.Tools.PublishSubscribe.DistributedPubSub.DefaultConfig()); // binds ClusterClient's Send envelope
        var systemName = config.GetString("cis490.system-name");
        var system = ActorSystem.Create("cis490-shell", config);
        var contact = ActorPath.Parse($"akka.tcp://{systemName}@{hostPort}/system/receptionist");
        var client = system.ActorOf(ClusterClient.Props(
            ClusterClientSettings.Create(system).WithInitialContacts(ImmutableHashSet.Create(contact))), "client");
        return new CoordinatorClient(system, client, config.GetTimeSpan("cis490.shell.ask-timeout"), hostPort);
    }

    /// <summary>Sends a request to the operator endpoint and waits for its reply.</summary>
    public async Task<object> Ask(object request)
    {
        try
        {
            return await _client.Ask<object>(new ClusterClient.Send("/user/operator", request), _timeout);
        }
        catch (AskTimeoutException)
        {
            throw new CliException($"no answer from a coordinator at {Address} within {_timeout.TotalSeconds:F0} s: is it running, and is that its address?");
        }
    }

    public async Task<OperatorProtocol.JobList> ListJobs(string? status = null, string? model = null) =>
        await Ask(new OperatorProtocol.ListJobs(status, model)) switch
        {
            OperatorProtocol.JobList list => list,
            var other => throw new CliException($"unexpected reply {other.GetType().Name}"),
        };

    public async ValueTask DisposeAsync() => await _system.Terminate();
}
