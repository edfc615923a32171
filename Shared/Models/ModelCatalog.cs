using System.Collections.Frozen;

namespace Cis490.Shared.Models;

/// <summary>Type of a declared hyper-parameter.</summary>
public enum HyperKind { Int, Float, Bool, String }

/// <summary>One hyper-parameter a model accepts: name, type, inclusive range or allowed values, default, and what it means.</summary>
public sealed record HyperParameter(
    string Name,
    HyperKind Kind,
    object Default,
    string Description,
    double? Min = null,
    double? Max = null,
    IReadOnlyList<string>? Allowed = null);

/// <summary>A trainable model family: its manifest name, what it reads, and its hyper-parameters.</summary>
public sealed record ModelDefinition(string Name, string Input, string Engine, IReadOnlyList<HyperParameter> Hyper)
{
    public HyperParameter? Find(string name) => Hyper.FirstOrDefault(h => h.Name == name);
}

/// <summary>The models this build can train. The coordinator validates manifests against it without referencing Training;
/// Training's trainers implement exactly these declarations (a test checks the two agree).</summary>
public static class ModelCatalog
{
    /// <summary>Threat-model modes: realistic (what a deployed detector sees) ⊂ oracle (everything).</summary>
    public static readonly IReadOnlyList<string> Modes = ["realistic", "oracle"];

    /// <summary>Split recipes a job may name.</summary>
    public static readonly IReadOnlyList<string> SplitRecipes = ["host", "sample", "time"];

    public static readonly ModelDefinition Knn = new(
        "knn",
        "summary features",
        "brute-force k-nearest neighbours on z-scored features",
        [
            new HyperParameter("k", HyperKind.Int, 10L, "number of neighbours that vote", Min: 1, Max: 1000),
            new HyperParameter("weights", HyperKind.String, "uniform", "vote weighting", Allowed: ["uniform", "distance"]),
        ]);

    /// <summary>Every model, by manifest name.</summary>
    public static readonly FrozenDictionary<string, ModelDefinition> All =
        new[] { Knn }.ToFrozenDictionary(m => m.Name);

    public static bool TryGet(string name, out ModelDefinition model) => All.TryGetValue(name, out model!);
}
