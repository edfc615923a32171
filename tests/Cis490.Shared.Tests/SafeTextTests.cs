using Cis490.Shared.Text;

namespace Cis490.Shared.Tests;

/// <summary>The one function that makes text from the network safe for a terminal.</summary>
public sealed class SafeTextTests
{
    [Theory]
    [InlineData("job-1", "job-1")]
    [InlineData("\u001b[31mred\u001b[0m", "\\x1b[31mred\\x1b[0m")]
    [InlineData("\u001b]0;pwned\u0007", "\\x1b]0;pwned\\x07")]
    [InlineData("a\0b", "a\\x00b")]
    [InlineData("line\nnext\ttab\r", "line\\x0anext\\x09tab\\x0d")]
    [InlineData("del\u007f c1\u009b", "del\\x7f c1\\x9b")]
    [InlineData("gpu\u202Egnp.exe", "gpu\\u202egnp.exe")]
    [InlineData("\u2066isolate\u2069 \u200f", "\\u2066isolate\\u2069 \\u200f")]
    [InlineData("héllo ≥ 世界 🙂 C:\\path", "héllo ≥ 世界 🙂 C:\\path")]
    public void Control_and_bidi_characters_become_visible_escapes_and_everything_else_is_kept(string input, string expected)
    {
        var escaped = SafeText.Escape(input);

        Assert.Equal(expected, escaped);
        Assert.True(SafeText.IsSafe(escaped));
        Assert.Equal(input == expected, SafeText.IsSafe(input));
    }

    [Fact]
    public void Whole_lines_keep_their_newlines_and_tabs_but_lose_every_other_control()
    {
        Assert.Equal("a\n\tb\\x1b[K\\x0d", SafeText.Escape("a\n\tb\u001b[K\r", keepNewlines: true));
        Assert.Equal("", SafeText.Escape(null));
        Assert.Equal("lone \\ud800 surrogate", SafeText.Escape("lone " + (char)0xD800 + " surrogate")); // built here: attributes cannot hold one
    }
}
