using Akka.Event;
using static Cis490.Protocols.Diagnostics.DiagnosticsProtocol;

namespace Cis490.Shared.Diagnostics;

/// <summary>The latest log lines of this node's actor system, in memory (<c>log peek</c>/<c>log tail</c> read them through the
/// cluster); <see cref="NodeDiagnostics"/> fills it from the event stream. Bounded by <c>cis490.diagnostics.log-lines</c>: older
/// lines are dropped, and a reader that fell behind is told how many it missed.</summary>
public sealed class NodeLog
{
    private readonly object _gate = new();
    private readonly NodeLogLine[] _ring;
    private long _next = 1; // the next line's sequence number

    public NodeLog(int capacity) => _ring = new NodeLogLine[Math.Max(1, capacity)];

    public void Add(DateTimeOffset at, string level, string source, string message)
    {
        lock (_gate)
        {
            _ring[_next % _ring.Length] = new NodeLogLine(_next, at, level, source, message);
            _next++;
        }
    }

    /// <summary>Lines after <paramref name="after"/> (negative: the last <paramref name="max"/>) at <paramref name="minLevel"/> or
    /// above, at most <paramref name="max"/>; the next sequence number to ask after; how many after <paramref name="after"/> are gone.</summary>
    public (IReadOnlyList<NodeLogLine> Lines, long Next, long Dropped) Read(long after, string minLevel, int max)
    {
        var floor = LevelRank(minLevel);
        lock (_gate)
        {
            var oldest = Math.Max(1, _next - _ring.Length);
            var matching = new List<NodeLogLine>();
            var from = after < 0 ? oldest : Math.Max(oldest, after + 1);
            var dropped = after < 0 ? 0 : Math.Max(0, oldest - (after + 1));
            for (var seq = from; seq < _next; seq++)
            {
                var line = _ring[seq % _ring.Length];
                if (LevelRank(line.Level) >= floor) matching.Add(line);
            }
            if (after < 0) return (matching.TakeLast(max).ToList(), _next - 1, 0);
            var taken = matching.Take(max).ToList();
            // With more than max lines waiting, the next read starts after the last one returned.
            var next = taken.Count == matching.Count ? _next - 1 : taken[^1].Seq;
            return (taken, next, dropped);
        }
    }

    /// <summary>A level's rank (debug 0 … error 3); an unknown one is refused with the list.</summary>
    public static int LevelRank(string level)
    {
        var i = Protocols.Diagnostics.DiagnosticsProtocol.Levels.ToList().IndexOf(level);
        return i >= 0 ? i : throw new ArgumentException($"unknown log level '{level}'; one of {string.Join(", ", Protocols.Diagnostics.DiagnosticsProtocol.Levels)}");
    }

    public static string LevelName(LogLevel level) => level switch
    {
        LogLevel.DebugLevel => "debug",
        LogLevel.InfoLevel => "info",
        LogLevel.WarningLevel => "warning",
        _ => "error",
    };
}
