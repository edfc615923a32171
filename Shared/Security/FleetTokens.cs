using System.Security.Cryptography;
using System.Text;

namespace Cis490.Shared.Security;

/// <summary>A shared secret of the fleet (the operator token, the <c>/v1</c> worker token): compared in constant time, never printed.</summary>
/// <remarks>Only a SHA-256 digest of the token is kept, and comparison is over digests with
/// <see cref="CryptographicOperations.FixedTimeEquals"/>, so neither the content nor the length of the token leaks through timing.
/// <see cref="ToString"/> names the token, never its value, so a token in a log line or an exception message shows as a name.</remarks>
public sealed class FleetToken
{
    private readonly byte[] _digest;

    /// <summary>What the token is, for messages ("operator token", "worker token").</summary>
    public string What { get; }

    public FleetToken(string token, string what)
    {
        if (string.IsNullOrWhiteSpace(token)) throw new ArgumentException($"the {what} must not be empty", nameof(token));
        _digest = SHA256.HashData(Encoding.UTF8.GetBytes(token));
        What = what;
    }

    /// <summary>Whether <paramref name="presented"/> is the token; null or empty never is.</summary>
    public bool Matches(string? presented) =>
        !string.IsNullOrEmpty(presented) && CryptographicOperations.FixedTimeEquals(_digest, SHA256.HashData(Encoding.UTF8.GetBytes(presented)));

    public override string ToString() => $"({What}, not shown)";
}

/// <summary>The rules every fleet token obeys, and where a node finds its tokens (environment, a file named by the environment,
/// or a file in the data directory made on first start).</summary>
public static class FleetTokens
{
    /// <summary>The least a token must be able to hold: 128 bits, as 16 random bytes do.</summary>
    public const int MinimumBits = 128;

    /// <summary>The fewest different characters a token may have (refuses <c>aaaa…</c> and <c>abab…</c>).</summary>
    public const int MinimumDistinct = 8;

    /// <summary>How to make a good token, for refusals and docs.</summary>
    public const string HowToMake = "make one with `openssl rand -hex 32` (64 hex digits) or `head -c 24 /dev/urandom | base64`";

    /// <summary>Null when <paramref name="token"/> obeys the rules; otherwise what is wrong (never the token itself).</summary>
    /// <remarks>The rules, exactly: (1) only printable ASCII without spaces (<c>!</c> to <c>~</c>): the token travels in an HTTP header
    /// and in files; (2) its length times the bits per character of the smallest of these alphabets that holds all its characters
    /// is at least 128: digits (log2 10), hex digits (4), lowercase letters and digits (log2 36), letters and digits (log2 62),
    /// base64 / base64url (6), printable ASCII (log2 94) — so at least 39 digits, 32 hex digits, 25 lowercase letters and digits,
    /// 22 base64 characters; (3) at least 8 different characters. 16 random bytes as base64url (22 characters) or hex
    /// (32 digits) pass; a word or a short passphrase does not.</remarks>
    public static string? Weakness(string token, string what)
    {
        if (string.IsNullOrEmpty(token)) return $"the {what} is empty; {HowToMake}";
        for (var i = 0; i < token.Length; i++)
            if (token[i] is < '!' or > '~')
                return $"the {what} has a character that is not printable ASCII (position {i + 1}: spaces, control characters and non-ASCII " +
                       $"letters are refused, the token travels in an HTTP header); {HowToMake}";
        var (alphabet, size) = Alphabet(token);
        var bits = token.Length * Math.Log2(size);
        if (bits < MinimumBits)
        {
            var needed = (int)Math.Ceiling(MinimumBits / Math.Log2(size));
            return $"the {what} is too short: {token.Length} characters of {alphabet} hold at most {bits:F0} bits, and a token needs " +
                   $"{MinimumBits} (16 random bytes): at least {needed} such characters; {HowToMake}";
        }
        var distinct = token.Distinct().Count();
        if (distinct < MinimumDistinct)
            return $"the {what} repeats itself ({distinct} different characters; a token needs at least {MinimumDistinct}); {HowToMake}";
        return null;
    }

    private static (string Name, int Size) Alphabet(string token)
    {
        if (token.All(char.IsAsciiDigit)) return ("digits", 10);
        if (token.All(char.IsAsciiHexDigit)) return ("hex digits", 16);
        if (token.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c))) return ("lowercase letters and digits", 36);
        if (token.All(char.IsAsciiLetterOrDigit)) return ("letters and digits", 62);
        if (token.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '+' or '/' or '=')) return ("base64", 64);
        return ("printable ASCII", 94);
    }

    /// <summary>Reads a token file (the whole file, trimmed); a clear refusal when it is missing, unreadable or empty.</summary>
    public static string ReadFile(string path, string what, string whereFrom)
    {
        string text;
        try
        {
            text = File.ReadAllText(path).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TokenException($"cannot read the {what} from {path} ({whereFrom}): {e.Message}");
        }
        if (text.Length == 0) throw new TokenException($"{path} ({whereFrom}) is empty; put the {what} in it ({HowToMake})");
        return text;
    }

    /// <summary>The token a node uses, and where it came from (a variable's or a file's name, never the value): the variable
    /// <paramref name="fileVariable"/> (a path), else <paramref name="variable"/>, else <paramref name="dataDirFile"/>, created on first
    /// start (random, 256 bits, owner-only) when <paramref name="create"/>. Every token found is checked by <see cref="Weakness"/>.</summary>
    /// <exception cref="TokenException">No usable token: a missing or empty file, or a weak token (the message says how to make one).</exception>
    public static (string Token, string Source) Resolve(string what, string variable, string fileVariable, string? dataDirFile, bool create,
        Func<string, string?> environment)
    {
        string token, source;
        if (environment(fileVariable) is { Length: > 0 } file)
        {
            (token, source) = (ReadFile(file, what, fileVariable), $"{file} ({fileVariable})");
        }
        else if (environment(variable) is { } value && !string.IsNullOrWhiteSpace(value))
        {
            (token, source) = (value.Trim(), variable);
        }
        else if (dataDirFile is not null && File.Exists(dataDirFile))
        {
            (token, source) = (ReadFile(dataDirFile, what, "made on an earlier start"), dataDirFile);
        }
        else if (dataDirFile is not null && create)
        {
            token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
            WriteOwnerOnly(dataDirFile, token);
            return (token, $"{dataDirFile} (made now)");
        }
        else throw new TokenException($"no {what}: set {fileVariable} to a file holding it, or {variable}");
        if (Weakness(token, what) is { } weak) throw new TokenException($"{weak} (it came from {source})");
        return (token, source);
    }

    /// <summary>Writes a new token file readable and writable by the owner only (mode 600 on Unix).</summary>
    public static void WriteOwnerOnly(string path, string token)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using var file = new StreamWriter(path, Encoding.ASCII, options);
        file.WriteLine(token);
    }
}

/// <summary>A node cannot find a usable token; the message says which, where it looked and how to make one (never the token).</summary>
public sealed class TokenException(string message) : Exception(message);
