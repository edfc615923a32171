using Cis490.Shared.Security;

namespace Cis490.Coordinator.Operator;

/// <summary>The shared secret that mutating operator requests (cancel, requeue, manifest, cluster leave/down) must carry.</summary>
/// <remarks>Compared in constant time over SHA-256 digests (<see cref="FleetToken"/>); never printed.</remarks>
public sealed class OperatorToken
{
    public const string EnvironmentVariable = "CIS490_OPERATOR_TOKEN";
    public const string FileVariable = "CIS490_OPERATOR_TOKEN_FILE";
    public const string FileName = "operator.token";
    public const string What = "operator token";

    private readonly FleetToken _token;

    public OperatorToken(string token) => _token = new FleetToken(token, What);

    /// <summary>Whether <paramref name="presented"/> is the token; null or empty never is.</summary>
    public bool Matches(string? presented) => _token.Matches(presented);

    public override string ToString() => _token.ToString();

    /// <summary>The token a coordinator node uses: the file <c>CIS490_OPERATOR_TOKEN_FILE</c> names, else <c>CIS490_OPERATOR_TOKEN</c>,
    /// else the one in <c>&lt;data-dir&gt;/operator.token</c>, created (random, 256 bits, readable by the owner only) on first start.
    /// A token weaker than <see cref="FleetTokens.Weakness"/> allows is refused with a <see cref="TokenException"/>.</summary>
    public static (string Token, string Source) Resolve(string dataDir, Func<string, string?> environment) =>
        FleetTokens.Resolve(What, EnvironmentVariable, FileVariable, Path.Combine(dataDir, FileName), create: true, environment);
}

/// <summary>The credential of the earlier fleet's <c>/v1</c> HTTP workers (claim, heartbeat, complete, fail, upload).</summary>
/// <remarks>A separate secret from the operator token: a worker host holds it, and it lets its holder speak for HTTP leases only,
/// never cancel, requeue or change the manifest.</remarks>
public static class WorkerToken
{
    public const string EnvironmentVariable = "CIS490_WORKER_TOKEN";
    public const string FileVariable = "CIS490_WORKER_TOKEN_FILE";
    public const string FileName = "worker.token";
    public const string What = "worker token";

    /// <summary>As <see cref="OperatorToken.Resolve"/>: <c>CIS490_WORKER_TOKEN_FILE</c>, else <c>CIS490_WORKER_TOKEN</c>, else
    /// <c>&lt;data-dir&gt;/worker.token</c>, made on first start.</summary>
    public static (FleetToken Token, string Source) Resolve(string dataDir, Func<string, string?> environment)
    {
        var (token, source) = FleetTokens.Resolve(What, EnvironmentVariable, FileVariable, Path.Combine(dataDir, FileName), create: true, environment);
        return (new FleetToken(token, What), source);
    }
}
