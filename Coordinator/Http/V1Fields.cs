using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using static Cis490.Coordinator.Http.V1Contracts;

namespace Cis490.Coordinator.Http;

/// <summary>A JSON object read leniently, the way the <c>/v1</c> endpoints read the earlier fleet's bodies, whose field names are not
/// known: a field is found by any of several spellings (<c>worker_id</c>, <c>workerId</c>, <c>Worker-ID</c> are one), numbers may
/// come as strings (<c>"8"</c>, <c>"16 GiB"</c>), booleans as <c>"yes"</c> or <c>1</c>. What was not used is listed
/// (<see cref="Unused"/>), so nothing a client sends is dropped silently. A value that is there but unusable is a
/// <see cref="FieldProblem"/> naming the field as the client spelled it.</summary>
public sealed partial class V1Fields
{
    private readonly Dictionary<string, (string Key, JsonElement Value)> _fields = new(StringComparer.Ordinal);
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);
    private readonly string _prefix;

    private V1Fields(JsonElement obj, string prefix)
    {
        _prefix = prefix;
        foreach (var p in obj.EnumerateObject()) _fields.TryAdd(Normal(p.Name), (p.Name, p.Value));
    }

    /// <summary>The fields of <paramref name="obj"/> (a JSON object); <paramref name="prefix"/> is how its fields are named in errors
    /// (<c>capability.</c> for a nested object).</summary>
    public static V1Fields Of(JsonElement obj, string prefix = "") =>
        obj.ValueKind == JsonValueKind.Object ? new V1Fields(obj, prefix) : throw new ArgumentException("not a JSON object", nameof(obj));

    /// <summary>An empty set of fields (an empty body).</summary>
    public static V1Fields Empty { get; } = Of(JsonDocument.Parse("{}").RootElement.Clone());

    /// <summary>Spellings are one when they differ only in case, '_', '-' and ' ': <c>ram_GB</c> = <c>ramGb</c> = <c>ram-gb</c>.</summary>
    public static string Normal(string name) => string.Concat(name.Where(c => c is not ('_' or '-' or ' '))).ToLowerInvariant();

    /// <summary>The first of <paramref name="aliases"/> present (and not JSON null); marks it used.</summary>
    public (string Name, JsonElement Value)? Find(params string[] aliases)
    {
        foreach (var alias in aliases)
        {
            var n = Normal(alias);
            if (_fields.TryGetValue(n, out var f) && f.Value.ValueKind != JsonValueKind.Null)
            {
                _used.Add(n);
                return (_prefix + f.Key, f.Value);
            }
            if (_fields.ContainsKey(n)) _used.Add(n); // an explicit null is "not given", and not ignored either
        }
        return null;
    }

    /// <summary>A nested object under one of <paramref name="aliases"/>, if there is one.</summary>
    public V1Fields? Object(params string[] aliases) =>
        Find(aliases) is { Value.ValueKind: JsonValueKind.Object } f ? new V1Fields(f.Value, f.Name + ".") : null;

    /// <summary>A field's name as errors show it (with the prefix of a nested object).</summary>
    public string Named(string name) => _prefix + name;

    /// <summary>The fields present that nothing read, as the client spelled them.</summary>
    public IEnumerable<string> Unused =>
        _fields.Where(f => !_used.Contains(f.Key) && f.Value.Value.ValueKind != JsonValueKind.Null).Select(f => _prefix + f.Value.Key);

    /// <summary>Marks fields as read without taking their values (known fields this endpoint does not need).</summary>
    public void Ignore(params string[] aliases)
    {
        foreach (var a in aliases)
            if (_fields.ContainsKey(Normal(a))) _used.Add(Normal(a));
    }

    /// <summary>Text: a string, or a number or boolean written as text.</summary>
    public string? Text(out FieldProblem? problem, params string[] aliases)
    {
        problem = null;
        if (Find(aliases) is not { } f) return null;
        switch (f.Value.ValueKind)
        {
            case JsonValueKind.String: return f.Value.GetString();
            case JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False: return f.Value.GetRawText();
            default:
                problem = new FieldProblem(f.Name, $"must be text, got {Kind(f.Value)}");
                return null;
        }
    }

    /// <summary>A number: a JSON number or a numeric string (<c>"8"</c>, <c>"0.5"</c>).</summary>
    public double? Number(out FieldProblem? problem, params string[] aliases)
    {
        problem = null;
        return Find(aliases) is { } f ? NumberOf(f.Name, f.Value, out problem) : null;
    }

    /// <summary>A whole number (8, 8.0 or "8").</summary>
    public long? Whole(out FieldProblem? problem, params string[] aliases)
    {
        problem = null;
        if (Find(aliases) is not { } f) return null;
        var v = NumberOf(f.Name, f.Value, out problem);
        if (v is null) return null;
        if (v != Math.Floor(v.Value) || Math.Abs(v.Value) > 1e15)
        {
            problem = new FieldProblem(f.Name, $"must be a whole number, got {f.Value.GetRawText()}");
            return null;
        }
        return (long)v.Value;
    }

    /// <summary>A yes/no: true/false, 1/0, or the strings true/false, yes/no, on/off, 1/0.</summary>
    public bool? Flag(out FieldProblem? problem, params string[] aliases)
    {
        problem = null;
        if (Find(aliases) is not { } f) return null;
        var v = f.Value;
        if (v.ValueKind is JsonValueKind.True or JsonValueKind.False) return v.GetBoolean();
        if (v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out var d) && d is 0 or 1) return d == 1;
        if (v.ValueKind == JsonValueKind.String)
            switch (v.GetString()!.Trim().ToLowerInvariant())
            {
                case "true" or "yes" or "on" or "1" or "y": return true;
                case "false" or "no" or "off" or "0" or "n" or "": return false;
            }
        problem = new FieldProblem(f.Name, $"must be true or false, got {Shown(v)}");
        return null;
    }

    /// <summary>An amount of memory in GiB. Fields named for a unit (<c>ram_gb</c>, <c>ram_mb</c>, <c>ram_bytes</c>) take a number in it;
    /// a string may carry its own unit (<c>"16 GiB"</c>, <c>"16384MB"</c>); a bare number under a unit-less name (<c>ram</c>) is read by
    /// its size: up to 1024 GiB, up to 2^20 MiB, below 2^30 KiB (as /proc/meminfo), else bytes (as psutil).</summary>
    public double? Memory(out FieldProblem? problem, string[] gib, string[] mib, string[] bytes, string[] unitless)
    {
        problem = null;
        foreach (var (names, scale) in new[] { (gib, 1.0), (mib, 1.0 / 1024), (bytes, 1.0 / (1L << 30)) })
            if (Find(names) is { } f)
                return f.Value.ValueKind == JsonValueKind.String && WithUnit(f.Value.GetString()!) is { } g ? g
                    : NumberOf(f.Name, f.Value, out problem) * scale;
        if (Find(unitless) is not { } u) return null;
        if (u.Value.ValueKind == JsonValueKind.String && WithUnit(u.Value.GetString()!) is { } withUnit) return withUnit;
        var n = NumberOf(u.Name, u.Value, out problem);
        return n switch
        {
            null => null,
            <= 1024 => n,
            <= 1 << 20 => n / 1024,
            < 1L << 30 => n / (1 << 20),
            _ => n / (1L << 30),
        };
    }

    [GeneratedRegex(@"^\s*([0-9]+(?:\.[0-9]+)?)\s*([KMGT])(i?)B?\s*$", RegexOptions.IgnoreCase)]
    private static partial Regex UnitPattern();

    /// <summary>"16 GiB", "16GB", "16384 MB", "512M" → GiB (decimal units read as binary: machines report GiB as "GB").</summary>
    private static double? WithUnit(string s)
    {
        var m = UnitPattern().Match(s);
        if (!m.Success) return null;
        var value = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        return char.ToUpperInvariant(m.Groups[2].Value[0]) switch
        {
            'K' => value / (1 << 20),
            'M' => value / 1024,
            'G' => value,
            _ => value * 1024,
        };
    }

    private static double? NumberOf(string name, JsonElement v, out FieldProblem? problem)
    {
        problem = null;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out var d)) return d;
        if (v.ValueKind == JsonValueKind.String &&
            double.TryParse(v.GetString()!.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) && double.IsFinite(parsed))
            return parsed;
        problem = new FieldProblem(name, $"must be a number, got {Shown(v)}");
        return null;
    }

    /// <summary>A value as an error message shows it: its JSON, cut short.</summary>
    public static string Shown(JsonElement v)
    {
        var raw = v.GetRawText();
        return Shared.Text.SafeText.Escape(raw.Length <= 40 ? raw : raw[..40] + "…");
    }

    private static string Kind(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "a list",
        _ => Shown(v),
    };
}
