using System.Text;
using Cis490.Shared.Text;

namespace Cis490.Shell.Interactive;

/// <summary>The terminal the line editor reads keys from and draws on.</summary>
public interface ITerminal
{
    ConsoleKeyInfo ReadKey();
    void Write(string text);
    int Width { get; }
}

/// <summary>The real console: keys without echo, output to the real standard output.</summary>
public sealed class ConsoleTerminal(TextWriter output) : ITerminal
{
    public ConsoleKeyInfo ReadKey() => Console.ReadKey(intercept: true);

    /// <summary>Writes as it is: the line editor's own control sequences, around text it has escaped itself.</summary>
    public void Write(string text)
    {
        Render.SafeTextWriter.WriteControl(output, text);
        output.Flush();
    }

    public int Width
    {
        get
        {
            try { return Console.WindowWidth > 0 ? Console.WindowWidth : 80; }
            catch (IOException) { return 80; }
        }
    }
}

/// <summary>A small line editor over single key presses (no readline package is available here): editing keys, history on the
/// arrows, Tab completion. Long lines scroll sideways so that redrawing with a carriage return never wraps.</summary>
/// <remarks>Keys: ←/→ Home/End Ctrl+A/E/B/F move; Backspace, Delete, Ctrl+U/K/W delete; ↑/↓ Ctrl+P/N history; Tab completes
/// (once: the common part, or the list of choices); Ctrl+L clears the screen; Ctrl+C drops the line; Ctrl+D on an empty line ends.</remarks>
public sealed class LineEditor(ITerminal terminal, History history, Func<string, int, Completion>? complete = null)
{
    private readonly StringBuilder _line = new();
    private int _cursor;
    private string _prompt = "";

    /// <summary>Reads one line; null at the end of input (Ctrl+D on an empty line).</summary>
    public string? ReadLine(string prompt)
    {
        _prompt = prompt;
        _line.Clear();
        _cursor = 0;
        var browsing = history.Entries.Count; // index into history while ↑/↓ browse; Count = the line being typed
        var typed = "";
        Render();
        while (true)
        {
            var key = terminal.ReadKey();
            var ctrl = (key.Modifiers & ConsoleModifiers.Control) != 0;
            switch (key.Key)
            {
                case ConsoleKey.Enter:
                    _cursor = _line.Length;
                    Render();
                    terminal.Write("\r\n");
                    return _line.ToString();
                case ConsoleKey.Tab:
                    Complete();
                    continue;
                case ConsoleKey.Backspace:
                    if (_cursor > 0) _line.Remove(--_cursor, 1);
                    break;
                case ConsoleKey.Delete:
                    if (_cursor < _line.Length) _line.Remove(_cursor, 1);
                    break;
                case ConsoleKey.LeftArrow:
                    _cursor = Math.Max(0, _cursor - 1);
                    break;
                case ConsoleKey.RightArrow:
                    _cursor = Math.Min(_line.Length, _cursor + 1);
                    break;
                case ConsoleKey.Home:
                    _cursor = 0;
                    break;
                case ConsoleKey.End:
                    _cursor = _line.Length;
                    break;
                case ConsoleKey.UpArrow:
                case ConsoleKey.P when ctrl:
                    if (browsing == 0) continue;
                    if (browsing == history.Entries.Count) typed = _line.ToString();
                    Replace(history.Entries[--browsing]);
                    break;
                case ConsoleKey.DownArrow:
                case ConsoleKey.N when ctrl:
                    if (browsing >= history.Entries.Count) continue;
                    browsing++;
                    Replace(browsing == history.Entries.Count ? typed : history.Entries[browsing]);
                    break;
                case ConsoleKey.A when ctrl:
                    _cursor = 0;
                    break;
                case ConsoleKey.E when ctrl:
                    _cursor = _line.Length;
                    break;
                case ConsoleKey.B when ctrl:
                    _cursor = Math.Max(0, _cursor - 1);
                    break;
                case ConsoleKey.F when ctrl:
                    _cursor = Math.Min(_line.Length, _cursor + 1);
                    break;
                case ConsoleKey.U when ctrl:
                    _line.Remove(0, _cursor);
                    _cursor = 0;
                    break;
                case ConsoleKey.K when ctrl:
                    _line.Length = _cursor;
                    break;
                case ConsoleKey.W when ctrl:
                    var start = _cursor;
                    while (start > 0 && _line[start - 1] == ' ') start--;
                    while (start > 0 && _line[start - 1] != ' ') start--;
                    _line.Remove(start, _cursor - start);
                    _cursor = start;
                    break;
                case ConsoleKey.L when ctrl:
                    terminal.Write("\x1b[2J\x1b[H");
                    break;
                case ConsoleKey.C when ctrl:
                    _cursor = _line.Length;
                    Render();
                    terminal.Write("^C\r\n");
                    return "";
                case ConsoleKey.D when ctrl:
                    if (_line.Length == 0)
                    {
                        terminal.Write("\r\n");
                        return null;
                    }
                    if (_cursor < _line.Length) _line.Remove(_cursor, 1);
                    break;
                default:
                    if (key.KeyChar >= ' ' && key.KeyChar != '\x7f' && !ctrl) _line.Insert(_cursor++, key.KeyChar);
                    else if (key.KeyChar is '\b' or '\x7f' && _cursor > 0) _line.Remove(--_cursor, 1); // terminals that send DEL for Backspace
                    else continue;
                    break;
            }
            Render();
        }
    }

