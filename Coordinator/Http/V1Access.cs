using Cis490.Shared.Security;

namespace Cis490.Coordinator.Http;

/// <summary>Who may use the <c>/v1</c> worker endpoints (claim, heartbeat, complete, fail, upload): holders of the worker token,
/// or — only when the operator opened them with <c>--v1-anonymous</c> on a loopback bind — anyone.</summary>
/// <param name="WorkerToken">The worker token; null only when <paramref name="Anonymous"/>.</param>
/// <param name="Anonymous">Whether the endpoints take requests without a credential (the earlier fleet's credential-less workers).</param>
public sealed record V1Access(FleetToken? WorkerToken, bool Anonymous)
{
    /// <summary>Worker endpoints need <paramref name="token"/>.</summary>
    public static V1Access RequireToken(FleetToken token) => new(token, false);

    /// <summary>Worker endpoints take anyone (<c>--v1-anonymous</c>); a token, when given, is still accepted.</summary>
    public static V1Access Open(FleetToken? token = null) => new(token, true);

    /// <summary>The headers a worker credential is taken from, in order: <c>Authorization: Bearer T</c> (what an HTTP client sends),
    /// <c>X-Worker-Token: T</c>, and <c>X-Operator-Token: T</c> — the one header the earlier fleet's client code already sends from
    /// the <c>CIS490_OPERATOR_TOKEN</c> variable, so an old worker host is upgraded by setting that variable to the worker token.</summary>
    public static readonly string[] Headers = ["Authorization", "X-Worker-Token", "X-Operator-Token"];
}
