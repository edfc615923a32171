using Cis490.Shared.Models;
using Cis490.Training.Data;
using Cis490.Training.Runner;

namespace Cis490.Training.Models;

/// <summary>A model that has been trained (or loaded from its sidecar) and can score windows.</summary>
public interface ITrainedModel
{
    /// <summary>Class probabilities for the given table rows: rows × <see cref="Labels.Classes"/>, row-major.</summary>
    float[] PredictProba(ModelData data, IReadOnlyList<int> rows);

    /// <summary>Writes the sidecar file(s) into <paramref name="dir"/>; returns the main sidecar's file name (recorded in ckpt.json).</summary>
    string Save(string dir);

    /// <summary>Figures the family wants in ckpt.json besides the common ones (best epoch, trees, pseudo-labels, …).</summary>
    IReadOnlyDictionary<string, double> ExtraMetrics { get; }
}

/// <summary>One model family behind the common interface: trains on a split of the data, and loads what it saved.</summary>
/// <remarks>Its hyper-parameters are declared in Shared's <see cref="ModelCatalog"/> (so the coordinator validates manifests
/// without this assembly); <see cref="Name"/> is the catalog name.</remarks>
public interface IModelFamily
{
    string Name { get; }

    /// <summary>Trains on <see cref="ModelData.Split"/>'s train rows (validation rows for early stopping where the family uses it).</summary>
    ITrainedModel Train(ModelData data, HyperValues hyper, Action<ProgressReport> progress, CancellationToken cancel);

    /// <summary>Loads a model saved by <see cref="ITrainedModel.Save"/> from a checkpoint folder.</summary>
    ITrainedModel Load(string dir, Checkpoint checkpoint);
}

/// <summary>The families this build can train, by catalog name.</summary>
public static class ModelFamilies
{
    private static readonly Dictionary<string, Func<IModelFamily>> Factories = new(StringComparer.Ordinal)
    {
        ["knn"] = () => new KnnFamily(),
        ["knn_semi"] = () => new KnnSemiFamily(),
        ["gbt"] = () => new GbtFamily(),
    };

    public static IReadOnlyCollection<string> Names => Factories.Keys;

    public static IModelFamily Get(string name) =>
        Factories.TryGetValue(name, out var make)
            ? make()
            : throw new NotSupportedException($"model '{name}' is declared in the catalog but this build has no trainer for it");

    /// <summary>Registers a family (used by families that live behind optional native libraries).</summary>
    public static void Register(string name, Func<IModelFamily> factory) => Factories[name] = factory;
}
