using Cis490.Shared.Cli;
using Cis490.Shared.Jobs;
using Cis490.Shared.Manifest;
using Cis490.Training.Episodes;
using Cis490.WorkerNode.Cli;
using Cis490.WorkerNode.Pipeline;
using Xunit;

namespace Cis490.WorkerNode.Tests;

/// <summary><c>train --hyper</c> and a manifest's hyper table go through the same check: the same values give the same canonical
/// JSON and job id, and the same mistakes the same words.</summary>
public sealed class HyperParameterTests
{
    private static Training.Runner.TrainRequest Train(params string[] extra)
    {
        var spec = WorkerCommands.All.Single(c => c.Name == "train");
        return PipelineCommands.ParseTrain(new CommandLine(spec, ["--data", "features", "--out", "model", .. extra]));
    }

    private static JobSpecLike OneJob(string toml)
    {
        var result = ManifestLoader.Parse("test.toml", toml);
        Assert.True(result.IsValid, string.Join("\n", result.Errors.Select(e => e.Message)));
        var job = Assert.Single(result.Jobs);
        return new(job.JobId, job.HyperJson);
    }

    private sealed record JobSpecLike(string JobId, string HyperJson);

    [Theory]
    [InlineData("knn", "hyper = { weights = \"distance\", k = 25 }", "{\"k\": 25, \"weights\": \"distance\"}")]
    [InlineData("gbt", "hyper = { eta = 1, max_depth = 4 }", "{\"max_depth\": 4, \"eta\": 1}")]          // an integer for a float
    [InlineData("gbt", "[jobs.hyper]\neta = 5e-2\nsubsample = 0.5", "{\"subsample\": 0.50, \"eta\": 0.05}")]
    [InlineData("mlp", "", "{}")]
    [InlineData("knn", "hyper = { k = 10, normalise = \"per_host\" }", "{\"normalise\": \"per_host\", \"k\": 10}")]
    public void Train_with_a_manifest_job_s_hyper_gets_its_canonical_json_and_its_job_id(string model, string tomlHyper, string jsonHyper)
    {
        var job = OneJob($"[[jobs]]\nmodel = \"{model}\"\nmode = \"oracle\"\n{tomlHyper}\n");

        var request = Train("--model", model, "--mode", "oracle", "--hyper", jsonHyper);

        Assert.Equal(job.HyperJson, request.HyperJson);
        Assert.Equal(job.JobId, JobIds.Compute(request.Model, request.Mode, request.HyperJson, request.SplitRecipe, request.TrainHosts, request.Seed));
    }

    [Theory]
    [InlineData("{\"k\": 0}", "hyper.k = 0 is outside [1, 1000]", "hyper = { k = 0 }")]
    [InlineData("{\"depth\": 3}", "unknown hyper-parameter 'depth' (known: k, weights, normalise)", "hyper = { depth = 3 }")]
    [InlineData("{\"k\": \"ten\"}", "hyper.k must be int", "hyper = { k = \"ten\" }")]
    [InlineData("{\"weights\": \"cosine\"}", "hyper.weights = 'cosine' is not one of: uniform, distance", "hyper = { weights = \"cosine\" }")]
    [InlineData("{\"normalise\": \"per-host\"}", "hyper.normalise = 'per-host' is not one of: train, per_host", "hyper = { normalise = \"per-host\" }")]
    public void Train_refuses_the_hyper_a_manifest_refuses_in_the_same_words(string json, string problem, string tomlHyper)
    {
        var manifest = ManifestLoader.Parse("test.toml", $"[[jobs]]\nmodel = \"knn\"\nmode = \"realistic\"\n{tomlHyper}\n");

        var e = Assert.Throws<CliException>(() => Train("--model", "knn", "--mode", "realistic", "--hyper", json));

        Assert.Contains(problem, Assert.Single(manifest.Errors).Message);
        Assert.Contains(problem, e.Message);
    }

    [Theory]
    [InlineData("[1, 2]", "--hyper must be a JSON object")]
    [InlineData("{\"k\": ", "--hyper is not valid JSON")]
    [InlineData("{\"k\": [5]}", "hyper.k must be an integer, float, boolean or string, got array")]
    public void Train_names_a_hyper_that_is_not_a_flat_json_object(string json, string problem)
    {
        var e = Assert.Throws<CliException>(() => Train("--model", "knn", "--mode", "realistic", "--hyper", json));

        Assert.Contains(problem, e.Message);
    }

    [Fact]
    public void Train_without_train_hosts_trains_on_the_manifest_s_default_host_which_the_synthetic_set_has()
    {
        var request = Train("--model", "knn", "--mode", "realistic");
        var job = OneJob("[[jobs]]\nmodel = \"knn\"\nmode = \"realistic\"\n");

        Assert.Equal([ManifestLoader.DefaultTrainHost], request.TrainHosts);
        Assert.Equal(job.JobId, JobIds.Compute("knn", "realistic", request.HyperJson, request.SplitRecipe, request.TrainHosts, request.Seed));
        // The host split trains on this host and tests on the others: the synthetic set must have it, and another.
        Assert.Contains(ManifestLoader.DefaultTrainHost, SyntheticEpisodes.Hosts);
        Assert.True(SyntheticEpisodes.Hosts.Count > 1);
    }

    [Fact]
    public void The_normalisation_is_part_of_the_job_id()
    {
        var train = OneJob("[[jobs]]\nmodel = \"gbt\"\nmode = \"oracle\"\n");
        var perHost = OneJob("[[jobs]]\nmodel = \"gbt\"\nmode = \"oracle\"\nhyper = { normalise = \"per_host\" }\n");

        Assert.NotEqual(train.JobId, perHost.JobId);
    }
}
