using System.Globalization;
using System.Text.Json;

namespace Cis490.Coordinator.Http.Dashboard;

/// <summary>The evaluation comparison as the dashboard shows it: one row per evaluated model (macro F1 on the test split with its
/// bootstrap CI), read from the <c>NAME_eval.json</c> files <c>./cis490 eval</c> writes (Training/Evaluation/ComparisonReport.cs).</summary>
public sealed record EvaluationView(string Dir, string? Report, DateTimeOffset UpdatedAt, string Resample, IReadOnlyList<EvaluationRow> Models,
    IReadOnlyList<string> Problems);

/// <summary>One evaluated model; <paramref name="Group"/> is the set of models evaluated on the same test windows (mode and split).</summary>
public sealed record EvaluationRow(string Name, string Model, string Mode, string Group, string Hyper, double? TestMacroF1, double? Low, double? High,
    double? ValMacroF1, int TestWindows);

/// <summary>Reads the evaluation folder, again only when a file in it changed (the feed asks every tick).</summary>
public sealed class EvaluationReader(string dir)
{
    private (int Count, DateTime Newest) _seen = (-1, DateTime.MinValue);
    private EvaluationView? _cached;
    private readonly object _gate = new();

    public string Dir { get; } = dir;

    /// <summary>The comparison, or null while no evaluation has been written.</summary>
    public EvaluationView? Read()
    {
        lock (_gate)
        {
            var files = Directory.Exists(Dir) ? Directory.GetFiles(Dir, "*_eval.json") : [];
            var stamp = (files.Length, files.Length == 0 ? DateTime.MinValue : files.Max(File.GetLastWriteTimeUtc));
            if (stamp == _seen) return _cached;
            _seen = stamp;
            _cached = files.Length == 0 ? null : Load(files, stamp.Item2);
            return _cached;
        }
    }

    private EvaluationView Load(string[] files, DateTime newest)
    {
        var rows = new List<EvaluationRow>();
        var problems = new List<string>();
        var resample = "";
        foreach (var file in files.Order(StringComparer.Ordinal))
        {
            try
            {
                using var doc = JsonDocument.Parse(File.ReadAllBytes(file));
                var root = doc.RootElement;
                var e = root.GetProperty("evaluation");
                if (root.TryGetProperty("resample", out var r)) resample = r.GetString() ?? "";
                var test = e.GetProperty("test_macro_f1");
                var mode = Str(e, "mode");
                var hosts = e.TryGetProperty("train_hosts", out var h) && h.ValueKind == JsonValueKind.Array
                    ? string.Join("+", h.EnumerateArray().Select(x => x.GetString())) : "";
                var group = $"{mode} · split {Str(e, "split_recipe")} (train {hosts}, seed {(e.TryGetProperty("split_seed", out var s) ? s.ToString() : "?")})";
                rows.Add(new EvaluationRow(Str(e, "name"), Str(e, "model"), mode, group,
                    e.TryGetProperty("hyper", out var hy) ? hy.GetRawText() : "{}",
                    Num(test, "value"), Num(test, "low"), Num(test, "high"), Num(e, "val_macro_f1"),
                    e.TryGetProperty("test_windows", out var w) && w.TryGetInt32(out var n) ? n : 0));
            }
            catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or IOException)
            {
                // A report being rewritten, or of another version: say which file, show the rest.
                problems.Add($"{Path.GetFileName(file)}: {ex.Message}");
            }
        }
        var report = Path.Combine(Dir, "comparison.md");
        return new EvaluationView(Dir, File.Exists(report) ? report : null, new DateTimeOffset(newest, TimeSpan.Zero), resample,
            rows.OrderBy(x => x.Group, StringComparer.Ordinal).ThenByDescending(x => x.TestMacroF1 ?? -1).ToList(), problems);
    }

    private static string Str(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "";

    /// <summary>A number, or null for NaN/absent (the report writes a non-finite value as a string).</summary>
    private static double? Num(JsonElement e, string name)
    {
        if (!e.TryGetProperty(name, out var v)) return null;
        if (v.ValueKind == JsonValueKind.Number) return v.GetDouble();
        return v.ValueKind == JsonValueKind.String && double.TryParse(v.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d)
            ? d : null;
    }
}
