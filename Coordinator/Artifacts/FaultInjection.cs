namespace Cis490.Coordinator.Artifacts;

/// <summary>Test-only fault injection for the real-process crash tests: the environment variable <c>CIS490_FAULT</c>, read once
/// when the process starts, names a point (or several, comma-separated) where the coordinator process dies on the spot (<see cref="Environment.FailFast(string)"/>,
/// as a SIGKILL or a power cut would stop it), or where it spoils what it sends (the data-set store's faults). Never set it on a real fleet.</summary>
public static class FaultInjection
{
    public const string Variable = "CIS490_FAULT";

    /// <summary>Right after a verified bundle is renamed into the store, before its index row is appended or the job completed.</summary>
    public const string StoreCrashAfterRename = "store-crash-after-rename";

    /// <summary>The active points: the variable may name several, separated by commas.</summary>
    private static readonly HashSet<string> Active =
        (Environment.GetEnvironmentVariable(Variable) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .ToHashSet(StringComparer.Ordinal);

    public static bool Is(string point) => Active.Contains(point);

    /// <summary>An action that kills the process when <paramref name="point"/> is the active fault, else null.</summary>
    public static Action? CrashAt(string point) =>
        Is(point) ? () => Environment.FailFast($"{Variable}={point}: the coordinator dies here on purpose (a test-only fault)") : null;
}
