using System.Collections.Immutable;
using Cis490.Protocols;
using Cis490.Protocols.DataSets;
using Cis490.Protocols.Jobs;
using Cis490.Protocols.Operator;
using Cis490.Shared.Jobs;
using Cis490.Shared.Manifest;

namespace Cis490.Coordinator.Jobs;

/// <summary>The published data sets of the job table, and how a manifest's jobs are bound to one.</summary>
public sealed partial record JobTable
{
    /// <summary>Every publication, oldest first: a data set given a second name appears again under it. The last one is the latest.</summary>
    public ImmutableList<DataSetInfo> DataSets => Published ?? ImmutableList<DataSetInfo>.Empty;

    /// <summary>The latest published data set, or null when none was.</summary>
    public DataSetInfo? LatestDataSet => DataSets.IsEmpty ? null : DataSets[^1];

    /// <summary>The published data set with content hash <paramref name="sha256"/> (its latest publication), or null.</summary>
    public DataSetInfo? DataSet(string sha256) => DataSets.LastOrDefault(d => d.Sha256 == sha256);

    /// <summary>The data set a manifest means by <paramref name="reference"/>: the latest publication under that name, else the one
    /// data set whose content hash starts with it (at least <see cref="ManifestLoader.MinDataSetPrefix"/> hex digits).</summary>
    public DataSetInfo? ResolveDataSet(string reference, out string? problem)
    {
        problem = null;
        if (DataSets.LastOrDefault(d => d.Name == reference) is { } named) return named;
        var known = DataSets.IsEmpty
            ? "no data set has been published yet ('./cis490 data publish DIR --coordinator HOST:PORT')"
            : "published: " + string.Join(", ", DataSets.DistinctBy(d => (d.Sha256, d.Name)).TakeLast(8)
                .Select(d => d.Name is null ? d.Sha256[..12] : $"{d.Name} ({d.Sha256[..12]})"));
        if (reference.Length < ManifestLoader.MinDataSetPrefix || !reference.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f'))
        {
            problem = $"data_set \"{reference}\" names no published data set; {known}";
            return null;
        }
        var matches = DataSets.Where(d => d.Sha256.StartsWith(reference, StringComparison.Ordinal)).DistinctBy(d => d.Sha256).Take(2).ToList();
        if (matches.Count == 1) return DataSet(matches[0].Sha256);
        problem = matches.Count == 0
            ? $"data_set \"{reference}\": no published data set's hash starts with it; {known}"
            : $"data_set \"{reference}\" is the start of more than one data set's hash; give more digits";
        return null;
    }

    /// <summary>Binds each job of a valid manifest to its data set: the one it names, else the latest published, else none (the
    /// workers then train on their own <c>--data</c> folder, as before data sets existed). A bound job's id includes the data
    /// set's hash. Returns the bound jobs, or every reference that names nothing (with its line) and every pair of jobs that
    /// binding made the same.</summary>
    public (IReadOnlyList<JobSpec> Jobs, IReadOnlyList<OperatorProtocol.ManifestError> Errors) Bind(ManifestLoadResult manifest)
    {
        var jobs = new List<JobSpec>();
        var errors = new List<OperatorProtocol.ManifestError>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        var latest = LatestDataSet;
        foreach (var (spec, reference) in manifest.Jobs.Zip(manifest.DataSetReferences))
        {
            DataSetInfo? bound = latest;
            if (reference.Reference is { } r)
            {
                bound = ResolveDataSet(r, out var problem);
                if (bound is null)
                {
                    errors.Add(new(manifest.FileName, reference.Line, reference.Column, $"job {JobIds.Short(spec.JobId)} ({spec.Model}/{spec.Mode}): {problem}"));
                    continue;
                }
            }
            var job = bound is null ? spec : spec with
            {
                DataSet = bound.Sha256,
                JobId = JobIds.Compute(spec.Model, spec.Mode, spec.HyperJson, spec.SplitRecipe, spec.TrainHosts, spec.Seed, bound.Sha256),
            };
            if (seen.TryGetValue(job.JobId, out var line))
            {
                errors.Add(new(manifest.FileName, reference.Line, reference.Column,
                    $"this job and the one on line {line} are the same job once bound to data set {bound!.Sha256[..12]}"));
                continue;
            }
            seen[job.JobId] = reference.Line;
            jobs.Add(job);
        }
        return (jobs, errors);
    }
}
