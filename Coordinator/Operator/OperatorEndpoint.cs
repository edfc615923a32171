using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Cis490.Coordinator.Jobs;
using Cis490.Protocols;
using Cis490.Protocols.Operator;
using static Cis490.Protocols.Operator.OperatorQueries;

namespace Cis490.Coordinator.Operator;

/// <summary>The coordinator node's door for operator tools, registered with the ClusterClientReceptionist as <c>/user/operator</c>
/// (the HTTP API uses it too). What belongs to the node rather than to the job table is done here: the operator token is
/// checked before a mutating request goes on, manifest files are read from this node's disk, and cluster membership (show,
/// leave, down, the members in a status) is this node's view. Everything else goes to the JobCoordinator singleton wherever
/// it runs, and its replies go straight back to the tool.</summary>
public sealed partial class OperatorEndpoint : ReceiveActor
{
    public const string Name = "operator";

    /// <summary>A manifest file read off the mailbox: submit it for <paramref name="ReplyTo"/> (nobody for the start-up load).</summary>
    private sealed record ManifestRead(string Path, string? Text, string? Problem, IActorRef ReplyTo) : INoSerializationVerificationNeeded;

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IActorRef _coordinator;
    private readonly OperatorToken _token;
    private readonly string? _manifestPath;
    private readonly TimeSpan _askTimeout;
    private readonly TimeSpan _readTry;
    private readonly Limits _limits = Limits.From(Context.System.Settings.Config);

    /// <param name="coordinator">The JobCoordinator singleton's proxy.</param>
    /// <param name="manifestPath">This node's <c>--manifest</c>: submitted once when the endpoint starts (idempotent: known jobs keep
    /// their status), and read again by <c>manifest reload</c> without a path.</param>
    /// <param name="askTimeout">How long a status or a read waits for the coordinator's answer (cis490.coordinator.operator-ask-timeout).</param>
    /// <param name="readTry">How long one try of a read waits before it is sent again (cis490.coordinator.operator-read-try).</param>
    public OperatorEndpoint(IActorRef coordinator, OperatorToken token, string? manifestPath, TimeSpan askTimeout, TimeSpan? readTry = null)
    {
        _coordinator = coordinator;
        _token = token;
        _manifestPath = manifestPath;
        _askTimeout = askTimeout;
        _readTry = readTry ?? TimeSpan.FromSeconds(1);

        Receive<OperatorProtocol.SubmitManifest>(m =>
        {
            if (Authorized(m.Token, $"manifest {m.FileName}", r => new OperatorProtocol.OperatorError(r.Message, r.Kind)))
                _coordinator.Forward(m with { Token = null });
        });
        Receive<OperatorProtocol.ReloadManifest>(m =>
        {
            if (Authorized(m.Token, "manifest reload", r => new OperatorProtocol.OperatorError(r.Message, r.Kind))) ReadManifest(Sender);
        });
        Receive<ManifestRead>(Submit);
        Receive<OperatorProtocol.SubmitManifestStream>(SubmitStream);
        Receive<ManifestStreamed>(Streamed);
        Receive<OperatorProtocol.CancelJob>(m =>
        {
            if (Authorized(m.Token, $"cancel {m.JobId}", r => OperatorProtocol.OperatorResult.Refused(r.Kind, m.JobId, "", r.Message)))
                _coordinator.Forward(m with { Token = null });
        });
        Receive<OperatorProtocol.RequeueJob>(m =>
        {
            if (Authorized(m.Token, $"requeue {m.JobId}", r => OperatorProtocol.OperatorResult.Refused(r.Kind, m.JobId, "", r.Message)))
                _coordinator.Forward(m with { Token = null });
        });
        Receive<Protocols.DataSets.DataSetProtocol.Publish>(m =>
        {
            // Forwarded: the coordinator's data-set store answers the publisher itself (an upload, then the outcome).
            if (Authorized(m.Token, $"data publish {m.Sha256}", r => new Protocols.DataSets.DataSetProtocol.PublishRefused(m.Sha256, r.Message, r.Kind)))
                _coordinator.Forward(m with { Token = null });
        });
        Receive<Protocols.DataSets.DataSetProtocol.ListDataSets>(Read);
        Receive<ChangeMember>(ChangeMemberStatus);
        Receive<ShowCluster>(_ => Sender.Tell(ClusterNow()));
        Receive<GetStatus>(m =>
        {
            // The coordinator counts jobs and workers; the members are this node's view of the cluster.
            var replyTo = Sender;
            var cluster = ClusterOrNull(); // read here: the continuation runs outside the actor, where Context is not available
            _coordinator.Ask<object>(m, _askTimeout).PipeTo(replyTo,
                success: reply => reply is StatusView s ? s with { Members = cluster is null ? [] : OperatorViews.Members(cluster.State) } : reply,
                failure: _ => new OperatorProtocol.OperatorError($"the coordinator did not answer within {_askTimeout.TotalSeconds:0.#} s", ErrorKind.Unavailable));
        });
        Receive<OperatorProtocol.ListJobs>(Read);
        Receive<ShowJob>(Read);
        Receive<ListWorkers>(Read);
        Receive<ListArtifacts>(Read);
        Receive<GetArtifact>(Read);
        Receive<GetJobLogs>(Read);
        Receive<GetHealth>(Health);
        ReceiveDiagnostics(); // OperatorEndpoint.Diagnostics.cs: log peek/tail, actor hierarchy, cluster tail
        // The start-up load's answer (the singleton logs the details).
        Receive<OperatorProtocol.ManifestAccepted>(a =>
            _log.Info("Manifest {0} loaded at start: {1} new job(s), {2} already known", a.FileName, a.AddedCount, a.KnownCount));
        Receive<OperatorProtocol.ManifestRejected>(r =>
            _log.Error("Manifest {0} given at start was rejected: {1} error(s), first: {2}", r.FileName, r.TotalCount, r.Errors[0]));
        Receive<OperatorProtocol.OperatorError>(e => _log.Error("Manifest given at start was not loaded: {0}", e.Message));
    }

