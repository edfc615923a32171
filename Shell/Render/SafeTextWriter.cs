using System.Text;
using Cis490.Shared.Text;

namespace Cis490.Shell.Render;

/// <summary>A writer that lets only safe text through to the terminal: every character <see cref="SafeText"/> calls unsafe (ESC, other
/// C0 and C1 controls, DEL, bidi overrides) is written as a visible escape (<c>\x1b</c>, <c>\u202e</c>); newlines and tabs stay layout.</summary>
/// <remarks>The shell writes everything — tables, detail views, log lines, errors, the interactive prompt — through one of these, so a
/// job id, host name, manifest value or error that came from the network or a file cannot move the cursor, retitle the window, hide
/// text or reorder a line. The shell's own control sequences (the live progress line, the line editor) go through
/// <see cref="WriteControl"/>, the one way around it. JSON output is escaped by its encoder first (<see cref="TextTable.Json"/>),
/// so it reaches the writer as plain ASCII and stays valid JSON.</remarks>
public sealed class SafeTextWriter : TextWriter
{
    private readonly TextWriter _inner;
    private char? _high; // a high surrogate written alone, waiting for its low half

    private SafeTextWriter(TextWriter inner) : base(inner.FormatProvider) => _inner = inner;

    /// <summary><paramref name="writer"/> wrapped (once: a wrapped writer is returned as it is).</summary>
    public static TextWriter Wrap(TextWriter writer) => writer is SafeTextWriter ? writer : new SafeTextWriter(writer);

    /// <summary>Writes the shell's own terminal control sequence <paramref name="sequence"/> as it is (only constant sequences of
    /// the shell's own: never text that came from elsewhere).</summary>
    public static void WriteControl(TextWriter writer, string sequence)
    {
        if (writer is SafeTextWriter safe)
        {
            safe.FlushHigh();
            safe._inner.Write(sequence);
        }
        else writer.Write(sequence);
    }

    public override Encoding Encoding => _inner.Encoding;

    [System.Diagnostics.CodeAnalysis.AllowNull]
    public override string NewLine
    {
        get => _inner.NewLine;
        set => _inner.NewLine = value;
    }

    public override void Write(char value)
    {
        if (_high is { } high)
        {
            _high = null;
            _inner.Write(SafeText.Escape(new string([high, value]), keepNewlines: true));
            return;
        }
        if (char.IsHighSurrogate(value))
        {
            _high = value;
            return;
        }
        _inner.Write(SafeText.Escape(value.ToString(), keepNewlines: true));
    }

    public override void Write(string? value)
    {
        if (string.IsNullOrEmpty(value)) return;
        FlushHigh();
        _inner.Write(SafeText.Escape(value, keepNewlines: true));
    }

    public override void Write(char[] buffer, int index, int count) => Write(new string(buffer, index, count));

    public override void Write(ReadOnlySpan<char> buffer) => Write(new string(buffer));

    public override void WriteLine(string? value)
    {
        Write(value);
        FlushHigh();
        _inner.WriteLine();
    }

    public override void WriteLine()
    {
        FlushHigh();
        _inner.WriteLine();
    }

    public override void Flush()
    {
        _inner.Flush();
    }

    private void FlushHigh()
    {
        if (_high is not { } high) return;
        _high = null;
        _inner.Write(SafeText.Escape(high.ToString()));
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) FlushHigh();
        base.Dispose(disposing);
    }
}
