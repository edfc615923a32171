using Cis490.Shared.Jobs;
using Cis490.Shared.Manifest;

namespace Cis490.Shared.Tests;

public class ManifestLoaderTests
{
    private const string File = "m.toml";

    [Fact]
    public void Valid_manifest_with_inline_hyper_and_hyper_sub_table_parses()
    {
        var result = ManifestLoader.Parse(File, """
            [[jobs]]
            model = "knn"
            mode = "realistic"
            hyper = { k = 5 }

            [[jobs]]
            model = "knn"
            mode = "oracle"
            seed = 7
            train_hosts = ["k-gamingcom", "elliott-thinkpad"]
            priority = 2
            max_attempts = 5
            [jobs.hyper]
            weights = "distance"
            k = 5
            """);

        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        Assert.Equal(2, result.Jobs.Count);
        var (first, second) = (result.Jobs[0], result.Jobs[1]);
        Assert.Equal(("knn", "realistic", "{\"k\":5}"), (first.Model, first.Mode, first.HyperJson));
        Assert.Equal(("knn", "oracle", "{\"k\":5,\"weights\":\"distance\"}"), (second.Model, second.Mode, second.HyperJson));
        // Hosts come back sorted, the explicit values are kept.
        Assert.Equal(["elliott-thinkpad", "k-gamingcom"], second.TrainHosts);
        Assert.Equal((7L, 2, 5), (second.Seed, second.Priority, second.MaxAttempts));
        Assert.Equal(JobIds.Compute("knn", "oracle", second.HyperJson, "host", second.TrainHosts, 7), second.JobId);
        Assert.NotEqual(first.JobId, second.JobId);
    }

    [Fact]
    public void Dotted_hyper_keys_are_the_same_as_an_inline_table()
    {
        var dotted = ManifestLoader.Parse(File, "[[jobs]]\nmodel = \"knn\"\nmode = \"realistic\"\nhyper.k = 5\n");
        var inline = ManifestLoader.Parse(File, "[[jobs]]\nmodel = \"knn\"\nmode = \"realistic\"\nhyper = { k = 5 }\n");
        Assert.True(dotted.IsValid, string.Join("\n", dotted.Errors));
        Assert.Equal(inline.Jobs.Single().JobId, dotted.Jobs.Single().JobId);
    }

    [Fact]
    public void Omitted_keys_take_their_defaults()
    {
        var result = ManifestLoader.Parse(File, "[[jobs]]\nmodel = \"knn\"\nmode = \"realistic\"\n");
        var job = Assert.Single(result.Jobs);
        Assert.Equal("host", job.SplitRecipe);
        Assert.Equal(["elliott-thinkpad"], job.TrainHosts);
        Assert.Equal(0L, job.Seed);
        Assert.Equal(0, job.Priority);
        Assert.Equal(3, job.MaxAttempts);
        // Defaults are not written into the hyper JSON: adding a default later must not change ids.
        Assert.Equal("{}", job.HyperJson);
        Assert.Equal(JobIds.Compute("knn", "realistic", "{}", "host", ["elliott-thinkpad"], 0), job.JobId);
    }

    [Fact]
    public void Hyper_key_order_in_the_manifest_does_not_change_the_id()
    {
        var a = ManifestLoader.Parse(File, "[[jobs]]\nmodel = \"knn\"\nmode = \"realistic\"\nhyper = { k = 5, weights = \"distance\" }\n");
        var b = ManifestLoader.Parse(File, "[[jobs]]\nmode = \"realistic\"\nhyper = { weights = \"distance\", k = 5 }\nmodel = \"knn\"\n");
        Assert.Equal(a.Jobs.Single().JobId, b.Jobs.Single().JobId);
    }

    // (name, manifest, expected 1-based line, fragment of the expected message)
    public static TheoryData<string, string, int, string> BadManifests => new()
    {
        { "syntax", "[[jobs]]\nmodel = \"knn\nmode = \"realistic\"\n", 2, "TOML syntax" },
        { "unknown model", "[[jobs]]\nmode = \"realistic\"\nmodel = \"xgboost-turbo\"\n", 3, "unknown model 'xgboost-turbo'" },
        { "unknown mode", "[[jobs]]\nmodel = \"knn\"\nmode = \"paranoid\"\n", 3, "unknown mode 'paranoid'" },
        { "unknown job key", "[[jobs]]\nmodel = \"knn\"\nmode = \"realistic\"\ncolour = 1\n", 4, "unknown key 'colour'" },
        { "wrong type", "[[jobs]]\nmodel = \"knn\"\nmode = \"realistic\"\nseed = \"zero\"\n", 4, "'seed' must be an integer" },
        { "hyper key unknown for knn", "[[jobs]]\nmodel = \"knn\"\nmode = \"realistic\"\nhyper = { depth = 3 }\n", 4, "unknown hyper-parameter 'depth'" },
        { "hyper ill-typed", "[[jobs]]\nmodel = \"knn\"\nmode = \"realistic\"\nhyper = { k = \"ten\" }\n", 4, "hyper.k must be int" },
        { "hyper out of range", "[[jobs]]\nmodel = \"knn\"\nmode = \"realistic\"\nhyper = { k = 0 }\n", 4, "hyper.k = 0 is outside [1, 1000]" },
        { "hyper value not allowed", "[[jobs]]\nmodel = \"knn\"\nmode = \"realistic\"\n[jobs.hyper]\nweights = \"cosine\"\n", 5, "'cosine' is not one of: uniform, distance" },
        { "missing model", "# a comment first\n\n[[jobs]]\nmode = \"realistic\"\n", 3, "'model' is required" },
        { "missing mode", "[[jobs]]\nmodel = \"knn\"\n", 1, "'mode' is required" },
        { "duplicate job", "[[jobs]]\nmodel = \"knn\"\nmode = \"realistic\"\n\n[[jobs]]\nmode = \"realistic\"\nmodel = \"knn\"\nseed = 0\n", 5, "same job as the one on line 1" },
        { "unknown table", "[[jobs]]\nmodel = \"knn\"\nmode = \"realistic\"\n\n[[workers]]\nname = \"x\"\n", 5, "unknown table [[workers]]" },
        { "hyper table before any job", "[jobs.hyper]\nk = 3\n", 1, "unknown table [jobs.hyper]" },
        { "top-level key", "name = \"x\"\n[[jobs]]\nmodel = \"knn\"\nmode = \"realistic\"\n", 1, "unknown top-level key 'name'" },
        { "unknown split recipe", "[[jobs]]\nmodel = \"knn\"\nmode = \"realistic\"\nsplit_recipe = \"by-moon-phase\"\n", 4, "unknown split_recipe 'by-moon-phase'" },
        { "train_hosts not an array", "[[jobs]]\nmodel = \"knn\"\nmode = \"realistic\"\ntrain_hosts = \"a\"\n", 4, "train_hosts must be an array" },
        { "train_hosts empty", "[[jobs]]\nmodel = \"knn\"\nmode = \"realistic\"\ntrain_hosts = []\n", 4, "at least one host" },
        { "max_attempts out of range", "[[jobs]]\nmodel = \"knn\"\nmode = \"realistic\"\nmax_attempts = 0\n", 4, "max_attempts must be between 1 and 100" },
        { "hyper given twice", "[[jobs]]\nmodel = \"knn\"\nmode = \"realistic\"\nhyper = { k = 3 }\n[jobs.hyper]\nk = 4\n", 6, "hyper.k is given twice" },
        // No [[jobs]] at all has no line to point at: line 0 means "the whole file".
        { "empty manifest", "", 0, "declares no [[jobs]]" },
        { "comments only", "# nothing here\n", 0, "declares no [[jobs]]" },
    };

