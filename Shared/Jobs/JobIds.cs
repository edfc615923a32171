using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Cis490.Shared.Jobs;

/// <summary>Stable job ids: sha256 of the canonical (model, mode, hyper, split_recipe, train_hosts, seed), and of the data set's
/// content hash when the job is bound to one.</summary>
/// <remarks>Canonical means: hyper keys sorted ordinally, integers as integers, floats in round-trip form, train_hosts sorted.
/// Hyper values are hashed as the manifest gave them (defaults are not filled in), so a release that adds a
/// hyper-parameter with a default does not change the id of any existing job. The data set is appended only when there is one:
/// a job trained on another data set is another job (re-training on new data never overwrites the old result), and every id made
/// before data sets existed (or without one) stays what it was.</remarks>
public static class JobIds
{
    /// <summary>Canonical JSON of hyper-parameter values (long, double, bool or string), keys sorted.</summary>
    public static string CanonicalHyperJson(IReadOnlyDictionary<string, object> hyper)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            foreach (var (key, value) in hyper.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                w.WritePropertyName(key);
                WriteValue(w, value);
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>The job id: lowercase hex sha256 of the canonical tuple.</summary>
    public static string Compute(string model, string mode, string hyperJson, string splitRecipe, IEnumerable<string> trainHosts, long seed,
        string? dataSet = null)
    {
        var canonical = CanonicalTuple(model, mode, hyperJson, splitRecipe, trainHosts, seed, dataSet);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
    }

    /// <summary>Whether <paramref name="id"/> has the form of a job id (64 lowercase hex digits), so that it may name a file or a
    /// folder: an id from the network is checked before any path is built from it.</summary>
    public static bool IsWellFormed(string? id) =>
        id is { Length: 64 } && id.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f');

    /// <summary>The exact text that is hashed; exposed so that operators can recompute an id by hand.</summary>
    public static string CanonicalTuple(string model, string mode, string hyperJson, string splitRecipe, IEnumerable<string> trainHosts, long seed,
        string? dataSet = null)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartArray();
            w.WriteStringValue(model);
            w.WriteStringValue(mode);
            using (var hyperDoc = JsonDocument.Parse(hyperJson))
                WriteSortedHyper(w, hyperDoc.RootElement);
            w.WriteStringValue(splitRecipe);
            w.WriteStartArray();
            foreach (var h in trainHosts.OrderBy(h => h, StringComparer.Ordinal))
                w.WriteStringValue(h);
            w.WriteEndArray();
            w.WriteNumberValue(seed);
            if (dataSet is not null) w.WriteStringValue(dataSet);
            w.WriteEndArray();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>Writes the hyper object with its keys sorted ordinally, so that hand-written JSON in any key order gives the same id;
    /// values are written as their original tokens (1.0 stays 1.0).</summary>
    private static void WriteSortedHyper(Utf8JsonWriter w, JsonElement hyper)
    {
        if (hyper.ValueKind != JsonValueKind.Object) { hyper.WriteTo(w); return; }
        w.WriteStartObject();
        foreach (var property in hyper.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal))
            property.WriteTo(w);
        w.WriteEndObject();
    }

    /// <summary>A short form for tables (first 12 hex digits).</summary>
    public static string Short(string jobId) => jobId.Length > 12 ? jobId[..12] : jobId;

    private static void WriteValue(Utf8JsonWriter w, object value)
    {
        switch (value)
        {
            case long l: w.WriteNumberValue(l); break;
            case int i: w.WriteNumberValue(i); break;
            case double d:
                if (!double.IsFinite(d)) throw new ArgumentException($"hyper-parameter value {d} is not a finite number");
                // Written as a raw token so 1.0 stays "1.0" (a float), never "1" (an int): the type is part of the identity.
                var text = d.ToString("R", CultureInfo.InvariantCulture);
                if (!text.Contains('.') && !text.Contains('E')) text += ".0";
                w.WriteRawValue(text);
                break;
            case bool b: w.WriteBooleanValue(b); break;
            case string s: w.WriteStringValue(s); break;
            default: throw new ArgumentException($"unsupported hyper-parameter value type {value.GetType().Name}");
        }
    }
}
