using System.Security.Cryptography;
using System.Text;

namespace Cis490.Training.Data;

/// <summary>A profile a split leaves out, and why.</summary>
public sealed record ExcludedProfile(string Profile, string Reason);

/// <summary>Row indices of one split: train, an in-distribution validation set carved from the train side, and test; plus the
/// profiles it cannot test (reported, never averaged in) and those it left out entirely.</summary>
public sealed record Split(
    string Recipe,
    int[] Train,
    int[] Val,
    int[] Test,
    IReadOnlyList<string> UntestedProfiles,
    IReadOnlyList<ExcludedProfile> ExcludedProfiles,
    string Description);

/// <summary>Split recipes over whole episodes (windows of one episode never straddle train and test). Deterministic for a seed.
/// <list type="bullet">
/// <item><c>host</c> (primary): train on the train hosts' episodes, test on every other host's.</item>
/// <item><c>sample</c>: for every profile with at least <see cref="MinSamplesForSampleSplit"/> distinct samples, one sample
/// (chosen by the seed) is held out for test; profiles with fewer are excluded, and said so.</item>
/// <item><c>time</c>: the latest <see cref="TimeTestPercent"/> % of episodes by start time are the test set.</item>
/// </list>
/// Validation: <see cref="ValidationPercent"/> % of the train-side episodes, chosen by a hash of (episode id, seed).</summary>
public static class Splits
{
    public const int ValidationPercent = 20;
    public const int TimeTestPercent = 25;
    public const int MinSamplesForSampleSplit = 2;
    public static readonly IReadOnlyList<string> Recipes = ["host", "sample", "time"];

    public static Split Make(FeatureTable table, string recipe, IReadOnlyCollection<string> trainHosts, long seed)
    {
        var episodes = Enumerable.Range(0, table.Rows)
            .GroupBy(i => table.EpisodeIds[i])
            .Select(g => new Episode(g.Key, table.Hosts[g.First()], table.Profiles[g.First()], table.Samples[g.First()], table.StartNs[g.Min()], g.ToArray()))
            .OrderBy(e => e.Id, StringComparer.Ordinal)
            .ToList();
        var excluded = new List<ExcludedProfile>();
        HashSet<string> testEpisodes;
        string description;
        switch (recipe)
        {
            case "host":
                testEpisodes = episodes.Where(e => !trainHosts.Contains(e.Host)).Select(e => e.Id).ToHashSet();
                description = $"train on {string.Join(", ", trainHosts.Order())}; test on every other host";
                break;
            case "sample":
                testEpisodes = [];
                foreach (var profile in episodes.GroupBy(e => e.Profile).OrderBy(g => g.Key, StringComparer.Ordinal))
                {
                    var samples = profile.Select(e => e.Sample).Distinct().Order(StringComparer.Ordinal).ToList();
                    if (samples.Count < MinSamplesForSampleSplit)
                    {
                        excluded.Add(new ExcludedProfile(profile.Key, $"{samples.Count} distinct sample(s); a held-out-sample split needs at least {MinSamplesForSampleSplit}"));
                        continue;
                    }
                    var heldOut = samples[(int)(Hash($"sample:{profile.Key}", seed) % (uint)samples.Count)];
                    testEpisodes.UnionWith(profile.Where(e => e.Sample == heldOut).Select(e => e.Id));
                }
                description = "one held-out sample per profile for test";
                break;
            case "time":
                var byTime = episodes.OrderBy(e => e.StartNs).ThenBy(e => e.Id, StringComparer.Ordinal).ToList();
                var cut = byTime.Count - (int)Math.Ceiling(byTime.Count * TimeTestPercent / 100.0);
                testEpisodes = byTime.Skip(cut).Select(e => e.Id).ToHashSet();
                description = $"the latest {TimeTestPercent} % of episodes by start time for test";
                break;
            default:
                throw new ArgumentException($"unknown split recipe '{recipe}' (known: {string.Join(", ", Recipes)})");
        }

        var excludedNames = excluded.Select(x => x.Profile).ToHashSet();
        List<int> train = [], val = [], test = [];
        foreach (var e in episodes.Where(e => !excludedNames.Contains(e.Profile)))
        {
            if (testEpisodes.Contains(e.Id)) test.AddRange(e.Rows);
            else if (Hash($"val:{e.Id}", seed) % 100 < ValidationPercent) val.AddRange(e.Rows);
            else train.AddRange(e.Rows);
        }
        if (train.Count == 0) throw new InvalidDataException($"split '{recipe}' has no training windows ({description})");
        if (val.Count == 0) throw new InvalidDataException($"split '{recipe}' has no validation windows");
        var testedProfiles = episodes.Where(e => testEpisodes.Contains(e.Id)).Select(e => e.Profile).ToHashSet();
        var untested = episodes.Select(e => e.Profile).Distinct().Where(p => !testedProfiles.Contains(p) || excludedNames.Contains(p))
            .Order(StringComparer.Ordinal).ToList();
        return new Split(recipe, [.. train.Order()], [.. val.Order()], [.. test.Order()], untested, excluded, description);
    }

    private sealed record Episode(string Id, string Host, string Profile, string Sample, long StartNs, int[] Rows);

    private static uint Hash(string key, long seed) =>
        BitConverter.ToUInt32(SHA256.HashData(Encoding.UTF8.GetBytes($"{seed}:{key}")), 0);
}
