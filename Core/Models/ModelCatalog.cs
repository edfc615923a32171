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
    /// <summary>How inputs are standardised; every family that reads standardised values has it (Training's <c>Normalisation</c>).</summary>
    public static readonly HyperParameter Normalise = new("normalise", HyperKind.String, "train",
        "train: statistics of the training rows; per_host: each window first z-scored on every window of its own host (no labels)",
        Allowed: ["train", "per_host"]);

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
            Normalise,
        ]);

    public static readonly ModelDefinition KnnSemi = new(
        "knn_semi",
        "summary features",
        "Yarowsky-style self-training: a labeller KNN on a labelled fraction pseudo-labels the rest, a final KNN fits both",
        [
            new HyperParameter("k", HyperKind.Int, 10L, "neighbours of both the labeller and the final classifier", Min: 1, Max: 1000),
            new HyperParameter("weights", HyperKind.String, "uniform", "vote weighting", Allowed: ["uniform", "distance"]),
            new HyperParameter("label_frac", HyperKind.Float, 0.2, "fraction of training rows that keep their label (chosen by a hash of the row index)", Min: 0.01, Max: 1),
            new HyperParameter("confidence_threshold", HyperKind.Float, 0.6, "a pseudo-label is kept when the labeller's top-class probability is at least this", Min: 0, Max: 1),
            Normalise,
        ]);

    public static readonly ModelDefinition Gbt = new(
        "gbt",
        "summary features",
        "XGBoost gradient-boosted trees (tree_method=hist) with early stopping on validation mlogloss",
        [
            new HyperParameter("max_depth", HyperKind.Int, 6L, "maximum tree depth", Min: 1, Max: 16),
            new HyperParameter("eta", HyperKind.Float, 0.1, "learning rate", Min: 0.001, Max: 1),
            new HyperParameter("num_boost_round", HyperKind.Int, 300L, "maximum boosting rounds", Min: 1, Max: 5000),
            new HyperParameter("early_stopping_rounds", HyperKind.Int, 20L, "stop after this many rounds without a better validation mlogloss", Min: 1, Max: 500),
            new HyperParameter("subsample", HyperKind.Float, 1.0, "row subsampling per tree", Min: 0.1, Max: 1),
            new HyperParameter("colsample_bytree", HyperKind.Float, 1.0, "column subsampling per tree", Min: 0.1, Max: 1),
            new HyperParameter("min_child_weight", HyperKind.Float, 1.0, "minimum hessian sum in a leaf", Min: 0, Max: 100),
            new HyperParameter("lambda", HyperKind.Float, 1.0, "L2 regularisation of leaf weights", Min: 0, Max: 100),
            new HyperParameter("max_bin", HyperKind.Int, 256L, "histogram bins per feature", Min: 16, Max: 1024),
            Normalise, // trees need no scaling, but per_host moves each host's features onto a common footing
        ]);

    /// <summary>Hyper-parameters every neural family shares: the training loop's (Training/Neural).</summary>
    private static IReadOnlyList<HyperParameter> NeuralCommon(long batchSize) =>
    [
        new HyperParameter("lr", HyperKind.Float, 1e-3, "peak learning rate (AdamW; 5 % warm-up, then cosine decay to 0)", Min: 1e-6, Max: 1),
        new HyperParameter("weight_decay", HyperKind.Float, 1e-4, "AdamW weight decay", Min: 0, Max: 1),
        new HyperParameter("dropout", HyperKind.Float, 0.1, "dropout probability", Min: 0, Max: 0.9),
        new HyperParameter("batch_size", HyperKind.Int, batchSize, "windows per step", Min: 8, Max: 8192),
        new HyperParameter("max_epochs", HyperKind.Int, 40L, "upper bound on epochs", Min: 1, Max: 1000),
        new HyperParameter("patience", HyperKind.Int, 8L, "epochs without a better validation macro F1 before stopping", Min: 1, Max: 200),
        new HyperParameter("class_weight_clip", HyperKind.Float, 10.0, "inverse-frequency class weights are clipped to at most this", Min: 1, Max: 1000),
        new HyperParameter("device", HyperKind.String, "auto", "where to train: auto picks cuda when present", Allowed: ["auto", "cpu", "cuda"]),
        Normalise,
    ];

    public static readonly ModelDefinition Mlp = new("mlp", "summary features", "TorchSharp multi-layer perceptron",
    [
        new HyperParameter("hidden", HyperKind.Int, 128L, "units per hidden layer", Min: 4, Max: 4096),
        new HyperParameter("layers", HyperKind.Int, 2L, "hidden layers", Min: 1, Max: 8),
        .. NeuralCommon(256),
    ]);

    public static readonly ModelDefinition Cnn = new("cnn", "tensor windows", "TorchSharp 1D convolutional network over time",
    [
        new HyperParameter("channels", HyperKind.Int, 64L, "convolution channels", Min: 4, Max: 1024),
        new HyperParameter("kernel_size", HyperKind.Int, 5L, "convolution kernel width (seconds)", Min: 2, Max: 15),
        new HyperParameter("layers", HyperKind.Int, 3L, "convolution blocks", Min: 1, Max: 8),
        .. NeuralCommon(128),
    ]);

    public static readonly ModelDefinition Gru = new("gru", "tensor windows", "TorchSharp GRU over time",
    [
        new HyperParameter("hidden", HyperKind.Int, 64L, "recurrent units", Min: 4, Max: 2048),
        new HyperParameter("layers", HyperKind.Int, 1L, "stacked recurrent layers", Min: 1, Max: 4),
        new HyperParameter("bidirectional", HyperKind.Bool, false, "read the window both ways"),
        .. NeuralCommon(128),
    ]);

    public static readonly ModelDefinition Lstm = new("lstm", "tensor windows", "TorchSharp LSTM over time",
    [
        new HyperParameter("hidden", HyperKind.Int, 64L, "recurrent units", Min: 4, Max: 2048),
        new HyperParameter("layers", HyperKind.Int, 1L, "stacked recurrent layers", Min: 1, Max: 4),
        new HyperParameter("bidirectional", HyperKind.Bool, false, "read the window both ways"),
        .. NeuralCommon(128),
    ]);

    public static readonly ModelDefinition Transformer = new("transformer", "tensor windows", "small TorchSharp Transformer encoder over time",
    [
        new HyperParameter("d_model", HyperKind.Int, 64L, "embedding width", Min: 8, Max: 1024),
        new HyperParameter("heads", HyperKind.Int, 4L, "attention heads (must divide d_model)", Min: 1, Max: 16),
        new HyperParameter("layers", HyperKind.Int, 2L, "encoder layers", Min: 1, Max: 8),
        new HyperParameter("ff_dim", HyperKind.Int, 128L, "feed-forward width", Min: 8, Max: 4096),
        .. NeuralCommon(128),
    ]);

    /// <summary>Every declared model, by manifest name.</summary>
    public static readonly FrozenDictionary<string, ModelDefinition> Declared =
        new[] { Gbt, Mlp, Cnn, Gru, Lstm, Transformer, Knn, KnnSemi }.ToFrozenDictionary(m => m.Name);

    /// <summary>The models a manifest may name: those this release can train (all declared ones).</summary>
    public static readonly FrozenDictionary<string, ModelDefinition> All =
        new[] { Gbt, Mlp, Cnn, Gru, Lstm, Transformer, Knn, KnnSemi }.ToFrozenDictionary(m => m.Name);

    public static bool TryGet(string name, out ModelDefinition model) => All.TryGetValue(name, out model!);
}
