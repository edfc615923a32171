using System.Globalization;
using System.Text;
using System.Text.Json;
using Cis490.Protocols.Jobs;
using Cis490.Protocols.Serialization;
using Cis490.Shared.Text;

namespace Cis490.Shell.Render;

/// <summary>Aligned text columns for people, JSON for scripts, and the small formats both tables share.</summary>
public static class TextTable
{
    /// <summary>Columns padded to their widest cell, two spaces apart, no trailing blanks.</summary>
    /// <remarks>Cells are escaped (<see cref="SafeText"/>) before they are measured, so a cell with a control character is shown
    /// escaped and the columns stay aligned.</remarks>
    public static string Render(IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows)
    {
        var all = new List<IReadOnlyList<string>> { header };
        all.AddRange(rows.Select(r => (IReadOnlyList<string>)r.Select(SafeText.Escape).ToList()));
        var widths = Enumerable.Range(0, header.Count).Select(c => all.Max(r => c < r.Count ? r[c].Length : 0)).ToArray();
        var sb = new StringBuilder();
        foreach (var r in all)
            sb.AppendLine(string.Join("  ", r.Select((cell, c) => c == r.Count - 1 ? cell : cell.PadRight(widths[c]))).TrimEnd());
        return sb.ToString();
    }

    /// <summary>Label: value lines, labels padded to the longest; empty values are left out.</summary>
    public static string Fields(IEnumerable<(string Label, string? Value)> fields)
    {
        var present = fields.Where(f => !string.IsNullOrEmpty(f.Value)).Select(f => (f.Label, Value: SafeText.Escape(f.Value))).ToList();
        var width = present.Count == 0 ? 0 : present.Max(f => f.Label.Length) + 1;
        var sb = new StringBuilder();
        foreach (var (label, value) in present) sb.AppendLine($"{(label + ":").PadRight(width)} {value}");
        return sb.ToString();
    }

    /// <summary>A reply as indented JSON, with the wire's names (snake_case).</summary>
    /// <remarks>Everything outside printable ASCII is written as a <c>\uXXXX</c> escape (<see cref="JsonOptions"/>): the document
    /// stays valid JSON with the same values, and holds nothing a terminal would act on.</remarks>
    public static string Json(object value) => JsonSerializer.Serialize(value, value.GetType(), JsonOptions(indented: true));

    /// <summary>A reply as one line of JSON (for JSON Lines streams).</summary>
    public static string JsonLine(object value) => JsonSerializer.Serialize(value, value.GetType(), JsonOptions(indented: false));

    /// <summary>The wire's options (snake_case), with the default encoder, which escapes every character outside printable ASCII
    /// (control characters, bidi overrides, and non-ASCII letters alike) as <c>\uXXXX</c>.</summary>
    public static JsonSerializerOptions JsonOptions(bool indented)
    {
        var options = Cis490Serializer.CreateOptions(null);
        options.WriteIndented = indented;
        options.Encoder = System.Text.Encodings.Web.JavaScriptEncoder.Default;
        return options;
    }

    public static string Time(DateTimeOffset? t) => t is { } v ? v.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) : "";

    /// <summary>How long ago, e.g. "3s ago", "4m ago", "2h ago".</summary>
    public static string Ago(DateTimeOffset t, DateTimeOffset now)
    {
        var s = Math.Max(0, (now - t).TotalSeconds);
        return s < 120 ? $"{s:F0}s ago" : s < 7200 ? $"{s / 60:F0}m ago" : s < 172800 ? $"{s / 3600:F0}h ago" : $"{s / 86400:F0}d ago";
    }

    public static string Num(double? v, string format = "F3") =>
        v is { } x && !double.IsNaN(x) ? x.ToString(format, CultureInfo.InvariantCulture) : "";

    public static string Bytes(long n) =>
        n < 1024 ? $"{n} B" : n < 1 << 20 ? $"{n / 1024.0:F1} KiB".Replace(',', '.') : $"{n / 1048576.0:F1} MiB".Replace(',', '.');

    /// <summary>A progress bar with what the trainer said, e.g. <c>[#####-----]  50%  epoch 5/10  loss 0.412  val F1 0.811  12.3s  training</c>.</summary>
    public static string ProgressBar(TrainingProgress p, int width = 30)
    {
        var fraction = p.TotalEpochs > 0 ? Math.Clamp((double)p.Epoch / p.TotalEpochs, 0, 1) : 0;
        var filled = (int)Math.Round(fraction * width);
        var parts = new List<string>
        {
            $"[{new string('#', filled)}{new string('-', width - filled)}] {fraction * 100,3:F0}%",
        };
        if (p.TotalEpochs > 0) parts.Add($"epoch {p.Epoch}/{p.TotalEpochs}");
        if (Num(p.Loss) is { Length: > 0 } loss) parts.Add($"loss {loss}");
        if (Num(p.ValMacroF1) is { Length: > 0 } f1) parts.Add($"val F1 {f1}");
        parts.Add($"{Num(p.ElapsedSeconds, "F1")}s");
        if (p.Message.Length > 0) parts.Add(p.Message);
        return string.Join("  ", parts);
    }
}
