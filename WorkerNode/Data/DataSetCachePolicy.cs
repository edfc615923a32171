namespace Cis490.WorkerNode.Data;

/// <summary>One data set in a worker's cache: its content hash, unpacked size, when a lease last used it, and whether one uses it now.</summary>
public sealed record CacheEntry(string Sha256, long Bytes, DateTime LastUsedUtc, bool InUse);

/// <summary>Which cached data sets go when the cache is over its size: least recently used first, never one a lease is using,
/// until the rest fit. Pure, so the rule is tested on its own.</summary>
public static class DataSetCachePolicy
{
    public static IReadOnlyList<CacheEntry> ToEvict(IReadOnlyList<CacheEntry> entries, long maxBytes)
    {
        var total = entries.Sum(e => e.Bytes);
        var evict = new List<CacheEntry>();
        foreach (var e in entries.Where(e => !e.InUse).OrderBy(e => e.LastUsedUtc).ThenBy(e => e.Sha256, StringComparer.Ordinal))
        {
            if (total <= maxBytes) break;
            evict.Add(e);
            total -= e.Bytes;
        }
        return evict;
    }
}
