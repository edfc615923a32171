using System.Formats.Tar;
using Cis490.Shared.Artifacts;
using ZstdSharp;

namespace Cis490.Shared.Tests;

public class ArtifactBundleTests
{
    private static readonly Dictionary<string, byte[]> Content = new()
    {
        ["ckpt.json"] = "{\"format\":\"cis490.ckpt/v1\"}"u8.ToArray(),
        ["knn_sidecar.bin"] = Enumerable.Range(0, 70_000).Select(i => (byte)(i * 31 % 251)).ToArray(),
        ["plots/roc/val.csv"] = "fpr,tpr\n0,0\n1,1\n"u8.ToArray(),
        ["empty.txt"] = [],
    };

    private static void WriteContent(string dir, DateTime mtime)
    {
        // Written in a different order each call so that enumeration order cannot leak into the bundle.
        foreach (var (rel, bytes) in mtime.Ticks % 2 == 0 ? Content.Reverse() : Content)
        {
            var path = Path.Combine(dir, rel);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, bytes);
            File.SetLastWriteTimeUtc(path, mtime);
            File.SetLastAccessTimeUtc(path, mtime);
        }
    }

    [Fact]
    public void Create_then_extract_round_trips_every_file_byte_for_byte()
    {
        using var tmp = new TempDir();
        var src = Directory.CreateDirectory(tmp.Combine("src")).FullName;
        WriteContent(src, new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        var bundle = tmp.Combine(ArtifactBundle.FileName);

        ArtifactBundle.Create(src, bundle);
        var dest = tmp.Combine("dest");
        ArtifactBundle.Extract(bundle, dest);

        var extracted = Directory.EnumerateFiles(dest, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(dest, f).Replace('\\', '/')).Order(StringComparer.Ordinal);
        Assert.Equal(Content.Keys.Order(StringComparer.Ordinal), extracted);
        foreach (var (rel, bytes) in Content)
            Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(dest, rel)));
    }

    [Fact]
    public void Same_content_at_different_times_gives_byte_identical_bundles()
    {
        // The artifact store deduplicates by sha256: file times, order and owners must not reach the bytes.
        using var tmp = new TempDir();
        var first = Directory.CreateDirectory(tmp.Combine("run1")).FullName;
        var second = Directory.CreateDirectory(tmp.Combine("run2")).FullName;
        WriteContent(first, new DateTime(2001, 2, 3, 4, 5, 6, DateTimeKind.Utc));
        WriteContent(second, new DateTime(2030, 7, 8, 9, 10, 11, 123, DateTimeKind.Utc).AddTicks(1));

        var (sha1, bytes1) = ArtifactBundle.Create(first, tmp.Combine("a.tar.zst"));
        var (sha2, bytes2) = ArtifactBundle.Create(second, tmp.Combine("b.tar.zst"));

        Assert.Equal(sha1, sha2);
        Assert.Equal(bytes1, bytes2);
        Assert.Equal(File.ReadAllBytes(tmp.Combine("a.tar.zst")), File.ReadAllBytes(tmp.Combine("b.tar.zst")));
    }

    [Fact]
    public void Different_content_gives_a_different_sha256()
    {
        using var tmp = new TempDir();
        var src = Directory.CreateDirectory(tmp.Combine("src")).FullName;
        WriteContent(src, DateTime.UtcNow);
        var (before, _) = ArtifactBundle.Create(src, tmp.Combine("a.tar.zst"));
        File.AppendAllText(Path.Combine(src, "ckpt.json"), " ");
        var (after, _) = ArtifactBundle.Create(src, tmp.Combine("b.tar.zst"));
        Assert.NotEqual(before, after);
    }

    [Fact]
    public void Returned_sha256_and_size_describe_the_bundle_file()
    {
        using var tmp = new TempDir();
        var src = Directory.CreateDirectory(tmp.Combine("src")).FullName;
        WriteContent(src, DateTime.UtcNow);
        var bundle = tmp.Combine(ArtifactBundle.FileName);

        var (sha, bytes) = ArtifactBundle.Create(src, bundle);

        Assert.Equal(ArtifactBundle.HashFile(bundle), sha);
        Assert.Matches("^[0-9a-f]{64}$", sha);
        Assert.Equal(new FileInfo(bundle).Length, bytes);
    }

    [Fact]
    public void Bundle_is_zstd_compressed()
    {
        using var tmp = new TempDir();
        var src = Directory.CreateDirectory(tmp.Combine("src")).FullName;
        WriteContent(src, DateTime.UtcNow);
        var bundle = tmp.Combine(ArtifactBundle.FileName);
        ArtifactBundle.Create(src, bundle);

        Assert.Equal(new byte[] { 0x28, 0xB5, 0x2F, 0xFD }, File.ReadAllBytes(bundle)[..4]);
    }

    [Fact]
    public void Create_on_an_empty_folder_throws()
    {
        using var tmp = new TempDir();
        var src = Directory.CreateDirectory(tmp.Combine("empty")).FullName;
        Directory.CreateDirectory(Path.Combine(src, "only-a-subfolder"));
        var e = Assert.Throws<InvalidOperationException>(() => ArtifactBundle.Create(src, tmp.Combine("x.tar.zst")));
        Assert.Contains(src, e.Message);
    }

    [Fact]
    public void Extract_refuses_an_entry_that_escapes_the_target()
    {
        // A bundle comes over the network from a worker: a hostile entry name must not write outside the target.
        using var tmp = new TempDir();
        var bundle = tmp.Combine("evil.tar.zst");
        using (var output = File.Create(bundle))
        using (var zstd = new CompressionStream(output))
        using (var tar = new TarWriter(zstd, TarEntryFormat.Pax, leaveOpen: true))
        {
            var entry = new PaxTarEntry(TarEntryType.RegularFile, "../escaped.txt") { DataStream = new MemoryStream("x"u8.ToArray()) };
            tar.WriteEntry(entry);
        }

        var target = tmp.Combine("target");
        Assert.Throws<InvalidDataException>(() => ArtifactBundle.Extract(bundle, target));
        Assert.False(File.Exists(tmp.Combine("escaped.txt")));
    }
}
