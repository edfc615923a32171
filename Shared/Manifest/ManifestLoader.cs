using System.Text.Json;
using Cis490.Protocols.Jobs;
using Cis490.Protocols.Operator;
using Cis490.Shared.Jobs;
using Cis490.Shared.Models;
using Tomlyn.Parsing;
using Tomlyn.Syntax;

namespace Cis490.Shared.Manifest;

/// <summary>The result of loading a manifest: either jobs, or every error found (never a partial list of jobs).</summary>
public sealed record ManifestLoadResult(
    string FileName,
    IReadOnlyList<JobSpec> Jobs,
    IReadOnlyList<OperatorProtocol.ManifestError> Errors,
    IReadOnlyList<HostPolicy>? Hosts = null,
    IReadOnlyList<DataSetReference>? DataSetRefs = null)
{
    /// <summary>Each job's <c>data_set</c> (same order as <see cref="Jobs"/>; a null reference where a job names none).</summary>
    public IReadOnlyList<DataSetReference> DataSetReferences => DataSetRefs ?? Jobs.Select(j => new DataSetReference(j.JobId, null, 0, 0)).ToList();

    /// <summary>The manifest's <c>[[hosts]]</c> (empty when it declares none).</summary>
    public IReadOnlyList<HostPolicy> HostPolicies => Hosts ?? [];

    public bool IsValid => Errors.Count == 0;
}

/// <summary>One problem with one hyper-parameter (<paramref name="Key"/>), worded as a manifest error words it, without the job.</summary>
public sealed record HyperProblem(string Key, string Message);

/// <summary>Hyper-parameters checked against a model: the canonical JSON (<see cref="JobIds.CanonicalHyperJson"/>), or every problem.</summary>
public sealed record HyperCheck(string? CanonicalJson, IReadOnlyList<HyperProblem> Problems);

/// <summary>Parses and validates a training manifest (TOML). All of it is checked before anything is returned,
/// so a caller persists either every job or none; each error names the file, line and column.</summary>
public static partial class ManifestLoader
{
    /// <summary>Defaults applied to keys a job leaves out.</summary>
    public const string DefaultSplitRecipe = "host";
    public const string DefaultTrainHost = "elliott-thinkpad";
    public const int DefaultMaxAttempts = 3;

    private static readonly HashSet<string> JobKeys =
    [
        "model", "mode", "hyper", "split_recipe", "train_hosts", "seed", "priority", "max_attempts",
        "require_cuda", "prefer_cuda", "min_vram_gib", "min_ram_gib", "allowed_hosts", "data_set",
    ];

    public static ManifestLoadResult Load(string path)
    {
        if (!File.Exists(path))
            return new(path, [], [new(path, 0, 0, "manifest file not found")]);
        return Parse(path, File.ReadAllText(path));
    }

    /// <summary>Most nesting of arrays and inline tables the TOML parser accepts (Tomlyn's default MaxDepth); deeper is an error.</summary>
    public const int MaxNesting = 64;

    /// <summary>Longest message of one error: a 10 MB value is named, not echoed back whole.</summary>
    public const int MaxMessageLength = 400;

    /// <summary>Parses and validates <paramref name="text"/>. Total: whatever the text (nesting beyond what the parser allows,
    /// huge numbers, NULs, broken surrogates), the answer is jobs or errors, never an exception: the coordinator runs this
    /// inside its decisions, where an exception would restart it.</summary>
    public static ManifestLoadResult Parse(string fileName, string text)
    {
        try
        {
            var result = ParseChecked(fileName, text);
            return result.IsValid ? result : result with { Errors = result.Errors.Select(Clip).ToList() };
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return new(fileName, [], [Unexpected(fileName, text, e)]);
        }
    }

    /// <summary>An exception from the parser (or a check) as a manifest error: on the line the parser names, or for nesting
    /// too deep the line where it gets too deep.</summary>
    private static OperatorProtocol.ManifestError Unexpected(string fileName, string text, Exception e)
    {
        if (e is Tomlyn.TomlException { Line: > 0 } t)
            return Clip(new(fileName, t.Line.Value, Math.Max(t.Column ?? 1, 1), $"TOML syntax: {e.Message}"));
        if (TooDeep(text) is var (line, column))
            return new(fileName, line, column, $"arrays and inline tables are nested more than {MaxNesting} levels deep here; a manifest needs at most 2 (flatten the value)");
        return Clip(new(fileName, 0, 0, $"the manifest could not be read ({e.GetType().Name}: {e.Message}); check it is UTF-8 TOML with [[jobs]] tables"));
    }

