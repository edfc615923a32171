using Cis490.Shared.Artifacts;
using Cis490.Shared.DataSets;
using Cis490.Shared.Jobs;
using Cis490.Shared.Manifest;

namespace Cis490.Shared.Tests;

/// <summary>A data set's content hash (files' paths, sizes and bytes; nothing else), the job id of a job bound to one, and a
/// manifest's <c>data_set</c> key.</summary>
public class DataSetContentTests
{
    private static void Write(string dir, string rel, string text)
    {
        var path = Path.Combine(dir, rel);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    private static void MakeSet(string dir)
    {
        Write(dir, "features_window_v1.parquet", "PAR1 rows");
        Write(dir, "feature_schema_v1.json", "{\"columns\":[]}");
        Write(dir, "tensors/host-a.npz", "x");
    }

    [Fact]
    public void The_content_hash_depends_on_the_files_bytes_and_paths_only_not_on_times_markers_or_dot_files()
    {
        using var tmp = new TempDir();
        var (a, b) = (tmp.Combine("a"), tmp.Combine("b"));
        MakeSet(b); // written in another order, at another time
        foreach (var f in Directory.GetFiles(b, "*", SearchOption.AllDirectories))
            File.SetLastWriteTimeUtc(f, new DateTime(1999, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        MakeSet(a);
        File.SetLastWriteTimeUtc(Path.Combine(a, "tensors/host-a.npz"), new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        Write(b, ".tmp-build", "scratch");
        DataSetContent.WriteMarker(b, new DataSetMarker(DataSetContent.Scheme, "x", "named", 3, 10));

        var hash = DataSetContent.Hash(a);
        Assert.True(DataSetContent.IsHash(hash));
        Assert.Equal(hash, DataSetContent.Hash(b));
        Assert.Equal(3, DataSetContent.Describe(a).Files);

        Write(b, "tensors/host-a.npz", "y"); // one byte changed
        Assert.NotEqual(hash, DataSetContent.Hash(b));
        Write(b, "tensors/host-a.npz", "x");
        File.Move(Path.Combine(b, "tensors/host-a.npz"), Path.Combine(b, "tensors/host-b.npz")); // same bytes, another name
        Assert.NotEqual(hash, DataSetContent.Hash(b));
    }

    [Fact]
    public void A_bundle_of_a_data_set_unpacks_to_the_same_content_hash_and_leaves_the_marker_out()
    {
        using var tmp = new TempDir();
        var dir = tmp.Combine("set");
        MakeSet(dir);
        DataSetContent.WriteMarker(dir, new DataSetMarker(DataSetContent.Scheme, DataSetContent.Hash(dir), null, 3, 10));
        var bundle = tmp.Combine("b.tar.zst");

        ArtifactBundle.Create(dir, bundle, DataSetContent.Included);
        ArtifactBundle.Extract(bundle, tmp.Combine("out"));

        Assert.Equal(DataSetContent.Hash(dir), DataSetContent.Hash(tmp.Combine("out")));
        Assert.False(File.Exists(tmp.Combine("out", DataSetContent.MarkerFile)));
    }

    [Fact]
    public void A_bundle_is_described_in_one_pass_with_the_folders_content_hash_whether_or_not_it_is_unpacked()
    {
        using var tmp = new TempDir();
        var dir = tmp.Combine("set");
        MakeSet(dir);
        Write(dir, "tensors/.partial", "left out");
        var bundle = tmp.Combine("b.tar.zst");
        ArtifactBundle.Create(dir, bundle); // the dot file travels, and is left out of the hash on both sides

        var expected = DataSetContent.Describe(dir);
        Assert.Equal(expected, DataSetBundle.Describe(bundle));
        Assert.False(Directory.Exists(tmp.Combine("out")));
        Assert.Equal(expected, DataSetBundle.Describe(bundle, tmp.Combine("out")));
        Assert.Equal(expected, DataSetContent.Describe(tmp.Combine("out")));
        Assert.Equal("x", File.ReadAllText(tmp.Combine("out", "tensors", "host-a.npz")));
    }

    [Theory]
    [InlineData("../escaped.txt")]
    [InlineData("tensors/../../escaped.txt")]
    [InlineData("./features_window_v1.parquet")]
    [InlineData("tensors//a.npz")]
    public void A_bundle_entry_that_is_not_a_plain_relative_path_is_refused_before_anything_is_written(string name)
    {
        using var tmp = new TempDir();
        var bundle = tmp.Combine("evil.tar.zst");
        using (var output = File.Create(bundle))
        using (var zstd = new ZstdSharp.CompressionStream(output))
        using (var tar = new System.Formats.Tar.TarWriter(zstd, System.Formats.Tar.TarEntryFormat.Pax, leaveOpen: true))
            tar.WriteEntry(new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.RegularFile, name) { DataStream = new MemoryStream("x"u8.ToArray()) });

        var e = Assert.Throws<InvalidDataException>(() => DataSetBundle.Describe(bundle, tmp.Combine("out", "target")));
        Assert.Contains($"entry '{name}' is not a plain relative path", e.Message);
        Assert.False(File.Exists(tmp.Combine("escaped.txt")) || File.Exists(tmp.Combine("out", "escaped.txt")));
    }

    [Fact]
    public void An_empty_or_missing_folder_is_not_a_data_set()
    {
        using var tmp = new TempDir();
        Assert.Throws<DirectoryNotFoundException>(() => DataSetContent.Hash(tmp.Combine("nope")));
        Directory.CreateDirectory(tmp.Combine("empty"));
        Assert.Contains("holds no files", Assert.Throws<InvalidDataException>(() => DataSetContent.Hash(tmp.Combine("empty"))).Message);
    }

    [Fact]
    public void A_job_bound_to_a_data_set_has_another_id_and_a_job_bound_to_none_keeps_the_id_it_always_had()
    {
        var unbound = JobIds.Compute("knn", "oracle", "{\"k\":5}", "host", ["h"], 0);
        var bound = JobIds.Compute("knn", "oracle", "{\"k\":5}", "host", ["h"], 0, new string('d', 64));
        var other = JobIds.Compute("knn", "oracle", "{\"k\":5}", "host", ["h"], 0, new string('e', 64));

        Assert.Equal(unbound, JobIds.Compute("knn", "oracle", "{\"k\":5}", "host", ["h"], 0, null));
        Assert.Equal("[\"knn\",\"oracle\",{\"k\":5},\"host\",[\"h\"],0]", JobIds.CanonicalTuple("knn", "oracle", "{\"k\":5}", "host", ["h"], 0));
        Assert.Equal($"[\"knn\",\"oracle\",{{\"k\":5}},\"host\",[\"h\"],0,\"{new string('d', 64)}\"]",
            JobIds.CanonicalTuple("knn", "oracle", "{\"k\":5}", "host", ["h"], 0, new string('d', 64)));
        Assert.Equal(3, new[] { unbound, bound, other }.Distinct().Count());
    }

    [Fact]
    public void A_manifest_job_may_name_its_data_set_and_a_bad_reference_names_its_line()
    {
        var ok = ManifestLoader.Parse("m.toml", """
            [[jobs]]
            model = "knn"
            mode = "oracle"
            data_set = "demo-2026.12"

            [[jobs]]
            model = "knn"
            mode = "oracle"
            """);
        Assert.True(ok.IsValid, string.Join("\n", ok.Errors));
        Assert.Equal(2, ok.Jobs.Count); // the same training on two data sets: two jobs, not a duplicate
        Assert.Equal([("demo-2026.12", 4), (null, 6)], ok.DataSetReferences.Select(r => (r.Reference, r.Line)));
        Assert.Null(ok.Jobs[0].DataSet); // bound by the coordinator, which knows what is published

        var bad = ManifestLoader.Parse("m.toml", "[[jobs]]\nmodel = \"knn\"\nmode = \"oracle\"\ndata_set = 7\n\n[[jobs]]\nmodel = \"knn\"\nmode = \"realistic\"\ndata_set = \"../etc\"\n");
        Assert.Equal([4, 9], bad.Errors.Select(e => e.Line));
        Assert.Contains("'data_set' must be a string", bad.Errors[0].Message);
        Assert.Contains("neither a data-set name", bad.Errors[1].Message);
    }
}
