using System.Text.Json;
using System.Text.Json.Serialization;

namespace Cis490.Shared.Capability;

/// <summary>One model family as the self-test found it: trained on the self-test's data and predicted, or why not.</summary>
public sealed record FamilyCheck(bool Ok, string? Problem, double Seconds);

/// <summary>What <c>trainer --self-test</c> prints: every catalog family tried for real by the same child-process entry that trains
/// leases, the engine versions it loaded, and whether the libtorch it ships can use CUDA (and why not).</summary>
/// <param name="Families">Every family of the model catalog, by name.</param>
/// <param name="TorchVersion">libtorch's version once loaded, else null.</param>
/// <param name="XgboostVersion">libxgboost's version once loaded, else null.</param>
/// <param name="TorchCuda">torch.cuda.is_available() with the libtorch this build ships.</param>
/// <param name="TorchCudaProblem">Why the engine cannot use CUDA (libtorch did not load; a CPU-only build), or null.</param>
/// <param name="Seconds">The whole self-test's wall time.</param>
public sealed record SelfTestReport(
    IReadOnlyDictionary<string, FamilyCheck> Families,
    string? TorchVersion,
    string? XgboostVersion,
    bool TorchCuda,
    string? TorchCudaProblem,
    double Seconds)
{
    /// <summary>The families that trained, in name order.</summary>
    [JsonIgnore]
    public IReadOnlyList<string> Runnable => Families.Where(f => f.Value.Ok).Select(f => f.Key).Order(StringComparer.Ordinal).ToList();

    /// <summary>Family → why it cannot run here, for those that failed.</summary>
    [JsonIgnore]
    public IReadOnlyDictionary<string, string> Problems =>
        Families.Where(f => !f.Value.Ok).OrderBy(f => f.Key, StringComparer.Ordinal)
            .ToDictionary(f => f.Key, f => f.Value.Problem ?? "failed without a message");

    /// <summary>The failed families grouped by their reason (one line each: "gbt: XGBoost's C library …"), for messages a person reads.</summary>
    public string ProblemSummary() =>
        string.Join("; ", Problems.GroupBy(p => p.Value).Select(g => $"{string.Join(", ", g.Select(p => p.Key))}: {g.Key}"));

    /// <summary>The line the trainer prints the report on; it starts with this marker so the worker finds it among other output.</summary>
    public const string Marker = "SELF-TEST ";

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public string ToLine() => Marker + JsonSerializer.Serialize(this, Json);

    /// <summary>The report on the marked line of <paramref name="stdout"/>; throws <see cref="InvalidDataException"/> naming what is wrong.</summary>
    public static SelfTestReport Parse(string stdout)
    {
        var line = stdout.Split('\n').Select(l => l.TrimEnd('\r')).LastOrDefault(l => l.StartsWith(Marker, StringComparison.Ordinal))
                   ?? throw new InvalidDataException($"the self-test printed no line starting with '{Marker.Trim()}'");
        try
        {
            var report = JsonSerializer.Deserialize<SelfTestReport>(line[Marker.Length..], Json);
            if (report?.Families is null) throw new InvalidDataException("the self-test report has no families");
            return report;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"the self-test report is not valid JSON: {e.Message}", e);
        }
    }
}
