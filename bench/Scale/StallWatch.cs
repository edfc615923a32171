using System.Diagnostics;

namespace Cis490.Bench.Scale;

/// <summary>How long this process went without running (a dedicated thread that sleeps 50 ms and measures how late it woke): on a
/// shared, loaded machine such stalls land in every latency this process measures, so the bench reports them beside the figures.</summary>
public sealed class StallWatch : IDisposable
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(50);
    private readonly Thread _thread;
    private volatile bool _stop;
    private double _worst, _total;
    private int _count;
    private readonly object _gate = new();

    public StallWatch()
    {
        _thread = new Thread(Run) { IsBackground = true, Name = "stall-watch", Priority = ThreadPriority.AboveNormal };
        _thread.Start();
    }

    /// <summary>Since the last reset: the longest stall, the time lost to stalls over 100 ms, and how many there were.</summary>
    public (double WorstSeconds, double TotalSeconds, int Count) Read() { lock (_gate) return (_worst, _total, _count); }

    public void Reset() { lock (_gate) (_worst, _total, _count) = (0, 0, 0); }

    private void Run()
    {
        while (!_stop)
        {
            var start = Stopwatch.GetTimestamp();
            Thread.Sleep(Tick);
            var late = (Stopwatch.GetElapsedTime(start) - Tick).TotalSeconds;
            if (late < 0.1) continue;
            lock (_gate)
            {
                _worst = Math.Max(_worst, late);
                _total += late;
                _count++;
            }
        }
    }

    public void Dispose()
    {
        _stop = true;
        _thread.Join();
    }
}
