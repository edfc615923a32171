using System.Text;
using Cis490.Coordinator.Jobs;
using Cis490.Protocols;
using Cis490.Protocols.Jobs;
using Cis490.Protocols.Operator;
using Xunit;

namespace Cis490.Coordinator.Tests;

/// <summary>Answers of any size as plain decisions: job lists paged by cursor, manifests' acceptances and rejections summarised.</summary>
public sealed class PagingStateTests
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.Parse("2026-12-01T10:00:00Z");
    private static readonly CoordinatorPolicy Policy = new(TimeSpan.FromSeconds(30), new RetryPolicy(TimeSpan.FromSeconds(10), TimeSpan.FromMinutes(5)),
        TimeSpan.FromMinutes(2), ErrorsShown: 3, IdsShown: 2);

    /// <summary>A manifest of <paramref name="n"/> distinct knn jobs (seeds 1..n).</summary>
    public static string KnnManifest(int n, int firstSeed = 1)
    {
        var text = new StringBuilder();
        for (var i = 0; i < n; i++) text.Append($"[[jobs]]\nmodel = \"knn\"\nmode = \"oracle\"\nseed = {firstSeed + i}\n\n");
        return text.ToString();
    }

    private static CoordinatorState With(int jobs)
    {
        var o = CoordinatorState.Initial(Policy).Decide(new OperatorProtocol.SubmitManifest("many.toml", KnnManifest(jobs)), T0);
        Assert.IsType<OperatorProtocol.ManifestAccepted>(o.Replies.Single());
        return o.State;
    }

    private static OperatorProtocol.JobList Page(CoordinatorState s, int? limit, long? after, string? status = null) =>
        Assert.IsType<OperatorProtocol.JobList>(s.Decide(new OperatorProtocol.ListJobs(status, null, limit, after), T0).Replies.Single());

    private static List<string> All(CoordinatorState s, int limit, out int pages)
    {
        var ids = new List<string>();
        long? after = null;
        pages = 0;
        do
        {
            var page = Page(s, limit, after);
            pages++;
            Assert.True(page.Jobs.Count <= limit, $"a page of {page.Jobs.Count} rows for limit {limit}");
            Assert.Equal(s.Table.Jobs.Count, page.Total);
            ids.AddRange(page.Jobs.Select(j => j.JobId));
            after = page.Next;
        } while (after is not null);
        return ids;
    }

    [Theory]
    [InlineData(10, 1, 10)]  // one row a page
    [InlineData(10, 3, 4)]   // a short last page
    [InlineData(10, 5, 2)]   // exactly full pages: no empty page after the last
    [InlineData(10, 10, 1)]  // one page exactly the table
    [InlineData(10, 11, 1)]  // a limit beyond the table
    public void Paging_through_the_cursor_lists_every_job_once_in_the_order_added(int jobs, int limit, int expectedPages)
    {
        var s = With(jobs);
        var ids = All(s, limit, out var pages);

        Assert.Equal(expectedPages, pages);
        Assert.Equal(s.Table.Jobs.Values.OrderBy(j => j.Seq).Select(j => j.JobId), ids);
    }

    [Fact]
    public void A_table_restored_from_its_snapshot_pages_the_same_and_filtered_pages_agree_with_the_index()
    {
        var s = With(25);
        var restored = CoordinatorState.Initial(Policy, JobTable.FromSnapshot(s.Table.ToSnapshot()));

        Assert.Equal(All(s, 4, out _), All(restored, 4, out _));
        var byIndex = Page(s, 7, Page(s, 7, null).Next).Jobs.Select(j => j.JobId);
        var byScan = Page(s, 7, Page(s, 7, null, JobStatus.Pending).Next, JobStatus.Pending).Jobs.Select(j => j.JobId);
        Assert.Equal(byIndex, byScan); // all pending: the filtered scan and the index give the same page
    }

    [Fact]
    public void The_last_page_has_no_next_cursor_and_an_empty_table_is_one_empty_page()
    {
        var empty = Page(CoordinatorState.Initial(Policy), 5, null);
        Assert.Empty(empty.Jobs);
        Assert.Null(empty.Next);
        Assert.Equal(0, empty.Total);

        var s = With(4);
        var first = Page(s, 2, null);
        Assert.NotNull(first.Next);
        var last = Page(s, 2, first.Next);
        Assert.Null(last.Next);
        var beyond = Page(s, 2, long.MaxValue);
        Assert.Empty(beyond.Jobs);
        Assert.Null(beyond.Next);
    }

    [Fact]
    public void Jobs_added_while_paging_appear_after_the_cursor_and_none_repeats()
    {
        var s = With(5);
        var first = Page(s, 3, null);
        s = s.Decide(new OperatorProtocol.SubmitManifest("more.toml", KnnManifest(2, firstSeed: 100)), T0).State;
        var rest = Page(s, 10, first.Next);

        var ids = first.Jobs.Concat(rest.Jobs).Select(j => j.JobId).ToList();
        Assert.Equal(7, ids.Distinct().Count());
        Assert.Equal(7, rest.Total);
    }

    [Fact]
    public void A_filter_pages_over_the_matching_jobs_only_and_an_unpaged_request_gets_every_row()
    {
        var s = With(6);
        var pending = Page(s, 4, null, JobStatus.Pending);
        Assert.Equal(6, pending.Total);
        Assert.Empty(Page(s, 4, null, JobStatus.Running).Jobs);

        var unpaged = Page(s, null, null); // an older client's request: the old shape, every row
        Assert.Equal(6, unpaged.Jobs.Count);
        Assert.Null(unpaged.Next);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    public void A_limit_below_one_is_refused_saying_so(int limit)
    {
        var o = With(2).Decide(new OperatorProtocol.ListJobs(null, null, limit), T0);
        var error = Assert.IsType<OperatorProtocol.OperatorError>(o.Replies.Single());
        Assert.Equal(ErrorKind.Invalid, error.Kind);
        Assert.Contains($"limit must be at least 1, got {limit}", error.Message);
    }

    [Fact]
    public void An_acceptance_counts_every_job_and_names_only_the_first_few()
    {
        var o = CoordinatorState.Initial(Policy).Decide(new OperatorProtocol.SubmitManifest("many.toml", KnnManifest(50)), T0);
        var accepted = Assert.IsType<OperatorProtocol.ManifestAccepted>(o.Replies.Single());
        Assert.Equal(50, accepted.AddedCount);
        Assert.Equal(2, accepted.AddedJobIds.Count);
        Assert.Equal(50, o.Events.OfType<JobEvents.JobAdded>().Count());

        var again = o.State.Decide(new OperatorProtocol.SubmitManifest("many.toml", KnnManifest(50)), T0);
        var known = Assert.IsType<OperatorProtocol.ManifestAccepted>(again.Replies.Single());
        Assert.Equal((0, 50, 2), (known.AddedCount, known.KnownCount, known.KnownJobIds.Count));

        var http = o.State.Decide(new OperatorProtocol.SubmitManifest("many.toml", KnnManifest(60), AllIds: true), T0); // the HTTP API's ask
        var all = Assert.IsType<OperatorProtocol.ManifestAccepted>(http.Replies.Single());
        Assert.Equal((10, 50), (all.AddedJobIds.Count, all.KnownJobIds.Count));
    }

    [Fact]
    public void A_rejection_gives_the_first_errors_in_full_and_counts_every_error_by_kind_and_nothing_is_persisted()
    {
        // 40 jobs without a mode, 5 with an unknown model: 45 errors of two kinds.
        var text = new StringBuilder();
        for (var i = 0; i < 40; i++) text.Append($"[[jobs]]\nmodel = \"knn\"\nseed = {i}\n\n");
        for (var i = 0; i < 5; i++) text.Append($"[[jobs]]\nmodel = \"nope{i}\"\nmode = \"oracle\"\n\n");

        var o = CoordinatorState.Initial(Policy).Decide(new OperatorProtocol.SubmitManifest("bad.toml", text.ToString()), T0);

        var rejected = Assert.IsType<OperatorProtocol.ManifestRejected>(o.Replies.Single());
        Assert.Empty(o.Events);
        Assert.Equal(3, rejected.Errors.Count);
        Assert.True(rejected.TotalCount >= 45, $"{rejected.TotalCount} errors counted");
        var kinds = rejected.Kinds!;
        Assert.Equal(rejected.TotalCount, kinds.Sum(k => k.Count));
        Assert.True(kinds[0].Count >= 40, string.Join("; ", kinds.Select(k => $"{k.Count} × {k.Kind}")));
        Assert.DoesNotContain(kinds, k => k.Kind.Any(char.IsDigit));
    }

    [Theory]
    [InlineData("job #12 on line 40: unknown model 'nope3'", "job #N on line N: unknown model '…'")]
    [InlineData("seed must be an integer, got \"x\"", "seed must be an integer, got '…'")]
    public void An_errors_kind_masks_its_values(string message, string kind) => Assert.Equal(kind, CoordinatorState.KindOf(message));
}
