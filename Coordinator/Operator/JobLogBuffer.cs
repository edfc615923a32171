using Cis490.Protocols.Jobs;
using static Cis490.Protocols.Operator.OperatorQueries;

namespace Cis490.Coordinator.Operator;

/// <summary>The trainers' progress lines per job, in the coordinator's memory, for <c>jobs logs</c>: a bounded ring per job and a
/// bounded number of jobs (the job written to least recently is forgotten first). Volatile: a coordinator restart or hand-over
/// starts it empty, and lines of jobs that were running then resume with the next heartbeat.</summary>
/// <remarks>Not thread-safe: the JobCoordinator actor is its only user. Line numbers count per job from 1 and never repeat, even
/// when old lines fall out of the ring, so <c>After</c> paging stays correct (a reader that fell behind simply skips the lost ones).</remarks>
public sealed class JobLogBuffer
{
    private sealed class Ring(int capacity)
    {
        public readonly Queue<LogLine> Lines = new(Math.Min(capacity, 64));
        public long LastNumber;
        public long Touched;
    }

    private readonly Dictionary<string, Ring> _jobs = new(StringComparer.Ordinal);
    private long _clock;

    public int LinesPerJob { get; }
    public int MaxJobs { get; }

    public JobLogBuffer(int linesPerJob, int maxJobs)
    {
        if (linesPerJob < 1) throw new ArgumentOutOfRangeException(nameof(linesPerJob), linesPerJob, "job-log lines-per-job must be at least 1");
        if (maxJobs < 1) throw new ArgumentOutOfRangeException(nameof(maxJobs), maxJobs, "job-log jobs must be at least 1");
        LinesPerJob = linesPerJob;
        MaxJobs = maxJobs;
    }

    /// <summary>How many jobs have lines.</summary>
    public int JobCount => _jobs.Count;

    /// <summary>Appends the lines of one heartbeat. A heartbeat without its own lines (an older worker) contributes its latest
    /// progress, unless it repeats the job's previous line (a trainer between epochs heartbeats the same progress again).</summary>
    public void Record(string jobId, long leaseId, DateTimeOffset at, TrainingProgress latest, IReadOnlyList<TrainingProgress>? lines)
    {
        if (!_jobs.TryGetValue(jobId, out var ring))
        {
            if (_jobs.Count >= MaxJobs) _jobs.Remove(_jobs.MinBy(kv => kv.Value.Touched).Key);
            _jobs[jobId] = ring = new Ring(LinesPerJob);
        }
        ring.Touched = ++_clock;
        IEnumerable<TrainingProgress> incoming = lines ?? [latest];
        foreach (var p in incoming)
        {
            // Elapsed time changes with every heartbeat; a line is new when anything else does.
            if (lines is null && ring.Lines.Count > 0 && ring.Lines.Last() is var last && last.LeaseId == leaseId
                && last.Progress with { ElapsedSeconds = 0 } == p with { ElapsedSeconds = 0 })
                continue;
            if (ring.Lines.Count == LinesPerJob) ring.Lines.Dequeue();
            ring.Lines.Enqueue(new LogLine(++ring.LastNumber, leaseId, at, p));
        }
    }

    /// <summary>The job's lines numbered above <paramref name="after"/>, at most <paramref name="max"/>, and the <c>After</c> of the
    /// next request (the last number returned, or <paramref name="after"/> when there is nothing new).</summary>
    public (IReadOnlyList<LogLine> Lines, long Next) Read(string jobId, long after, int max = int.MaxValue)
    {
        if (!_jobs.TryGetValue(jobId, out var ring)) return ([], Math.Max(after, 0));
        var lines = ring.Lines.Where(l => l.Number > after).Take(max).ToList();
        return (lines, lines.Count > 0 ? lines[^1].Number : Math.Max(after, 0));
    }
}