    public static Props Props(IActorRef coordinator, OperatorToken token, string? manifestPath, TimeSpan askTimeout, TimeSpan? readTry = null) =>
        Akka.Actor.Props.Create(() => new OperatorEndpoint(coordinator, token, manifestPath, askTimeout, readTry));

    protected override void PreStart()
    {
        // The singleton proxy buffers the submission until the coordinator runs (wherever it runs).
        if (_manifestPath is not null) ReadManifest(Self);
    }

    /// <summary>Asks the coordinator a read, again every <see cref="_readTry"/> until <see cref="_askTimeout"/>, and answers the
    /// first reply (or "unavailable"). The proxy sends to the singleton's last known node until that node is removed from the
    /// cluster, so during a crash take-over a read sent once is lost and its asker waits out its whole timeout; asked again,
    /// it is answered as soon as the singleton runs on its new node. Reads only: asking twice changes nothing.</summary>
    private void Read(object query)
    {
        Relay(AskRead(query), Sender);
    }

    private async Task<object> AskRead(object query)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var left = _askTimeout - clock.Elapsed;
            // The last try gets at least a tenth of a try: a sliver of the budget left would send a burst of asks that cannot be answered.
            if (left < _readTry / 10)
                return new OperatorProtocol.OperatorError(
                    $"the coordinator did not answer within {_askTimeout.TotalSeconds:0.#} s (asked every {_readTry.TotalSeconds:0.#} s; it may be moving to another node)",
                    ErrorKind.Unavailable);
            try
            {
                return await _coordinator.Ask<object>(query, left < _readTry ? left : _readTry);
            }
            catch (AskTimeoutException)
            {
                // lost on the way to a node that is gone, or the coordinator is recovering: ask again while time is left
            }
        }
    }

    /// <summary>Whether a mutating request carries the operator token; if not, the refusal (Unauthorized without a token,
    /// Forbidden with a wrong one) is answered and logged with where the request came from.</summary>
    private bool Authorized(string? token, string what, Func<Refusal, object> refusal)
    {
        if (_token.Matches(token)) return true;
        var missing = string.IsNullOrEmpty(token);
        _log.Warning("Refused {0} from {1}: {2} operator token", what, Sender.Path.Address, missing ? "no" : "a wrong");
        Sender.Tell(refusal(new Refusal(missing ? ErrorKind.Unauthorized : ErrorKind.Forbidden,
            $"refused: {(missing ? "this request needs the operator token" : "wrong operator token")} (--token or {OperatorToken.EnvironmentVariable})")));
        return false;
    }

    /// <summary>Reads this node's <c>--manifest</c> off the mailbox, then submits it (<see cref="ManifestRead"/>).</summary>
    private void ReadManifest(IActorRef replyTo)
    {
        if (_manifestPath is not { } path)
        {
            replyTo.Tell(new OperatorProtocol.OperatorError(
                "this coordinator was started without --manifest, so there is no file to reload; give one: manifest reload PATH", ErrorKind.Invalid));
            return;
        }
        File.ReadAllTextAsync(path).PipeTo(Self,
            success: text => new ManifestRead(path, text, null, replyTo),
            failure: e => new ManifestRead(path, null, e.GetBaseException().Message, replyTo));
    }

    private void Submit(ManifestRead r)
    {
        if (r.Text is null)
        {
            _log.Error("Cannot read the manifest {0}: {1}", r.Path, r.Problem!);
            r.ReplyTo.Tell(new OperatorProtocol.OperatorError(
                $"cannot read {r.Path} on the coordinator node: {r.Problem}; fix it, or give a file: manifest reload PATH", ErrorKind.Unavailable));
            return;
        }
        _coordinator.Tell(new OperatorProtocol.SubmitManifest(r.Path, r.Text), r.ReplyTo);
    }

    /// <summary>The coordinator's own health answer; while it is stopped between two restarts on this node (it answers
    /// "unavailable" then, or nothing while it recovers) the answer says so, with how many times it restarted and why.</summary>
    private void Health(GetHealth m)
    {
        var replyTo = Sender;
        var restarts = CoordinatorRestarts.Get(Context.System); // read here: the continuation runs outside the actor
        _coordinator.Ask<object>(m, _askTimeout).ContinueWith(t =>
        {
            var reply = t.IsCompletedSuccessfully ? t.Result : null;
            if (reply is CoordinatorHealth) return reply;
            var now = restarts.Now();
            if (now.Restarting || now.FailedStarts > 0)
                return new CoordinatorHealth(0, 0, 0, 0, 0, DateTimeOffset.UtcNow, Restarting: true, now.Restarts, now.FailedStarts, now.LastFailure);
            return reply ?? new OperatorProtocol.OperatorError($"the coordinator did not answer within {_askTimeout.TotalSeconds:0.#} s", ErrorKind.Unavailable);
        }).PipeTo(replyTo);
    }

    /// <summary>The cluster as this node sees it; empty when the node is not a cluster member (a local test system).</summary>
    private ClusterView ClusterNow()
    {
        if (ClusterOrNull() is not { } cluster) return new ClusterView("", [], DateTimeOffset.UtcNow);
        var state = cluster.State;
        return new ClusterView(state.Leader?.ToString() ?? "", OperatorViews.Members(state), DateTimeOffset.UtcNow);
    }

    private Akka.Cluster.Cluster? ClusterOrNull() =>
        ((ExtendedActorSystem)Context.System).Provider is ClusterActorRefProvider ? Akka.Cluster.Cluster.Get(Context.System) : null;

    private void ChangeMemberStatus(ChangeMember m)
    {
        var what = m.Down ? "down" : "leave";
        if (!Authorized(m.Token, $"cluster {what} {m.Address}", r => OperatorProtocol.OperatorResult.Refused(r.Kind, m.Address, "", r.Message))) return;
        if (ClusterOrNull() is not { } cluster)
        {
            Sender.Tell(OperatorProtocol.OperatorResult.Refused(ErrorKind.Unavailable, m.Address, "", "this coordinator is not part of a cluster"));
            return;
        }
        var member = OperatorViews.ResolveMember(cluster.State.Members, m.Address, out var problem);
        if (member is null)
        {
            Sender.Tell(OperatorProtocol.OperatorResult.Refused(problem!.Kind, m.Address, "", problem.Message));
            return;
        }
        var address = member.Address;
        if (m.Down) cluster.Down(address);
        else cluster.Leave(address);
        var message = m.Down
            ? "marked down (it is removed from the cluster; its leases end and its jobs are retried)"
            : "asked to leave (it moves through leaving, exiting and removed; a coordinator node hands the singleton over first)";
        _log.Warning("Operator: cluster {0} {1} (was {2})", what, address, member.Status);
        Sender.Tell(new OperatorProtocol.OperatorResult(true, address.ToString(), member.Status.ToString().ToLowerInvariant(), message));
    }
}
