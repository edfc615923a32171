using Cis490.Shared.Manifest;

namespace Cis490.Shared.Tests;

/// <summary>Both ways of writing a job's hyper-parameters, mixed in one manifest, as operators write them.</summary>
public sealed class ManifestSubTableTests
{
    [Fact]
    public void Several_jobs_each_with_a_hyper_sub_table_parse()
    {
        var r = ManifestLoader.Parse("m.toml", "[[jobs]]\nmodel = \"knn\"\nmode = \"oracle\"\n[jobs.hyper]\nk = 3\n\n[[jobs]]\nmodel = \"knn\"\nmode = \"oracle\"\n[jobs.hyper]\nk = 5\n");
        Assert.True(r.IsValid, string.Join("\n", r.Errors));
        Assert.Equal(["{\"k\":3}", "{\"k\":5}"], r.Jobs.Select(j => j.HyperJson));
    }

    [Fact]
    public void A_hyper_sub_table_followed_by_a_job_with_an_inline_hyper_table_parses()
    {
        var r = ManifestLoader.Parse("m.toml", "[[jobs]]\nmodel = \"knn\"\nmode = \"oracle\"\n[jobs.hyper]\nk = 3\n\n[[jobs]]\nmodel = \"knn\"\nmode = \"realistic\"\nhyper = { k = 5 }\n");
        Assert.True(r.IsValid, string.Join("\n", r.Errors));
        Assert.Equal(["{\"k\":3}", "{\"k\":5}"], r.Jobs.Select(j => j.HyperJson));
    }

    [Fact]
    public void A_key_given_twice_in_one_job_is_an_error_with_its_line()
    {
        var r = ManifestLoader.Parse("m.toml", "[[jobs]]\nmodel = \"knn\"\nmode = \"oracle\"\nmode = \"realistic\"\n");
        var e = Assert.Single(r.Errors);
        Assert.Equal(4, e.Line);
        Assert.Contains("'mode' is given twice", e.Message);
    }

    [Fact]
    public void A_hyper_parameter_given_inline_and_in_a_sub_table_is_an_error()
    {
        var r = ManifestLoader.Parse("m.toml", "[[jobs]]\nmodel = \"knn\"\nmode = \"oracle\"\nhyper = { k = 3 }\n[jobs.hyper]\nk = 4\n");
        Assert.False(r.IsValid);
        Assert.Contains(r.Errors, e => e.Message.Contains("hyper.k is given twice"));
    }
}
