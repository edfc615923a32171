using System.Text.Json;
using Cis490.Shared.Jobs;
using Cis490.Shared.Models;

namespace Cis490.Shared.Manifest;

/// <summary>Hyper-parameter values checked against a model's declarations and turned into the canonical JSON a job id hashes:
/// the one place both a manifest's <c>hyper</c> table and <c>train --hyper</c> go through.</summary>
public static partial class ManifestLoader
{
    /// <summary>Checks hyper-parameter values (long, double, bool or string) against the model's declarations and gives the
    /// canonical JSON a job id hashes, or every problem found. A manifest's <c>hyper</c> table and <c>train --hyper</c> both come
    /// through here, so the same values give the same JSON, and so the same job id.</summary>
    public static HyperCheck CanonicalHyper(ModelDefinition model, IEnumerable<KeyValuePair<string, object>> values)
    {
        var problems = new List<HyperProblem>();
        var hyper = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var (key, value) in values)
        {
            var decl = model.Find(key);
            if (decl is null)
            {
                problems.Add(new(key, $"unknown hyper-parameter '{key}' (known: {string.Join(", ", model.Hyper.Select(h => h.Name))})"));
                continue;
            }
            var problem = CheckHyper(decl, value, out var normalized);
            if (problem is not null) problems.Add(new(key, $"hyper.{key} {problem}"));
            else if (!hyper.TryAdd(key, normalized!)) problems.Add(new(key, $"hyper.{key} is given twice"));
        }
        return problems.Count > 0 ? new HyperCheck(null, problems) : new HyperCheck(JobIds.CanonicalHyperJson(hyper), []);
    }

    /// <summary><see cref="CanonicalHyper(ModelDefinition, IEnumerable{KeyValuePair{string, object}})"/> for a JSON object such as
    /// <c>{"k": 5, "weights": "distance"}</c>: integers stay integers (5), numbers with a fraction or exponent are floats (5.0),
    /// as in TOML. A problem with the text itself has an empty key.</summary>
    public static HyperCheck CanonicalHyper(ModelDefinition model, string json)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            return new HyperCheck(null, [new("", $"is not valid JSON ({e.Message})")]);
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                return new HyperCheck(null, [new("", "must be a JSON object, e.g. {\"k\": 5}")]);
            var values = new List<KeyValuePair<string, object>>();
            var problems = new List<HyperProblem>();
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                object? value = p.Value.ValueKind switch
                {
                    JsonValueKind.Number when p.Value.TryGetInt64(out var l) => l,
                    JsonValueKind.Number => p.Value.GetDouble(),
                    JsonValueKind.True or JsonValueKind.False => p.Value.GetBoolean(),
                    JsonValueKind.String => p.Value.GetString()!,
                    _ => null,
                };
                if (value is null)
                    problems.Add(new(p.Name, $"hyper.{p.Name} must be an integer, float, boolean or string, got {p.Value.ValueKind.ToString().ToLowerInvariant()}"));
                else values.Add(KeyValuePair.Create(p.Name, value));
            }
            var check = CanonicalHyper(model, values);
            return problems.Count == 0 ? check : new HyperCheck(null, [.. problems, .. check.Problems]);
        }
    }

    /// <summary>Checks a value against its declaration; returns a problem description or null. Integers are accepted for floats.</summary>
    public static string? CheckHyper(HyperParameter decl, object value, out object? normalized)
    {
        normalized = null;
        switch (decl.Kind)
        {
            case HyperKind.Int when value is long l:
                if (decl.Min is { } lo && l < lo || decl.Max is { } hi && l > hi) return $"= {l} is outside [{decl.Min}, {decl.Max}]";
                normalized = l; return null;
            case HyperKind.Float when value is long or double:
                var d = Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture);
                if (!double.IsFinite(d)) return "must be a finite number";
                if (decl.Min is { } flo && d < flo || decl.Max is { } fhi && d > fhi) return $"= {d} is outside [{decl.Min}, {decl.Max}]";
                normalized = d; return null;
            case HyperKind.Bool when value is bool b:
                normalized = b; return null;
            case HyperKind.String when value is string s:
                if (decl.Allowed is { } allowed && !allowed.Contains(s)) return $"= '{s}' is not one of: {string.Join(", ", allowed)}";
                normalized = s; return null;
            default:
                return $"must be {decl.Kind.ToString().ToLowerInvariant()}, got {value.GetType().Name.ToLowerInvariant()} {value}";
        }
    }
}
