using System.Text;
using Cis490.Shared.Manifest;

namespace Cis490.Shared.Tests;

/// <summary>Hostile manifests: whatever the text, <see cref="ManifestLoader.Parse"/> returns errors that name the file (and a line
/// where there is one) and never throws — an exception there once restarted the coordinator thousands of times.</summary>
public class ManifestFuzzTests
{
    private const string File = "hostile.toml";
    private const string Job = "[[jobs]]\nmodel = \"knn\"\nmode = \"realistic\"\n";

    private static string Nested(int depth, string open, string close) =>
        Job + "hyper = " + string.Concat(Enumerable.Repeat(open, depth)) + "1" + string.Concat(Enumerable.Repeat(close, depth)) + "\n";

    public static TheoryData<string, string> Hostile() => new()
    {
        { "arrays nested 65 levels", Nested(65, "[", "]") },
        { "arrays nested 1000 levels", Nested(1000, "[", "]") },
        { "inline tables nested 65 levels", Job + "hyper = " + string.Concat(Enumerable.Repeat("{ a = ", 65)) + "1" + string.Concat(Enumerable.Repeat(" }", 65)) + "\n" },
        { "inline tables nested 1000 levels", Job + "hyper = " + string.Concat(Enumerable.Repeat("{ a = ", 1000)) + "1" + string.Concat(Enumerable.Repeat(" }", 1000)) + "\n" },
        { "unclosed arrays 100 000 deep", Job + "hyper = " + new string('[', 100_000) },
        { "dotted key of 10 000 parts", Job + string.Join('.', Enumerable.Repeat("hyper", 10_000)) + " = 1\n" },
        { "a 10 MB string", Job + "split_recipe = \"" + new string('x', 10_000_000) + "\"\n" },
        { "a 10 MB key", Job + new string('k', 10_000_000) + " = 1\n" },
        { "an integer with 400 digits", Job + "seed = " + new string('9', 400) + "\n" },
        { "a float with 400 digits", Job + "hyper.k = 1." + new string('9', 400) + "e99999\n" },
        { "an integer one past long", Job + "priority = 9223372036854775808\n" },
        { "the smallest long as max_attempts", Job + "max_attempts = -9223372036854775808\n" },
        { "inf and nan as GiB", Job + "require_cuda = true\nmin_vram_gib = inf\nmin_ram_gib = nan\n" },
        { "a NUL in a key", Job + "se\0ed = 1\n" },
        { "a NUL in a string", Job + "split_recipe = \"ho\0st\"\n" },
        { "a NUL alone", "\0" },
        { "a lone high surrogate", Job + "split_recipe = \"\uD800\"\n" },
        { "a lone low surrogate in a key", Job + "\uDC00 = 1\n" },
        { "surrogates reversed", Job + "[jobs.hyper]\n\"\uDC00\uD800\" = 1\n" },
        { "an escaped surrogate", Job + "split_recipe = \"\\uD800\"\n" },
        { "an escape beyond Unicode", Job + "split_recipe = \"\\UFFFFFFFF\"\n" },
        { "a byte-order mark mid-file", Job + "\uFEFFseed = 1\n" },
        { "right-to-left overrides", Job + "model = \"kn\u202En\"\n" },
        { "only whitespace", "   \n\t\n" },
        { "the empty string", "" },
        { "10 000 [[jobs]] headers", string.Concat(Enumerable.Repeat("[[jobs]]\n", 10_000)) },
        { "a date where a string goes", Job.Replace("\"realistic\"", "1979-05-27T07:32:00Z") },
        { "a table redefined", Job + "[jobs.hyper]\nk = 1\n[jobs.hyper]\nk = 2\n" },
        { "an array of tables under hyper", Job + "[[jobs.hyper]]\nk = 1\n" },
        { "hyper as an array of arrays", Job + "hyper = [[1, 2], [3]]\n" },
        { "a key with a line break escaped", Job + "\"a\\nb\" = 1\n" },
        { "CR without LF", "[[jobs]]\rmodel = \"knn\"\rmode = \"realistic\"\r" },
        { "a multi-line string never closed", Job + "split_recipe = \"\"\"" + new string('x', 1000) },
        { "random bytes as Latin-1", Encoding.Latin1.GetString(Enumerable.Range(0, 4096).Select(i => (byte)(i * 131 % 256)).ToArray()) },
    };

    [Theory]
    [MemberData(nameof(Hostile))]
    public void A_hostile_manifest_gives_errors_and_never_throws(string what, string text)
    {
        var result = ManifestLoader.Parse(File, text);

        Assert.False(result.IsValid, $"{what}: accepted");
        Assert.Empty(result.Jobs);
        Assert.All(result.Errors, e =>
        {
            Assert.Equal(File, e.File);
            Assert.False(string.IsNullOrWhiteSpace(e.Message), $"{what}: an error without words");
            Assert.InRange(e.Message.Length, 1, 2_000); // a 10 MB value is not echoed back whole
        });
    }

    [Fact]
    public void Nesting_deeper_than_the_parser_allows_is_an_error_on_its_line()
    {
        var result = ManifestLoader.Parse(File, Nested(1000, "[", "]"));

        var error = Assert.Single(result.Errors);
        Assert.Equal(4, error.Line); // the hyper line, after [[jobs]], model and mode
        Assert.Contains("nest", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Random_mutations_of_a_valid_manifest_never_throw()
    {
        var valid = System.IO.File.ReadAllText(Path.Combine(RepoRoot(), "etc", "demo_manifest.toml"));
        var random = new Random(490);
        var alphabet = "[]{}=\"'.,#\n\\\0\uD800 \t0123456789eE+-_ainf".ToCharArray();
        for (var round = 0; round < 2_000; round++)
        {
            var text = new StringBuilder(valid);
            for (var edits = random.Next(1, 8); edits > 0; edits--)
            {
                var at = random.Next(text.Length + 1);
                switch (random.Next(3))
                {
                    case 0: text.Insert(at, alphabet[random.Next(alphabet.Length)]); break;
                    case 1 when at < text.Length: text.Remove(at, 1); break;
                    default: text.Insert(at, new string(alphabet[random.Next(alphabet.Length)], random.Next(1, 80))); break;
                }
            }
            var mutated = text.ToString();
            var result = ManifestLoader.Parse(File, mutated); // a throw fails the test with the round's text below
            Assert.True(result.IsValid ? result.Jobs.Count > 0 : result.Errors.Count > 0, $"round {round}: neither jobs nor errors for:\n{mutated}");
        }
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (System.IO.File.Exists(Path.Combine(dir.FullName, "Cis490.Actors.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no Cis490.Actors.sln above {AppContext.BaseDirectory}");
    }
}
