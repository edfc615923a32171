using Cis490.Protocols.Jobs;
using Cis490.Protocols.Operator;
using Cis490.Shared.Jobs;
using Tomlyn.Syntax;
using static Cis490.Shared.Manifest.ManifestLoader;

namespace Cis490.Shared.Manifest;

/// <summary>The manifest's <c>[[hosts]]</c> tables, and the check that every job could run on some declared host.</summary>
internal static class ManifestHosts
{
    private static readonly HashSet<string> HostKeys = ["name", "cuda", "vram_gib", "ram_gib", "allow_jobs", "deny_jobs"];

    internal sealed class HostDraft(int index, int line)
    {
        public int Index { get; } = index;
        public int Line { get; } = line;
        public string? Name;
        public bool? Cuda;
        public double? VramGib, RamGib;
        public List<string> Allow = [], Deny = [];
        public HashSet<string> Keys { get; } = new(StringComparer.Ordinal);
        public bool Valid = true;

        public HostPolicy ToPolicy() => new(Name!, Cuda, VramGib, RamGib, Allow, Deny);
    }

    public static HostDraft Read(string file, int index, TableSyntaxBase table, List<OperatorProtocol.ManifestError> errors)
    {
        var draft = new HostDraft(index, table.Span.Start.Line + 1);
        var before = errors.Count;
        foreach (var kv in table.Items)
        {
            var key = KeyName(kv.Key!);
            var what = $"host #{index}: '{key}'";
            if (!HostKeys.Contains(key))
            {
                errors.Add(Error(file, kv.Span, $"host #{index}: unknown key '{key}' (known: {string.Join(", ", HostKeys.Order())})"));
                continue;
            }
            if (!draft.Keys.Add(key))
            {
                errors.Add(Error(file, kv.Span, $"host #{index}: '{key}' is given twice"));
                continue;
            }
            switch (key)
            {
                case "name":
                    if (kv.Value is StringValueSyntax { Value: { } name } && !string.IsNullOrWhiteSpace(name)) draft.Name = name.Trim();
                    else errors.Add(Error(file, kv.Value?.Span, $"{what} must be a non-empty string (the host name its worker reports), got {Describe(kv.Value)}"));
                    break;
                case "cuda": draft.Cuda = ExpectBool(file, what, kv.Value, errors); break;
                case "vram_gib": draft.VramGib = ExpectGib(file, what, kv.Value, errors); break;
                case "ram_gib": draft.RamGib = ExpectGib(file, what, kv.Value, errors); break;
                case "allow_jobs" or "deny_jobs":
                    var patterns = StringList(file, what, kv.Value, errors) ?? [];
                    foreach (var p in patterns)
                        if (Placement.PatternProblem(p) is { } problem) errors.Add(Error(file, kv.Value!.Span, $"{what}: {problem}"));
                    if (key == "allow_jobs") draft.Allow = patterns;
                    else draft.Deny = patterns;
                    break;
            }
        }
        if (draft.Name is null && !draft.Keys.Contains("name"))
            errors.Add(new(file, draft.Line, 1, $"host #{index}: 'name' is required (the host name its worker reports)"));
        if (draft.VramGib > 0 && draft.Cuda == false)
            errors.Add(new(file, draft.Line, 1, $"host #{index} ({draft.Name}): vram_gib = {draft.VramGib} but cuda = false"));
        foreach (var both in draft.Allow.Intersect(draft.Deny))
            errors.Add(new(file, draft.Line, 1, $"host #{index} ({draft.Name}): '{both}' is in both allow_jobs and deny_jobs"));
        draft.Valid = errors.Count == before;
        return draft;
    }

    /// <summary>The declared policies; a host declared twice is an error.</summary>
    public static IReadOnlyList<HostPolicy> Finish(string file, List<HostDraft> hosts, List<OperatorProtocol.ManifestError> errors)
    {
        var seen = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        foreach (var h in hosts.Where(h => h.Name is not null))
        {
            if (seen.TryGetValue(h.Name!, out var first))
                errors.Add(new(file, h.Line, 1, $"host #{h.Index}: '{h.Name}' is already declared on line {first}"));
            else seen[h.Name!] = h.Line;
        }
        return hosts.Where(h => h is { Valid: true, Name: not null }).Select(h => h.ToPolicy()).ToList();
    }

    /// <summary>Impossible constraints: a job restricted to declared hosts none of which could ever run it, or naming a host
    /// the manifest does not declare (when it declares any: a typo would otherwise leave the job pending for ever).</summary>
    public static void CheckPossible(string file, int jobIndex, int line, JobSpec job, List<HostDraft> hosts, List<OperatorProtocol.ManifestError> errors)
    {
        var allowed = job.Needs.AllowedHosts;
        if (allowed.Count == 0 || hosts.Count == 0) return;
        var declared = hosts.Where(h => h is { Valid: true, Name: not null }).ToList();
        var unknown = allowed.Where(a => !declared.Any(h => string.Equals(h.Name, a, StringComparison.OrdinalIgnoreCase))).ToList();
        if (unknown.Count > 0)
        {
            errors.Add(new(file, line, 1, $"job #{jobIndex}: allowed_hosts names {string.Join(", ", unknown)}, not declared in [[hosts]] " +
                                           $"(declared: {string.Join(", ", declared.Select(h => h.Name))})"));
            return;
        }
        var reasons = declared.Where(h => allowed.Contains(h.Name!, StringComparer.OrdinalIgnoreCase))
            .Select(h => Placement.DeclaredRefusal(job, h.ToPolicy())).ToList();
        if (reasons.All(r => r is not null))
            errors.Add(new(file, line, 1, $"job #{jobIndex} ({job.Model}:{job.Mode}) can run on none of its allowed_hosts: {string.Join("; ", reasons)}"));
    }
}
