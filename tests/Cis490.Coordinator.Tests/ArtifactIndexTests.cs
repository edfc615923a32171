using System.Text;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using Cis490.Coordinator.Artifacts;
using Cis490.Protocols.Operator;
using Cis490.Shared.Artifacts;
using Xunit;

namespace Cis490.Coordinator.Tests;

/// <summary>The artifact index is always whole: bad lines are skipped and reported once, a bundle already in place still gets
/// its row, and a bundle left without a row by a crash is indexed again from the bundle itself when the store starts.</summary>
public sealed class ArtifactIndexTests : TestKit, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cis490-index-").FullName;
    private readonly List<string> _warnings = [];

    private string Models => Path.Combine(_dir, "models");
    private string IndexPath => Path.Combine(Models, ArtifactRepository.IndexFile);

    void IDisposable.Dispose()
    {
        Shutdown();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    private ArtifactRepository Open() => new(Models, _warnings.Add);

    /// <summary>A bundle as a worker makes one: a ckpt.json whose lineage names the job and lease, and a sidecar.</summary>
    private (string Path, string Sha256, long Bytes) MakeBundle(string jobId, long leaseId, string salt = "")
    {
        var src = Directory.CreateDirectory(Path.Combine(_dir, "src-" + Guid.NewGuid().ToString("N"))).FullName;
        File.WriteAllText(Path.Combine(src, "ckpt.json"),
            $$$"""{"format": "cis490.ckpt/v1", "model": "knn", "mode": "realistic", "lineage": {"job_id": "{{{jobId}}}", "lease_id": {{{leaseId}}}}}""");
        File.WriteAllText(Path.Combine(src, "model.bin"), "weights" + salt);
        var path = Path.Combine(_dir, $"upload-{Guid.NewGuid():N}.tar.zst");
        var (sha, bytes) = ArtifactBundle.Create(src, path);
        return (path, sha, bytes);
    }

    private string Commit(ArtifactRepository repo, string jobId, long leaseId, string salt = "")
    {
        var (path, sha, bytes) = MakeBundle(jobId, leaseId, salt);
        repo.Commit(path, sha, "knn", "realistic", jobId, leaseId, bytes, DateTimeOffset.UtcNow);
        return sha;
    }

    [Fact]
    public void Bad_lines_are_skipped_and_reported_once_with_their_line_number_and_the_good_rows_are_read()
    {
        var repo = Open();
        var first = Commit(repo, "job-1", 1, "a");
        File.AppendAllText(IndexPath, "garbage that is not json\n{}\n{\"sha256\": \"abc\"}\n\n[1, 2]\n{\"sha256\": null, \"model\": 5}\n");
        var second = Commit(repo, "job-2", 2, "b");

        var rows = repo.ReadIndex();
        var again = repo.ReadIndex();

        Assert.Equal([first, second], rows.Select(r => r.Sha256));
        Assert.Equal(rows, again);
        // Lines 2, 3, 4, 6 and 7 are bad (5 is empty), each reported once although the index was read twice.
        Assert.Equal(5, _warnings.Count);
        foreach (var line in new[] { 2, 3, 4, 6, 7 })
            Assert.Single(_warnings, w => w.StartsWith($"{IndexPath}:{line}: skipped", StringComparison.Ordinal));
    }

    [Fact]
    public void A_repository_opened_on_an_index_with_bad_lines_and_a_torn_tail_reads_the_good_rows()
    {
        var sha = Commit(Open(), "job-1", 1);
        File.AppendAllText(IndexPath, "{}\n{\"sha256\": \"" + new string('a', 64) + "\", \"model\": \"kn"); // torn by a crash mid-append

        var rows = Open().ReadIndex();

        Assert.Equal(sha, Assert.Single(rows).Sha256);
        Assert.Contains(_warnings, w => w.Contains("torn by a crash", StringComparison.Ordinal));
        Assert.Contains(_warnings, w => w.Contains(":2: skipped", StringComparison.Ordinal));
        Assert.EndsWith("\n", File.ReadAllText(IndexPath));
    }

    [Fact]
    public void A_row_appended_after_a_hand_edited_line_without_a_newline_is_its_own_line()
    {
        var repo = Open();
        Commit(repo, "job-1", 1, "a");
        File.AppendAllText(IndexPath, "# a note without a newline");
        var second = Commit(repo, "job-2", 2, "b");

        Assert.Contains(second, repo.ReadIndex().Select(r => r.Sha256));
    }

    [Fact]
    public void A_bundle_already_in_place_without_a_row_gets_exactly_one_row_when_it_is_offered_again()
    {
        var repo = Open();
        var (path, sha, bytes) = MakeBundle("job-1", 4);
        var final = repo.BundlePath("knn", "realistic", sha);
        Directory.CreateDirectory(Path.GetDirectoryName(final)!);
        File.Copy(path, final); // a crash after the rename, before the append

        var isNew = repo.Commit(path, sha, "knn", "realistic", "job-1", 5, bytes, DateTimeOffset.UtcNow);
        var (again, _, _) = MakeBundle("job-1", 4);
        var isNewAgain = repo.Commit(again, sha, "knn", "realistic", "job-1", 6, bytes, DateTimeOffset.UtcNow);

        Assert.False(isNew);
        Assert.False(isNewAgain);
        var row = Assert.Single(Open().ReadIndex());
        Assert.Equal((sha, "job-1", 5L, bytes), (row.Sha256, row.JobId, row.LeaseId, row.Bytes));
        Assert.Single(File.ReadAllLines(IndexPath));
        Assert.False(File.Exists(path));
    }

    [Theory]
    [InlineData("../../etc", "oracle", "model")]
    [InlineData("knn", "oracle/../../x", "mode")]
    [InlineData("knn", "realistic", "sha256")]
    public void No_bundle_path_is_made_from_a_value_outside_the_catalogue(string model, string mode, string what)
    {
        var repo = Open();
        var sha = what == "sha256" ? "../" + new string('a', 61) : new string('a', 64);
        var e = Assert.Throws<ArgumentException>(() => repo.BundlePath(model, mode, sha));
        Assert.Contains("no path is made from it", e.Message);
        Assert.Throws<ArgumentException>(() => repo.NewIncomingPath("../../" + new string('a', 58), 1));
        Assert.StartsWith(Models, repo.BundlePath("knn", "oracle", new string('b', 64)));
    }

    [Fact]
    public void The_same_bytes_stored_for_two_jobs_keep_one_row()
    {
        var repo = Open();
        var (path, sha, bytes) = MakeBundle("job-1", 1);
        var copy = path + ".copy";
        File.Copy(path, copy);

        Assert.True(repo.Commit(path, sha, "knn", "realistic", "job-1", 1, bytes, DateTimeOffset.UtcNow));
        Assert.False(repo.Commit(copy, sha, "knn", "realistic", "job-2", 1, bytes, DateTimeOffset.UtcNow));

        Assert.Equal("job-1", Assert.Single(Open().ReadIndex()).JobId);
    }

    [Fact]
    public void Repair_writes_the_row_of_a_bundle_without_one_from_the_ckpt_json_inside_it_and_only_once()
    {
        var repo = Open();
        var indexed = Commit(repo, "job-1", 1, "a");
        var (path, sha, bytes) = MakeBundle("job-2", 7, "b");
        var semi = Path.Combine(Models, "knn_semi_oracle", sha, ArtifactBundle.FileName); // a model with '_' in its name
        Directory.CreateDirectory(Path.GetDirectoryName(semi)!);
        File.Move(path, semi);

        var written = Open().RepairIndex();
        var writtenAgain = Open().RepairIndex();

        var row = Assert.Single(written);
        Assert.Empty(writtenAgain);
        Assert.Equal((sha, "knn_semi", "oracle", "job-2", 7L, bytes), (row.Sha256, row.Model, row.Mode, row.JobId, row.LeaseId, row.Bytes));
        Assert.Equal(Path.Combine("knn_semi_oracle", sha, ArtifactBundle.FileName), row.Path);
        Assert.Equal([indexed, sha], Open().ReadIndex().Select(r => r.Sha256));
    }

    [Fact]
    public void Repair_leaves_out_a_bundle_whose_bytes_do_not_match_its_folder_and_says_so()
    {
        var (path, _, _) = MakeBundle("job-1", 1);
        var wrong = new string('c', 64);
        var target = Path.Combine(Models, "knn_realistic", wrong, ArtifactBundle.FileName);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        File.Move(path, target);

        Assert.Empty(Open().RepairIndex());

        Assert.Empty(Open().ReadIndex());
        Assert.Contains(_warnings, w => w.Contains(target, StringComparison.Ordinal) && w.Contains("not to its folder's name", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_store_lists_and_finds_artifacts_past_a_garbage_line_and_repairs_a_missing_row_at_start()
    {
        var repo = Open();
        var sha = Commit(repo, "job-1", 1, "a");
        File.AppendAllText(IndexPath, "\u0000\u0001 not a row\n{}\n");
        var (path, orphan, _) = MakeBundle("job-2", 3, "b");
        var target = repo.BundlePath("knn", "realistic", orphan);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        File.Move(path, target);

        var store = Sys.ActorOf(ArtifactStore.Props(Models, TimeSpan.FromMinutes(1)));
        store.Tell(OperatorQueries.ListArtifacts.Instance, TestActor);
        var list = await ExpectMsgAsync<OperatorQueries.ArtifactList>(TimeSpan.FromSeconds(10));
        store.Tell(new OperatorQueries.GetArtifact(sha[..12]), TestActor);
        var download = await ExpectMsgAsync<OperatorQueries.ArtifactDownload>(TimeSpan.FromSeconds(10));
        store.Tell(new OperatorQueries.GetArtifact(orphan), TestActor);
        var repaired = await ExpectMsgAsync<OperatorQueries.ArtifactDownload>(TimeSpan.FromSeconds(10));

        Assert.Equal([sha, orphan], list.Artifacts.Select(a => a.Sha256));
        Assert.Equal("job-2", list.Artifacts[1].JobId);
        Assert.Equal(sha, download.Sha256);
        Assert.Equal(orphan, repaired.Sha256);
        Assert.Equal(2, Encoding.UTF8.GetString(File.ReadAllBytes(IndexPath)).Split('\n').Count(l => l.StartsWith("{\"sha256\"", StringComparison.Ordinal)));
    }
}