    private static OperatorProtocol.ManifestError Clip(OperatorProtocol.ManifestError e) =>
        e.Message.Length <= MaxMessageLength ? e : e with { Message = $"{e.Message[..(MaxMessageLength - 40)]}… ({e.Message.Length} characters in all)" };

    /// <summary>Where <c>[</c> and <c>{</c> first open more than <see cref="MaxNesting"/> deep outside strings and comments
    /// (1-based line and column), or null.</summary>
    internal static (int Line, int Column)? TooDeep(string text)
    {
        int depth = 0, line = 1, column = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            column++;
            switch (c)
            {
                case '\n': line++; column = 0; break;
                case '#':
                    while (i + 1 < text.Length && text[i + 1] != '\n') i++;
                    break;
                case '"' or '\'':
                    var triple = i + 2 < text.Length && text[i + 1] == c && text[i + 2] == c;
                    var close = triple ? new string(c, 3) : c.ToString();
                    i += close.Length;
                    while (i < text.Length && string.CompareOrdinal(text, i, close, 0, close.Length) != 0)
                    {
                        if (c == '"' && text[i] == '\\') i++; // an escaped character, a quote among them
                        else if (text[i] == '\n') { line++; column = 0; if (!triple) break; }
                        i++;
                    }
                    i += close.Length - 1;
                    break;
                case '[' or '{':
                    if (++depth > MaxNesting) return (line, column);
                    break;
                case ']' or '}':
                    depth = Math.Max(depth - 1, 0);
                    break;
            }
        }
        return null;
    }

    private static ManifestLoadResult ParseChecked(string fileName, string text)
    {
        var errors = new List<OperatorProtocol.ManifestError>();
        // Syntax only: Tomlyn 2.10's semantic validator wrongly rejects an inline `hyper = {…}` in a [[jobs]] that follows one
        // with a [jobs.hyper] sub-table ("already defined"). Keys defined twice are caught below, job by job.
        var doc = SyntaxParser.Parse(text, fileName, false);
        foreach (var d in doc.Diagnostics)
            if (d.Kind == DiagnosticMessageKind.Error)
                errors.Add(Error(fileName, d.Span, $"TOML syntax: {d.Message}"));
        if (errors.Count > 0)
            return new(fileName, [], InLineOrder(errors));

        foreach (var kv in doc.KeyValues)
            errors.Add(Error(fileName, kv.Span, $"unknown top-level key '{KeyName(kv.Key)}'; a manifest holds [[hosts]] and [[jobs]] tables"));

        var drafts = new List<JobDraft>();
        var hosts = new List<ManifestHosts.HostDraft>();
        foreach (var table in doc.Tables)
        {
            var name = KeyName(table.Name);
            if (table is TableArraySyntax && name == "jobs")
            {
                var draft = new JobDraft(drafts.Count + 1, table.Span.Start.Line + 1);
                drafts.Add(draft);
                foreach (var kv in table.Items)
                    ReadJobKey(fileName, draft, kv, errors);
            }
            else if (table is TableArraySyntax && name == "hosts")
            {
                hosts.Add(ManifestHosts.Read(fileName, hosts.Count + 1, table, errors));
            }
            else if (table is TableSyntax && name == "jobs.hyper" && drafts.Count > 0)
            {
                var draft = drafts[^1];
                foreach (var kv in table.Items)
                    ReadHyper(fileName, draft, kv, errors);
            }
            else
            {
                var shown = table is TableArraySyntax ? $"[[{name}]]" : $"[{name}]";
                errors.Add(Error(fileName, table.Span, $"unknown table {shown}; a manifest holds [[hosts]] and [[jobs]] tables (with an optional [jobs.hyper])"));
            }
        }

        if (drafts.Count == 0 && errors.Count == 0)
            errors.Add(new(fileName, 0, 0, "the manifest declares no [[jobs]]"));

        var specs = new List<JobSpec>();
        var refs = new List<DataSetReference>();
        var seen = new Dictionary<(string, string?), int>();
        foreach (var draft in drafts)
        {
            var spec = Finish(fileName, draft, errors);
            if (spec is null) continue;
            if (seen.TryGetValue((spec.JobId, draft.DataSet), out var firstLine))
            {
                errors.Add(new(fileName, draft.Line, 1,
                    $"job #{draft.Index} is the same job as the one on line {firstLine} (model, mode, hyper, split_recipe, train_hosts, seed and data_set all equal)"));
                continue;
            }
            seen[(spec.JobId, draft.DataSet)] = draft.Line;
            specs.Add(spec);
            refs.Add(Reference(spec, draft));
            ManifestHosts.CheckPossible(fileName, draft.Index, draft.Line, spec, hosts, errors);
        }
        var policies = ManifestHosts.Finish(fileName, hosts, errors);
        return errors.Count > 0 ? new(fileName, [], InLineOrder(errors)) : new(fileName, specs, [], policies, refs);
    }

    /// <summary>Errors as a person reads the file: top to bottom (the parser reports follow-on errors out of order).</summary>
    private static List<OperatorProtocol.ManifestError> InLineOrder(List<OperatorProtocol.ManifestError> errors) =>
        errors.OrderBy(e => e.Line).ThenBy(e => e.Column).ToList();

    private static void ReadJobKey(string file, JobDraft draft, KeyValueSyntax kv, List<OperatorProtocol.ManifestError> errors)
    {
        var key = KeyName(kv.Key!);
        if (key.StartsWith("hyper.", StringComparison.Ordinal))
        {
            ReadHyperValue(file, draft, key["hyper.".Length..], kv, errors);
            return;
        }
        if (!draft.Keys.Add(key))
        {
            errors.Add(Error(file, kv.Span, $"job #{draft.Index}: '{key}' is given twice"));
            return;
        }
        if (!JobKeys.Contains(key))
        {
            errors.Add(Error(file, kv.Span, $"job #{draft.Index}: unknown key '{key}' (known: {string.Join(", ", JobKeys.Order())})"));
            return;
        }
        var value = kv.Value;
        switch (key)
        {
            case "model": draft.Model = ExpectString(file, draft, key, value, errors); draft.ModelSpan = value!.Span; break;
            case "mode": draft.Mode = ExpectString(file, draft, key, value, errors); draft.ModeSpan = value!.Span; break;
            case "split_recipe": draft.SplitRecipe = ExpectString(file, draft, key, value, errors); draft.SplitSpan = value!.Span; break;
            case "data_set": draft.DataSet = DataSetRef(file, draft.Index, value, errors); draft.DataSetSpan = value!.Span; break;
            case "seed": draft.Seed = ExpectInt(file, draft, key, value, errors); break;
            case "priority": draft.Priority = ExpectInt(file, draft, key, value, errors); break;
            case "max_attempts":
                var max = ExpectInt(file, draft, key, value, errors);
                if (max is < 1 or > 100) errors.Add(Error(file, value!.Span, $"job #{draft.Index}: max_attempts must be between 1 and 100, got {max}"));
                draft.MaxAttempts = max;
                break;
            case "train_hosts":
                draft.TrainHosts = StringList(file, $"job #{draft.Index}: train_hosts", value, errors);
                if (draft.TrainHosts is { Count: 0 }) errors.Add(Error(file, value!.Span, $"job #{draft.Index}: train_hosts must name at least one host"));
                break;
            case "allowed_hosts":
                draft.AllowedHosts = StringList(file, $"job #{draft.Index}: allowed_hosts", value, errors);
                draft.AllowedHostsSpan = value!.Span;
                if (draft.AllowedHosts is { Count: 0 }) errors.Add(Error(file, value.Span, $"job #{draft.Index}: allowed_hosts must name at least one host (leave it out to allow any)"));
                break;
            case "require_cuda": draft.RequireCuda = ExpectBool(file, $"job #{draft.Index}: '{key}'", value, errors); break;
            case "prefer_cuda": draft.PreferCuda = ExpectBool(file, $"job #{draft.Index}: '{key}'", value, errors); break;
            case "min_vram_gib": draft.MinVramGib = ExpectGib(file, $"job #{draft.Index}: '{key}'", value, errors); draft.MinVramSpan = value!.Span; break;
            case "min_ram_gib": draft.MinRamGib = ExpectGib(file, $"job #{draft.Index}: '{key}'", value, errors); break;
            case "hyper":
                if (value is InlineTableSyntax inline)
                    foreach (var item in inline.Items)
                        ReadHyper(file, draft, item.KeyValue!, errors);
                else errors.Add(Error(file, value!.Span, $"job #{draft.Index}: hyper must be a table, got {Describe(value)}"));
                break;
        }
    }

    private static void ReadHyper(string file, JobDraft draft, KeyValueSyntax kv, List<OperatorProtocol.ManifestError> errors) =>
        ReadHyperValue(file, draft, KeyName(kv.Key!), kv, errors);

    private static void ReadHyperValue(string file, JobDraft draft, string key, KeyValueSyntax kv, List<OperatorProtocol.ManifestError> errors)
    {
        object? value = kv.Value switch
        {
            IntegerValueSyntax i => i.Value,
            FloatValueSyntax f => f.Value,
            BooleanValueSyntax b => b.Value,
            StringValueSyntax s => s.Value,
            _ => null,
        };
        if (value is null)
        {
            errors.Add(Error(file, kv.Span, $"job #{draft.Index}: hyper.{key} must be an integer, float, boolean or string, got {Describe(kv.Value)}"));
            return;
        }
        if (!draft.Hyper.TryAdd(key, (value, kv.Span)))
            errors.Add(Error(file, kv.Span, $"job #{draft.Index}: hyper.{key} is given twice"));
    }

    private static JobSpec? Finish(string file, JobDraft d, List<OperatorProtocol.ManifestError> errors)
    {
        var before = errors.Count;
        if (d.Model is null) errors.Add(new(file, d.Line, 1, $"job #{d.Index}: 'model' is required (one of: {string.Join(", ", ModelCatalog.All.Keys.Order())})"));
        if (d.Mode is null) errors.Add(new(file, d.Line, 1, $"job #{d.Index}: 'mode' is required (one of: {string.Join(", ", ModelCatalog.Modes)})"));

        ModelDefinition? model = null;
        if (d.Model is not null && !ModelCatalog.TryGet(d.Model, out model))
        {
            errors.Add(Error(file, d.ModelSpan, $"job #{d.Index}: unknown model '{d.Model}' (known: {string.Join(", ", ModelCatalog.All.Keys.Order())})"));
            model = null;
        }
        if (d.Mode is not null && !ModelCatalog.Modes.Contains(d.Mode))
            errors.Add(Error(file, d.ModeSpan, $"job #{d.Index}: unknown mode '{d.Mode}' (known: {string.Join(", ", ModelCatalog.Modes)})"));
        var split = d.SplitRecipe ?? DefaultSplitRecipe;
        if (!ModelCatalog.SplitRecipes.Contains(split))
            errors.Add(Error(file, d.SplitSpan, $"job #{d.Index}: unknown split_recipe '{split}' (known: {string.Join(", ", ModelCatalog.SplitRecipes)})"));

        var hyper = model is null ? null : CanonicalHyper(model, d.Hyper.Select(kv => KeyValuePair.Create(kv.Key, kv.Value.Value)));
        foreach (var problem in hyper?.Problems ?? [])
            errors.Add(Error(file, d.Hyper[problem.Key].Span, $"job #{d.Index} ({model!.Name}): {problem.Message}"));
        if (errors.Count > before || model is null || hyper?.CanonicalJson is null || d.Mode is null) return null;

        if (d.MinVramGib > 0 && d.RequireCuda != true && d.PreferCuda != true)
            errors.Add(Error(file, d.MinVramSpan, $"job #{d.Index}: min_vram_gib = {d.MinVramGib} asks for GPU memory but the job neither requires nor prefers CUDA (add require_cuda = true or prefer_cuda = true)"));
        if (errors.Count > before) return null;

        var hyperJson = hyper.CanonicalJson;
        var hosts = d.TrainHosts ?? [DefaultTrainHost];
        var seed = d.Seed ?? 0;
        var id = JobIds.Compute(model.Name, d.Mode, hyperJson, split, hosts, seed);
        var needs = new JobConstraints(d.RequireCuda ?? false, d.PreferCuda ?? false, d.MinVramGib ?? 0, d.MinRamGib ?? 0,
            (d.AllowedHosts ?? []).Distinct().Order(StringComparer.Ordinal).ToArray());
        return new JobSpec(id, model.Name, d.Mode, hyperJson, split, hosts.Order(StringComparer.Ordinal).ToArray(), seed,
            (int)(d.Priority ?? 0), (int)(d.MaxAttempts ?? DefaultMaxAttempts), needs.IsNone ? null : needs);
    }

    private static string? ExpectString(string file, JobDraft d, string key, ValueSyntax? v, List<OperatorProtocol.ManifestError> errors)
    {
        if (v is StringValueSyntax s) return s.Value;
        errors.Add(Error(file, v?.Span, $"job #{d.Index}: '{key}' must be a string, got {Describe(v)}"));
        return null;
    }

    internal static List<string>? StringList(string file, string what, ValueSyntax? value, List<OperatorProtocol.ManifestError> errors)
    {
        if (value is not ArraySyntax array)
        {
            errors.Add(Error(file, value?.Span, $"{what} must be an array of strings, got {Describe(value)}"));
            return null;
        }
        var items = new List<string>();
        foreach (var item in array.Items)
        {
            if (item.Value is StringValueSyntax s && !string.IsNullOrWhiteSpace(s.Value)) items.Add(s.Value!);
            else errors.Add(Error(file, item.Span, $"{what} must be an array of non-empty strings, got {Describe(item.Value)}"));
        }
        return items;
    }

    internal static bool? ExpectBool(string file, string what, ValueSyntax? v, List<OperatorProtocol.ManifestError> errors)
    {
        if (v is BooleanValueSyntax b) return b.Value;
        errors.Add(Error(file, v?.Span, $"{what} must be true or false, got {Describe(v)}"));
        return null;
    }

    /// <summary>A size in GiB: a non-negative finite number (an integer is fine).</summary>
    internal static double? ExpectGib(string file, string what, ValueSyntax? v, List<OperatorProtocol.ManifestError> errors)
    {
        double? value = v switch { IntegerValueSyntax i => i.Value, FloatValueSyntax f => f.Value, _ => null };
        if (value is null) errors.Add(Error(file, v?.Span, $"{what} must be a number of GiB, got {Describe(v)}"));
        else if (!double.IsFinite(value.Value) || value < 0) errors.Add(Error(file, v?.Span, $"{what} must be a finite number ≥ 0, got {value}"));
        else return value;
        return null;
    }

    private static long? ExpectInt(string file, JobDraft d, string key, ValueSyntax? v, List<OperatorProtocol.ManifestError> errors)
    {
        if (v is IntegerValueSyntax i) return i.Value;
        errors.Add(Error(file, v?.Span, $"job #{d.Index}: '{key}' must be an integer, got {Describe(v)}"));
        return null;
    }

    internal static string Describe(SyntaxNode? v) => v switch
    {
        StringValueSyntax s => $"string \"{s.Value}\"",
        IntegerValueSyntax i => $"integer {i.Value}",
        FloatValueSyntax f => $"float {f.Value}",
        BooleanValueSyntax b => $"boolean {b.Value.ToString().ToLowerInvariant()}",
        ArraySyntax => "an array",
        InlineTableSyntax => "a table",
        null => "nothing",
        _ => v.Kind.ToString(),
    };

    internal static string KeyName(KeySyntax? key)
    {
        if (key is null) return "";
        var parts = new List<string> { Part(key.Key) };
        foreach (var dot in key.DotKeys) parts.Add(Part(dot.Key));
        return string.Join('.', parts);

        static string Part(BareKeyOrStringValueSyntax? p) => p switch
        {
            BareKeySyntax b => b.Key?.Text ?? "",
            StringValueSyntax s => s.Value ?? "",
            _ => p?.ToString() ?? "",
        };
    }

    internal static OperatorProtocol.ManifestError Error(string file, SourceSpan? span, string message) =>
        span is { } s ? new(file, s.Start.Line + 1, s.Start.Column + 1, message) : new(file, 0, 0, message);

    private sealed class JobDraft(int index, int line)
    {
        public int Index { get; } = index;
        public int Line { get; } = line;
        public string? Model, Mode, SplitRecipe, DataSet;
        public SourceSpan? ModelSpan, ModeSpan, SplitSpan, DataSetSpan;
        public long? Seed, Priority, MaxAttempts;
        public List<string>? TrainHosts, AllowedHosts;
        public bool? RequireCuda, PreferCuda;
        public double? MinVramGib, MinRamGib;
        public SourceSpan? MinVramSpan, AllowedHostsSpan;
        public Dictionary<string, (object Value, SourceSpan Span)> Hyper { get; } = new(StringComparer.Ordinal);
        public HashSet<string> Keys { get; } = new(StringComparer.Ordinal);
    }
}
