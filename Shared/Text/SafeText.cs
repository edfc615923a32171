using System.Globalization;
using System.Text;

namespace Cis490.Shared.Text;

/// <summary>Makes text from the network or a file safe to show on a terminal: every character a terminal would act on rather than
/// show is replaced by a visible escape. The one function the shell (and every message that quotes input) uses.</summary>
/// <remarks>Escaped: C0 controls (U+0000–U+001F, ESC included, so no escape sequence reaches a terminal), DEL (U+007F), C1 controls
/// (U+0080–U+009F, CSI among them), the bidi controls U+061C, U+200E, U+200F, U+202A–U+202E and U+2066–U+2069 (they reorder what
/// follows them: "Trojan Source"), the line and paragraph separators U+2028/U+2029, and lone surrogates. Shown as <c>\xNN</c> up
/// to U+00FF and <c>\uNNNN</c> above (<c>\x1b</c>, <c>\u202e</c>). Everything else — letters of any script, emoji, <c>\</c> — is
/// left as it is.</remarks>
public static class SafeText
{
    /// <summary>Whether a terminal would act on <paramref name="c"/> rather than show it (lone surrogates are checked by <see cref="Escape"/>).</summary>
    public static bool IsUnsafe(char c) =>
        c < ' ' || c is >= '\u007f' and <= '\u009f' or '\u061c' or '\u200e' or '\u200f' or >= '\u202a' and <= '\u202e'
            or >= '\u2066' and <= '\u2069' or '\u2028' or '\u2029';

    /// <summary>Whether <paramref name="s"/> needs no escaping (no character <see cref="IsUnsafe"/>, no lone surrogate).</summary>
    public static bool IsSafe(string? s) => s is null || FirstUnsafe(s, keepNewlines: false) < 0;

    /// <summary><paramref name="s"/> with every unsafe character escaped (newlines and tabs too: one value stays on one line).</summary>
    public static string Escape(string? s) => Escape(s, keepNewlines: false);

    /// <summary><paramref name="s"/> with every unsafe character escaped; with <paramref name="keepNewlines"/>, <c>\n</c> and <c>\t</c> are
    /// kept (for whole lines of output, where they are layout).</summary>
    public static string Escape(string? s, bool keepNewlines)
    {
        if (s is null) return "";
        var first = FirstUnsafe(s, keepNewlines);
        if (first < 0) return s;
        var sb = new StringBuilder(s.Length + 16);
        sb.Append(s, 0, first);
        for (var i = first; i < s.Length; i++)
        {
            var c = s[i];
            if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                sb.Append(c).Append(s[++i]);
                continue;
            }
            if (keepNewlines && c is '\n' or '\t') sb.Append(c);
            else if (IsUnsafe(c) || char.IsSurrogate(c)) AppendEscape(sb, c);
            else sb.Append(c);
        }
        return sb.ToString();
    }

    private static void AppendEscape(StringBuilder sb, char c)
    {
        if (c <= '\u00ff') sb.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
        else sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
    }

    private static int FirstUnsafe(string s, bool keepNewlines)
    {
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                i++;
                continue;
            }
            if (keepNewlines && c is '\n' or '\t') continue;
            if (IsUnsafe(c) || char.IsSurrogate(c)) return i;
        }
        return -1;
    }
}