    private void Replace(string text)
    {
        _line.Clear().Append(text);
        _cursor = _line.Length;
    }

    /// <summary>Tab: one choice is inserted (with a blank after it); several are narrowed to their common part, or listed when
    /// they have no more in common than what is typed.</summary>
    private void Complete()
    {
        if (complete is null) return;
        var line = _line.ToString();
        var c = complete(line, _cursor);
        if (c.Candidates.Count == 0 || c.Candidates.Any(x => !SafeText.IsSafe(x.Value)))
        {
            terminal.Write("\a");
            return;
        }
        string insert;
        if (c.Candidates.Count == 1) insert = c.Candidates[0].Value + (c.Candidates[0].AppendSpace ? " " : "");
        else
        {
            insert = c.CommonPrefix();
            if (insert.Length <= c.Prefix.Length)
            {
                var described = c.Candidates.Any(x => x.Display.Contains("  ", StringComparison.Ordinal)); // id  model mode status
                var shown = c.Candidates.Select(x => SafeText.Escape(x.Display)).ToList(); // ids and hosts came from the coordinator
                terminal.Write("\r\n" + (described ? string.Join("\r\n", shown) : Columns(shown)) + "\r\n");
                Render();
                return;
            }
        }
        _line.Remove(c.Start, _cursor - c.Start).Insert(c.Start, insert);
        _cursor = c.Start + insert.Length;
        Render();
    }

    /// <summary>Bare choices (command names, files) in columns that fit the terminal; described ones (job ids) go one per line.</summary>
    private string Columns(IReadOnlyList<string> items)
    {
        var width = items.Max(i => i.Length) + 2;
        var perRow = Math.Max(1, (terminal.Width - 1) / width);
        var rows = new List<string>();
        for (var i = 0; i < items.Count; i += perRow)
            rows.Add(string.Concat(items.Skip(i).Take(perRow).Select(x => x.PadRight(width))).TrimEnd());
        return string.Join("\r\n", rows);
    }

    /// <summary>Redraws the prompt and the visible part of the line, then puts the cursor in its place.</summary>
    private void Render()
    {
        var room = Math.Max(10, terminal.Width - _prompt.Length - 1);
        var offset = _line.Length <= room ? 0 : Math.Clamp(_cursor - room + 1, 0, _line.Length - room);
        if (_cursor < offset) offset = _cursor;
        // Escaped like all output (a pasted control character shows as \x..); the cursor column counts the escaped width.
        var visible = SafeText.Escape(_line.ToString(offset, Math.Min(room, _line.Length - offset)));
        var prompt = SafeText.Escape(_prompt);
        var column = prompt.Length + SafeText.Escape(_line.ToString(offset, _cursor - offset)).Length;
        terminal.Write("\r" + prompt + visible + "\x1b[K\r" + (column > 0 ? $"\x1b[{column}C" : ""));
    }
}
