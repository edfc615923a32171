using System.Security.Cryptography;
using System.Text;

namespace Cis490.Coordinator.Operator;

/// <summary>The shared secret that mutating operator requests (cancel, requeue, manifest, cluster leave/down) must carry.</summary>
/// <remarks>Compared in constant time over SHA-256 digests, so neither the content nor the length of the real token leaks through timing.</remarks>
public sealed class OperatorToken
{
    public const string EnvironmentVariable = "CIS490_OPERATOR_TOKEN";
    public const string FileName = "operator.token";

    private readonly byte[] _digest;

    public OperatorToken(string token)
    {
        if (string.IsNullOrWhiteSpace(token)) throw new ArgumentException("the operator token must not be empty", nameof(token));
        _digest = SHA256.HashData(Encoding.UTF8.GetBytes(token));
    }

    /// <summary>Whether <paramref name="presented"/> is the token; null or empty never is.</summary>
    public bool Matches(string? presented) =>
        !string.IsNullOrEmpty(presented) && CryptographicOperations.FixedTimeEquals(_digest, SHA256.HashData(Encoding.UTF8.GetBytes(presented)));

    /// <summary>The token a coordinator node uses: <c>CIS490_OPERATOR_TOKEN</c> when set, else the one in
    /// <c>&lt;data-dir&gt;/operator.token</c>, created (random, 256 bits, readable by the owner only) on first start.</summary>
    public static (string Token, string Source) Resolve(string dataDir, string? fromEnvironment)
    {
        if (!string.IsNullOrWhiteSpace(fromEnvironment)) return (fromEnvironment.Trim(), EnvironmentVariable);
        var path = Path.Combine(dataDir, FileName);
        if (File.Exists(path))
        {
            var stored = File.ReadAllText(path).Trim();
            if (stored.Length == 0) throw new InvalidOperationException($"{path} is empty; delete it to have a new token made, or set {EnvironmentVariable}");
            return (stored, path);
        }
        var token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var file = new StreamWriter(path, Encoding.ASCII, options)) file.WriteLine(token);
        return (token, path);
    }
}
