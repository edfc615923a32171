using System.Collections.Concurrent;
using System.Diagnostics;
using Cis490.Shared.Models;
using Cis490.Training.Data;
using Cis490.Training.Episodes;
using Cis490.Training.Features;
using Cis490.Training.Models;
using Cis490.Training.Runner;

namespace Cis490.Training.Neural.Tests;

/// <summary>A trained model with what it reported while training and how long that took.</summary>
public sealed record Trained(ITrainedModel Model, IReadOnlyList<ProgressReport> Reports, TimeSpan Elapsed);

/// <summary>One small synthetic data set (60 episodes, built once) and each family trained on it once per mode, on first use:
/// the tests that only read a trained model share it.</summary>
public sealed class NeuralFixture : IDisposable
{
    public const int Episodes = 60;
    public const int Seed = 490;
    public static readonly IReadOnlyList<string> Families = NeuralFamilies.Names;

    /// <summary>Small widths and few epochs: the whole project runs in about two minutes on two cores.</summary>
    private static readonly IReadOnlyDictionary<string, string> SmallHyper = new Dictionary<string, string>
    {
        ["mlp"] = """{"hidden": 32, "layers": 2, "lr": 0.003}""",
        ["cnn"] = """{"channels": 16, "kernel_size": 5, "layers": 2, "lr": 0.003}""",
        ["gru"] = """{"hidden": 24, "layers": 1, "lr": 0.01}""",
        ["lstm"] = """{"hidden": 24, "layers": 1, "lr": 0.01}""",
        ["transformer"] = """{"d_model": 16, "heads": 2, "layers": 1, "ff_dim": 32, "lr": 0.003}""",
    };

    private readonly TempDir _tmp = new();
    private readonly ConcurrentDictionary<string, ModelData> _data = new();
    private readonly ConcurrentDictionary<(string, string), Lazy<Trained>> _trained = new();

    public NeuralFixture()
    {
        SyntheticEpisodes.Generate(_tmp.Combine("episodes"), Episodes, Seed);
        DataBuilder.Build(new BuildOptions(_tmp.Combine("episodes"), DataDir, new WindowSettings()));
        Table = FeatureTable.Load(DataDir);
        Schema = FeatureSchema.Load(DataDir);
        Split = Splits.Make(Table, "host", [SyntheticEpisodes.Laptop], 0);
    }

    public string DataDir => _tmp.Combine("data");
    public FeatureTable Table { get; }
    public FeatureSchema Schema { get; }
    public Split Split { get; }

    public ModelData Data(string mode) => _data.GetOrAdd(mode, m => new ModelData(Table, Schema, m, DataDir, Split));

    public int[] Labels(IEnumerable<int> rows) => rows.Select(r => Table.Labels[r]).ToArray();

    /// <summary>The test hyper-parameters of a family as JSON, with <paramref name="overrides"/> (a JSON object) on top.</summary>
    public static string HyperJson(string family, string overrides = "{}")
    {
        var merged = System.Text.Json.Nodes.JsonNode.Parse(SmallHyper[family])!.AsObject();
        merged["max_epochs"] = 6;
        merged["batch_size"] = 32;
        merged["device"] = "cpu";
        foreach (var (key, value) in System.Text.Json.Nodes.JsonNode.Parse(overrides)!.AsObject()) merged[key] = value?.DeepClone();
        return merged.ToJsonString();
    }

    public static HyperValues Hyper(string family, string overrides = "{}") => new(ModelCatalog.Declared[family], HyperJson(family, overrides));

    public static NeuralFamily Family(string name, long seed = NeuralFamily.DefaultSeed) => name switch
    {
        "mlp" => new MlpFamily { Seed = seed },
        "cnn" => new CnnFamily { Seed = seed },
        "gru" => new GruFamily { Seed = seed },
        "lstm" => new LstmFamily { Seed = seed },
        "transformer" => new TransformerFamily { Seed = seed },
        _ => throw new ArgumentException($"not a neural family: {name}"),
    };

    /// <summary>Trains a family afresh (not cached).</summary>
    public Trained TrainNew(string family, string mode, string overrides = "{}", long seed = NeuralFamily.DefaultSeed)
    {
        var reports = new List<ProgressReport>();
        var clock = Stopwatch.StartNew();
        var model = Family(family, seed).Train(Data(mode), Hyper(family, overrides), reports.Add, CancellationToken.None);
        return new Trained(model, reports, clock.Elapsed);
    }

    /// <summary>The family trained once per mode with the test hyper-parameters and the default seed.</summary>
    public Trained Train(string family, string mode) =>
        _trained.GetOrAdd((family, mode), key => new Lazy<Trained>(() => TrainNew(key.Item1, key.Item2))).Value;

    public void Dispose()
    {
        foreach (var trained in _trained.Values.Where(t => t.IsValueCreated)) (trained.Value.Model as IDisposable)?.Dispose();
        _tmp.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class NeuralCollection : ICollectionFixture<NeuralFixture>
{
    public const string Name = "neural";
}
