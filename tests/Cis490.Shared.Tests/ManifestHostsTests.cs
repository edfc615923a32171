using Cis490.Protocols.Jobs;
using Cis490.Shared.Manifest;

namespace Cis490.Shared.Tests;

/// <summary>The manifest's <c>[[hosts]]</c> and the jobs' placement constraints: parsing, and every rejection with its line.</summary>
public class ManifestHostsTests
{
    private const string File = "fleet.toml";

    private const string Hosts = """
        [[hosts]]
        name = "gpu-box"
        cuda = true
        vram_gib = 12
        ram_gib = 64
        deny_jobs = ["knn"]

        [[hosts]]
        name = "pi"
        cuda = false
        ram_gib = 4
        allow_jobs = ["knn", "gbt:oracle"]

        """;

    [Fact]
    public void Hosts_and_constraints_parse_and_constraints_do_not_change_the_job_id()
    {
        var result = ManifestLoader.Parse(File, Hosts + """
            [[jobs]]
            model = "transformer"
            mode = "oracle"
            require_cuda = true
            min_vram_gib = 6
            min_ram_gib = 8.5
            allowed_hosts = ["gpu-box"]
            priority = 5

            [[jobs]]
            model = "gru"
            mode = "oracle"
            prefer_cuda = true
            """);
        var plain = ManifestLoader.Parse(File, "[[jobs]]\nmodel = \"transformer\"\nmode = \"oracle\"\n");

        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        Assert.Equal(["gpu-box", "pi"], result.HostPolicies.Select(h => h.Hostname));
        var gpu = result.HostPolicies[0];
        Assert.Equal((true, 12.0, 64.0), (gpu.Cuda, gpu.VramGib, gpu.RamGib));
        Assert.Equal(["knn"], gpu.DenyJobs);
        Assert.Equal(["knn", "gbt:oracle"], result.HostPolicies[1].AllowJobs);
        var needs = result.Jobs[0].Needs;
        Assert.Equal((true, false, 6.0, 8.5), (needs.RequireCuda, needs.PreferCuda, needs.MinVramGib, needs.MinRamGib));
        Assert.Equal(["gpu-box"], needs.AllowedHosts);
        Assert.Equal(plain.Jobs.Single().JobId, result.Jobs[0].JobId); // placement is not part of what is trained
        Assert.True(result.Jobs[1].Needs.PreferCuda);
        Assert.Null(plain.Jobs.Single().Constraints); // a job without constraints journals none
    }