    [Theory]
    [MemberData(nameof(BadManifests))]
    public void Bad_manifest_is_rejected_with_its_line_and_reason(string name, string text, int line, string fragment)
    {
        var result = ManifestLoader.Parse(File, text);

        Assert.False(result.IsValid, $"{name}: accepted");
        Assert.Empty(result.Jobs);
        if (name == "syntax")
        {
            // Tomlyn also reports follow-on errors (not in line order); the cause must be among them,
            // and no semantic check may run on a document that did not parse.
            Assert.Contains(result.Errors, e => e.Line == line && e.Message.Contains(fragment));
            Assert.All(result.Errors, e => Assert.StartsWith("TOML syntax", e.Message));
            return;
        }
        var error = Assert.Single(result.Errors);
        Assert.Equal(File, error.File);
        Assert.Equal(line, error.Line);
        Assert.Contains(fragment, error.Message);
    }

    [Fact]
    public void Three_errors_on_different_lines_are_all_reported_at_once()
    {
        var result = ManifestLoader.Parse(File, """
            [[jobs]]
            model = "xgboost-turbo"
            mode = "realistic"

            [[jobs]]
            colour = 1
            model = "knn"
            mode = "realistic"

            [[jobs]]
            model = "knn"
            mode = "oracle"
            seed = "zero"
            """);

        Assert.Empty(result.Jobs);
        Assert.Equal([2, 6, 13], result.Errors.Select(e => e.Line).Order());
        Assert.Contains(result.Errors, e => e.Line == 2 && e.Message.Contains("xgboost-turbo"));
        Assert.Contains(result.Errors, e => e.Line == 6 && e.Message.Contains("'colour'"));
        Assert.Contains(result.Errors, e => e.Line == 13 && e.Message.Contains("'seed'"));
    }

    [Fact]
    public void One_bad_job_rejects_the_good_ones_too()
    {
        // All or nothing: the coordinator must never persist part of a manifest.
        var result = ManifestLoader.Parse(File, "[[jobs]]\nmodel = \"knn\"\nmode = \"realistic\"\n\n[[jobs]]\nmodel = \"knn\"\nmode = \"nope\"\n");
        Assert.Empty(result.Jobs);
        Assert.Equal(7, Assert.Single(result.Errors).Line);
    }

    [Fact]
    public void Error_columns_are_one_based_and_to_string_is_file_line_column_message()
    {
        var result = ManifestLoader.Parse(File, "[[jobs]]\nmode = \"realistic\"\nmodel = \"xgboost-turbo\"\n");
        var error = Assert.Single(result.Errors);
        Assert.Equal((3, 9), (error.Line, error.Column)); // the value starts in column 9
        Assert.Equal($"m.toml:3:9: {error.Message}", error.ToString());
    }

    [Fact]
    public void Error_without_a_line_prints_file_and_message_only()
    {
        var error = Assert.Single(ManifestLoader.Parse(File, "").Errors);
        Assert.Equal($"m.toml: {error.Message}", error.ToString());
    }

    [Fact]
    public void Load_reads_a_file_and_reports_a_missing_one()
    {
        using var dir = new TempDir();
        var path = dir.Combine("jobs.toml");
        System.IO.File.WriteAllText(path, "[[jobs]]\nmodel = \"knn\"\nmode = \"oracle\"\n");

        var loaded = ManifestLoader.Load(path);
        Assert.Equal("oracle", Assert.Single(loaded.Jobs).Mode);

        var missing = ManifestLoader.Load(dir.Combine("absent.toml"));
        var error = Assert.Single(missing.Errors);
        Assert.Contains("not found", error.Message);
        Assert.Equal(dir.Combine("absent.toml"), error.File);
        Assert.Empty(missing.Jobs);
    }
}
