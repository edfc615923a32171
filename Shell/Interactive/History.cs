namespace Cis490.Shell.Interactive;

/// <summary>The interactive shell's command history: in memory for the arrows, appended to a file so the next session has it.</summary>
/// <remarks>A line that carries <c>--token</c> is kept for this session only and never written to the file: the token is a secret.
/// File problems (a read-only home) cost the persistence, never the session.</remarks>
public sealed class History
{
    public const string EnvironmentVariable = "CIS490_SHELL_HISTORY";

    private readonly List<string> _entries = [];
    private readonly string? _path;
    private readonly int _max;

    public IReadOnlyList<string> Entries => _entries;

    /// <summary>Why the history file could not be read or written, if it could not (shown once).</summary>
    public string? Problem { get; private set; }

    /// <param name="path">The history file, or null for memory only.</param>
    /// <param name="max">How many lines are kept (the oldest go first).</param>
    public History(string? path, int max = 1000)
    {
        _path = path;
        _max = max;
        if (path is null || !File.Exists(path)) return;
        try
        {
            _entries.AddRange(File.ReadLines(path).Where(l => l.Length > 0).TakeLast(max));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Problem = $"cannot read the history file {path}: {e.Message}";
        }
    }

    /// <summary><c>$CIS490_SHELL_HISTORY</c>, else <c>~/.cis490/shell_history</c>.</summary>
    public static string DefaultPath() =>
        Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } p
            ? p
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cis490", "shell_history");

    public void Add(string line)
    {
        line = line.Trim();
        if (line.Length == 0 || (_entries.Count > 0 && _entries[^1] == line)) return;
        _entries.Add(line);
        if (_entries.Count > _max) _entries.RemoveAt(0);
        if (_path is null || line.Contains("--token", StringComparison.Ordinal)) return;
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(_path))!);
            File.AppendAllLines(_path, [line]);
            // Keep the file near its bound: rewrite it with the newest lines once it holds twice as many.
            if (new FileInfo(_path).Length > 200L * _max && File.ReadLines(_path).Count() > 2 * _max)
                File.WriteAllLines(_path, File.ReadLines(_path).TakeLast(_max).ToList());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Problem ??= $"cannot write the history file {_path}: {e.Message}";
        }
    }
}
