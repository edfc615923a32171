using System.Globalization;
using Cis490.Protocols.Jobs;
using Cis490.Protocols.Workers;
using Cis490.Shared.Models;

namespace Cis490.Shared.Jobs;

/// <summary>Which worker may run which job: a job's constraints against a worker's capability and its host's policy in the
/// manifest's <c>[[hosts]]</c>. Pure rules, shared by the manifest check (declared capability) and the coordinator (detected).</summary>
/// <remarks>
/// A host's declared capability can only lower what its worker detected (declare <c>cuda = false</c> to keep a GPU box's
/// card out of the fleet; declare less RAM to leave room for its owner). Policy patterns are <c>model</c>, <c>model:mode</c>,
/// <c>*:mode</c> or <c>*</c>; <c>deny_jobs</c> wins over <c>allow_jobs</c>, and an empty <c>allow_jobs</c> allows everything
/// not denied.
/// </remarks>
public static class Placement
{
    /// <summary>The manifest's entry for a host name (case-insensitive, as host names are), or null when undeclared.</summary>
    public static HostPolicy? PolicyFor(string hostname, IReadOnlyList<HostPolicy> hosts) =>
        hosts.FirstOrDefault(h => string.Equals(h.Hostname, hostname, StringComparison.OrdinalIgnoreCase));

    /// <summary>The worker's capability as placement sees it: detected, lowered by what its host declares.</summary>
    public static WorkerCapability Effective(WorkerCapability detected, HostPolicy? declared) => declared is null
        ? detected
        : detected with
        {
            Cuda = detected.Cuda && declared.Cuda != false,
            VramGib = declared.VramGib is { } v ? Math.Min(v, detected.VramGib) : detected.VramGib,
            RamGib = declared.RamGib is { } r ? Math.Min(r, detected.RamGib) : detected.RamGib,
        };

    /// <summary>Why this worker may not run the job, or null when it may.</summary>
    public static string? Refusal(JobSpec job, WorkerCapability detected, IReadOnlyList<HostPolicy> hosts)
    {
        var policy = PolicyFor(detected.Hostname, hosts);
        var cap = Effective(detected, policy);
        var needs = job.Needs;
        if (needs.AllowedHosts.Count > 0 && !needs.AllowedHosts.Contains(cap.Hostname, StringComparer.OrdinalIgnoreCase))
            return $"runs only on {string.Join(", ", needs.AllowedHosts)} (allowed_hosts), not on {cap.Hostname}";
        if (policy is not null && !Allows(policy, job.Model, job.Mode))
            return $"host {cap.Hostname}'s policy does not allow {job.Model}:{job.Mode}";
        if (cap.WhyNot(job.Model) is { } cannot)
            return $"cannot train {job.Model}: {cannot}";
        if (needs.RequireCuda && !cap.Cuda)
            return $"needs CUDA (require_cuda); {cap.Hostname} has none" +
                   (detected.Cuda ? " declared" : detected.CudaNote is { Length: > 0 } note ? $" ({note})" : "");
        if (needs.MinVramGib > 0 && cap.Cuda && cap.VramGib < needs.MinVramGib && (needs.RequireCuda || needs.PreferCuda))
            return $"needs {Gib(needs.MinVramGib)} GiB of GPU memory; {cap.Hostname} has {Gib(cap.VramGib)}";
        if (needs.MinRamGib > 0 && cap.RamGib < needs.MinRamGib)
            return $"needs {Gib(needs.MinRamGib)} GiB of RAM; {cap.Hostname} has {Gib(cap.RamGib)}";
        return null;
    }

    /// <summary>Why a host, as declared in the manifest, could never run the job; null when it might (undeclared values are unknown).</summary>
    public static string? DeclaredRefusal(JobSpec job, HostPolicy host)
    {
        var needs = job.Needs;
        if (!Allows(host, job.Model, job.Mode)) return $"host {host.Hostname}'s policy does not allow {job.Model}:{job.Mode}";
        if (needs.RequireCuda && host.Cuda == false) return $"host {host.Hostname} is declared without CUDA";
        if (needs.RequireCuda && needs.MinVramGib > 0 && host.VramGib is { } v && v < needs.MinVramGib)
            return $"host {host.Hostname} is declared with {Gib(v)} GiB of GPU memory, the job needs {Gib(needs.MinVramGib)}";
        if (needs.MinRamGib > 0 && host.RamGib is { } r && r < needs.MinRamGib)
            return $"host {host.Hostname} is declared with {Gib(r)} GiB of RAM, the job needs {Gib(needs.MinRamGib)}";
        return null;
    }

    /// <summary>Whether a host's policy lets it take <paramref name="model"/> in <paramref name="mode"/>: deny wins over allow.</summary>
    public static bool Allows(HostPolicy policy, string model, string mode) =>
        !policy.DenyJobs.Any(p => Matches(p, model, mode))
        && (policy.AllowJobs.Count == 0 || policy.AllowJobs.Any(p => Matches(p, model, mode)));

    public static bool Matches(string pattern, string model, string mode)
    {
        var colon = pattern.IndexOf(':');
        var (m, md) = colon < 0 ? (pattern, "*") : (pattern[..colon], pattern[(colon + 1)..]);
        return (m == "*" || m == model) && (md == "*" || md == mode);
    }

    /// <summary>What is wrong with a policy pattern (unknown model or mode, bad shape), or null.</summary>
    public static string? PatternProblem(string pattern)
    {
        var parts = pattern.Split(':');
        if (parts.Length > 2 || parts.Any(p => p.Length == 0))
            return $"'{pattern}' is not a job pattern (model, model:mode, *:mode or *)";
        if (parts[0] != "*" && !ModelCatalog.All.ContainsKey(parts[0]))
            return $"'{pattern}' names unknown model '{parts[0]}' (known: {string.Join(", ", ModelCatalog.All.Keys.Order())})";
        if (parts.Length == 2 && parts[1] != "*" && !ModelCatalog.Modes.Contains(parts[1]))
            return $"'{pattern}' names unknown mode '{parts[1]}' (known: {string.Join(", ", ModelCatalog.Modes)})";
        return null;
    }

    private static string Gib(double v) => v.ToString("0.#", CultureInfo.InvariantCulture);
}
