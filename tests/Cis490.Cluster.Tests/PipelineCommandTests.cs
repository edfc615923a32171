using Xunit;

namespace Cis490.Cluster.Tests;

/// <summary>The data commands as a person runs them: generate, then build, with bad episodes in the folder.</summary>
[Collection(ClusterCollection.Name)]
public sealed class PipelineCommandTests
{
    private static Task<(int Exit, string Stdout, string Stderr)> Run(params string[] args) => ClusterHarness.RunProgram("Cis490.WorkerNode", args);

    [Fact]
    public async Task A_build_with_too_many_bad_episodes_skips_and_counts_them_and_exits_non_zero()
    {
        var dir = Directory.CreateTempSubdirectory("cis490-pipeline-").FullName;
        try
        {
            var episodes = Path.Combine(dir, "episodes");
            var gen = await Run("data", "generate", "--out", episodes, "--episodes", "20", "--seed", "3");
            Assert.True(gen.Exit == 0, gen.Stderr);
            var files = Directory.GetFiles(episodes).Order().ToArray();
            File.WriteAllBytes(files[0], [1, 2, 3, 4, 5, 6, 7, 8]);                     // not zstd at all
            var bytes = File.ReadAllBytes(files[1]);
            File.WriteAllBytes(files[1], bytes[..(bytes.Length / 2)]);                     // cut short

            var strict = await Run("data", "build", "--episodes", episodes, "--out", Path.Combine(dir, "strict"));
            var lenient = await Run("data", "build", "--episodes", episodes, "--out", Path.Combine(dir, "lenient"), "--max-bad-fraction", "0.2");

            Assert.Equal(1, strict.Exit);
            Assert.Contains("2 of 20 episodes are bad", strict.Stderr);
            Assert.Equal(0, lenient.Exit);
            Assert.Contains("18/20 episodes used", lenient.Stdout);
            Assert.Contains("skipped, corrupt_zstd: 2", lenient.Stdout); // a file cut short is a cut zstd frame
            Assert.True(File.Exists(Path.Combine(dir, "lenient", "features_window_v1.parquet")));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public async Task Generating_twice_with_the_same_seed_gives_byte_identical_files()
    {
        var dir = Directory.CreateTempSubdirectory("cis490-pipeline-").FullName;
        try
        {
            await Run("data", "generate", "--out", Path.Combine(dir, "a"), "--episodes", "12", "--seed", "5");
            await Run("data", "generate", "--out", Path.Combine(dir, "b"), "--episodes", "12", "--seed", "5");
            var a = Directory.GetFiles(Path.Combine(dir, "a")).Order().ToArray();
            var b = Directory.GetFiles(Path.Combine(dir, "b")).Order().ToArray();

            Assert.Equal(12, a.Length);
            Assert.Equal(a.Select(Path.GetFileName), b.Select(Path.GetFileName));
            for (var i = 0; i < a.Length; i++) Assert.Equal(File.ReadAllBytes(a[i]), File.ReadAllBytes(b[i]));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