    // (name, manifest, expected line, fragment of the message)
    public static TheoryData<string, string, int, string> BadManifests => new()
    {
        { "host without name", "[[hosts]]\ncuda = true\n[[jobs]]\nmodel = \"knn\"\nmode = \"oracle\"\n", 1, "'name' is required" },
        { "host unknown key", "[[hosts]]\nname = \"a\"\ngpu = true\n[[jobs]]\nmodel = \"knn\"\nmode = \"oracle\"\n", 3, "unknown key 'gpu'" },
        { "host cuda not bool", "[[hosts]]\nname = \"a\"\ncuda = \"yes\"\n[[jobs]]\nmodel = \"knn\"\nmode = \"oracle\"\n", 3, "'cuda' must be true or false" },
        { "host negative ram", "[[hosts]]\nname = \"a\"\nram_gib = -1\n[[jobs]]\nmodel = \"knn\"\nmode = \"oracle\"\n", 3, "must be a finite number ≥ 0" },
        { "host unknown model in policy", "[[hosts]]\nname = \"a\"\nallow_jobs = [\"xgb\"]\n[[jobs]]\nmodel = \"knn\"\nmode = \"oracle\"\n", 3, "unknown model 'xgb'" },
        { "host unknown mode in policy", "[[hosts]]\nname = \"a\"\ndeny_jobs = [\"*:paranoid\"]\n[[jobs]]\nmodel = \"knn\"\nmode = \"oracle\"\n", 3, "unknown mode 'paranoid'" },
        { "host bad pattern", "[[hosts]]\nname = \"a\"\ndeny_jobs = [\"knn:oracle:x\"]\n[[jobs]]\nmodel = \"knn\"\nmode = \"oracle\"\n", 3, "not a job pattern" },
        { "host allows and denies the same", "[[hosts]]\nname = \"a\"\nallow_jobs = [\"knn\"]\ndeny_jobs = [\"knn\"]\n[[jobs]]\nmodel = \"knn\"\nmode = \"oracle\"\n", 1, "in both allow_jobs and deny_jobs" },
        { "host vram without cuda", "[[hosts]]\nname = \"a\"\ncuda = false\nvram_gib = 8\n[[jobs]]\nmodel = \"knn\"\nmode = \"oracle\"\n", 1, "vram_gib = 8 but cuda = false" },
        { "host declared twice", "[[hosts]]\nname = \"a\"\n[[hosts]]\nname = \"A\"\n[[jobs]]\nmodel = \"knn\"\nmode = \"oracle\"\n", 3, "already declared on line 1" },
        { "require_cuda not bool", "[[jobs]]\nmodel = \"gru\"\nmode = \"oracle\"\nrequire_cuda = 1\n", 4, "'require_cuda' must be true or false" },
        { "min_vram_gib not a number", "[[jobs]]\nmodel = \"gru\"\nmode = \"oracle\"\nrequire_cuda = true\nmin_vram_gib = \"8G\"\n", 5, "must be a number of GiB" },
        { "min_vram without cuda", "[[jobs]]\nmodel = \"gru\"\nmode = \"oracle\"\nmin_vram_gib = 8\n", 4, "neither requires nor prefers CUDA" },
        { "allowed_hosts empty", "[[jobs]]\nmodel = \"gru\"\nmode = \"oracle\"\nallowed_hosts = []\n", 4, "allowed_hosts must name at least one host" },
        { "allowed_hosts not declared", "[[hosts]]\nname = \"gpu-box\"\n[[jobs]]\nmodel = \"gru\"\nmode = \"oracle\"\nallowed_hosts = [\"gpu-bx\"]\n", 3, "names gpu-bx, not declared in [[hosts]]" },
        { "impossible: cuda on a host without", "[[hosts]]\nname = \"pi\"\ncuda = false\n[[jobs]]\nmodel = \"gru\"\nmode = \"oracle\"\nrequire_cuda = true\nallowed_hosts = [\"pi\"]\n", 4, "can run on none of its allowed_hosts: host pi is declared without CUDA" },
        { "impossible: too little vram", "[[hosts]]\nname = \"g\"\ncuda = true\nvram_gib = 4\n[[jobs]]\nmodel = \"gru\"\nmode = \"oracle\"\nrequire_cuda = true\nmin_vram_gib = 8\nallowed_hosts = [\"g\"]\n", 5, "declared with 4 GiB of GPU memory, the job needs 8" },
        { "impossible: policy denies", "[[hosts]]\nname = \"pi\"\nallow_jobs = [\"knn\"]\n[[jobs]]\nmodel = \"gru\"\nmode = \"oracle\"\nallowed_hosts = [\"pi\"]\n", 4, "policy does not allow gru:oracle" },
        { "impossible: too little ram", "[[hosts]]\nname = \"pi\"\nram_gib = 4\n[[jobs]]\nmodel = \"gru\"\nmode = \"oracle\"\nmin_ram_gib = 16\nallowed_hosts = [\"pi\"]\n", 4, "declared with 4 GiB of RAM, the job needs 16" },
    };

    [Theory]
    [MemberData(nameof(BadManifests))]
    public void Bad_hosts_and_constraints_are_rejected_with_their_line(string name, string text, int line, string fragment)
    {
        var result = ManifestLoader.Parse(File, text);

        Assert.False(result.IsValid, $"{name}: accepted");
        Assert.Empty(result.Jobs);
        Assert.Empty(result.HostPolicies);
        var error = Assert.Single(result.Errors);
        Assert.Equal(line, error.Line);
        Assert.Contains(fragment, error.Message);
    }

    [Fact]
    public void A_job_possible_on_one_of_its_allowed_hosts_is_accepted()
    {
        var result = ManifestLoader.Parse(File, Hosts + "[[jobs]]\nmodel = \"gbt\"\nmode = \"oracle\"\nallowed_hosts = [\"pi\", \"gpu-box\"]\nmin_ram_gib = 8\n");
        Assert.True(result.IsValid, string.Join("\n", result.Errors)); // pi has too little RAM, gpu-box has enough
    }
}

/// <summary>The manifests the repository ships load as they are: a documented example that does not load teaches nothing.</summary>
public class ShippedManifestTests
{
    private static string RepoFile(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (System.IO.File.Exists(Path.Combine(dir.FullName, "Cis490.Actors.sln"))) return Path.Combine(dir.FullName, relative);
        throw new FileNotFoundException($"no Cis490.Actors.sln above {AppContext.BaseDirectory}");
    }

    [Theory]
    [InlineData("etc/training_manifest.toml.example", 6, 3)]
    [InlineData("etc/demo_manifest.toml", 30, 0)]
    public void A_shipped_manifest_is_valid(string file, int jobs, int hosts)
    {
        var result = ManifestLoader.Load(RepoFile(file));
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        Assert.Equal(jobs, result.Jobs.Count);
        Assert.Equal(hosts, result.HostPolicies.Count);
    }
}
