using Cis490.Bench;
using Xunit;

namespace Cis490.Coordinator.Tests;

/// <summary>The seed-style baseline that <c>./cis490 bench coordinator</c> runs beside our coordinator (bench/seed_queue.py):
/// run for real with python3 on a few hundred jobs, every job is claimed exactly once and its line parses.</summary>
public sealed class SeedQueueBaselineTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cis490-seed-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    [Fact]
    public void The_seed_style_queue_claims_every_job_once_and_prints_a_line_the_bench_parses()
    {
        var result = SeedQueueBaseline.Run(SeedQueueBaseline.Script, 200, 8, _dir);

        Assert.Equal(200, result.Claims); // the script itself fails unless each claim got a distinct job and every fail was accepted
        Assert.Equal(8, result.Workers);
        Assert.True(result.Seconds > 0 && result.ClaimsPerSecond > 0, result.Line);
        Assert.Contains("journal_mode=wal synchronous=2", result.Line); // WAL with synchronous=FULL, as our journal
        Assert.Empty(Directory.EnumerateFileSystemEntries(_dir)); // its SQLite file is removed
    }

    [Fact]
    public void Output_without_the_seed_queue_line_is_an_error_that_quotes_it()
    {
        var e = Assert.Throws<FormatException>(() => SeedQueueBaseline.Parse("Traceback: boom"));
        Assert.Contains("Traceback: boom", e.Message);
    }
}
