using Cis490.Shared.Security;

namespace Cis490.Shared.Tests;

/// <summary>The rules a fleet token obeys (at least 128 bits by its alphabet, 8 different characters, printable ASCII), and where a
/// node finds its token.</summary>
public sealed class FleetTokenTests
{
    [Theory]
    [InlineData("s3cret", "too short")]
    [InlineData("correct horse battery staple", "not printable ASCII")]
    [InlineData("0123456789abcdef0123456789abcde", "too short")] // 31 hex digits: 124 bits
    [InlineData("12345678901234567890123456789012345678", "too short")] // 38 digits: 126 bits
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "repeats itself")]
    [InlineData("abababababababababababababababab", "repeats itself")]
    [InlineData("Tr0ub4dor&3", "too short")]
    [InlineData("pässwörd-pässwörd-pässwörd", "not printable ASCII")]
    public void A_weak_token_is_refused_with_a_message_that_says_how_to_make_one_and_never_quotes_it(string token, string why)
    {
        var weakness = FleetTokens.Weakness(token, "operator token");

        Assert.NotNull(weakness);
        Assert.Contains(why, weakness);
        Assert.Contains("openssl rand -hex 32", weakness);
        Assert.DoesNotContain(token, weakness);
    }

    [Theory]
    [InlineData("0123456789abcdef0123456789abcdef")] // 16 random bytes as hex
    [InlineData("123456789012345678901234567890123456789")] // 39 digits: 129 bits
    [InlineData("q1w2E3r4T5y6U7i8O9p0aZ")] // 22 characters of letters and digits (131 bits)
    [InlineData("Xk3_-9aQz2Lm7Vb0Rt5Ws1")] // 16 random bytes as base64url
    [InlineData("4f9a1c3e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f")] // what the coordinator makes
    public void A_token_of_16_random_bytes_or_more_is_accepted(string token)
    {
        Assert.Null(FleetTokens.Weakness(token, "worker token"));
    }

    [Fact]
    public void A_token_is_compared_by_value_and_never_shows_in_its_string_form()
    {
        var token = new FleetToken("0123456789abcdef0123456789abcdef", "worker token");

        Assert.True(token.Matches("0123456789abcdef0123456789abcdef"));
        Assert.False(token.Matches("0123456789abcdef0123456789abcdee"));
        Assert.False(token.Matches(""));
        Assert.False(token.Matches(null));
        Assert.DoesNotContain("0123", token.ToString());
        Assert.DoesNotContain("0123", $"{new { token }}");
    }

    [Fact]
    public void A_node_takes_the_token_file_over_the_variable_and_makes_a_strong_owner_only_token_when_it_has_none()
    {
        using var dir = new TempDir();
        var file = Path.Combine(dir.Path, "from-file.token");
        File.WriteAllText(file, "  0123456789abcdef0123456789abcdef\n");
        var env = new Dictionary<string, string?> { ["T_FILE"] = file, ["T"] = "ffffffffffffffffffffffffffffffffffff" };

        var (fromFile, fileSource) = FleetTokens.Resolve("operator token", "T", "T_FILE", Path.Combine(dir.Path, "made.token"), true, k => env.GetValueOrDefault(k));
        env.Remove("T_FILE");
        var weak = Assert.Throws<TokenException>(() => FleetTokens.Resolve("operator token", "T", "T_FILE", null, false, k => env.GetValueOrDefault(k)));
        env.Remove("T");
        var (made, madeSource) = FleetTokens.Resolve("operator token", "T", "T_FILE", Path.Combine(dir.Path, "made.token"), true, k => env.GetValueOrDefault(k));
        var (again, _) = FleetTokens.Resolve("operator token", "T", "T_FILE", Path.Combine(dir.Path, "made.token"), true, k => env.GetValueOrDefault(k));
        env["T_FILE"] = Path.Combine(dir.Path, "missing.token");
        var missing = Assert.Throws<TokenException>(() => FleetTokens.Resolve("operator token", "T", "T_FILE", null, false, k => env.GetValueOrDefault(k)));

        Assert.Equal("0123456789abcdef0123456789abcdef", fromFile);
        Assert.Contains("T_FILE", fileSource);
        Assert.Contains("repeats itself", weak.Message);
        Assert.Contains("(it came from T)", weak.Message);
        Assert.DoesNotContain("ffff", weak.Message);
        Assert.Null(FleetTokens.Weakness(made, "operator token"));
        Assert.Equal(made, again);
        Assert.Contains("made now", madeSource);
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(dir.Path, "made.token")));
        Assert.Contains("missing.token", missing.Message);
    }
}
