using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;

namespace Cis490.Bench.Scale;

/// <summary>Reads a running coordinator process from outside, as an operator could: its memory from /proc, its metrics from
/// the HTTP API's <c>/metrics</c> (Prometheus text), its job count from <c>/api/status</c>, its snapshot from the SQLite journal.</summary>
public sealed partial class CoordinatorProbe(int httpPort) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}/"), Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>Resident and peak resident set (VmRSS, VmHWM) of <paramref name="pid"/>, in bytes.</summary>
    public static (long Rss, long Hwm) Memory(int pid)
    {
        long rss = 0, hwm = 0;
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) rss = Kib(line);
            else if (line.StartsWith("VmHWM:", StringComparison.Ordinal)) hwm = Kib(line);
        }
        return (rss, hwm);
        static long Kib(string line) => long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }

    /// <summary>The coordinator's metrics as name → summed value (labels summed over), for the names asked.</summary>
    public async Task<Dictionary<string, double>> Metrics()
    {
        var text = await _http.GetStringAsync("metrics");
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (Match m in MetricLine().Matches(text))
        {
            if (!double.TryParse(m.Groups["value"].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || double.IsNaN(v)) continue;
            var name = m.Groups["name"].Value;
            // A histogram's buckets are kept apart, one key per bound ("NAME_bucket|le=0.1"), for Quantile.
            if (name.EndsWith("_bucket", StringComparison.Ordinal) && Le().Match(m.Groups["labels"].Value) is { Success: true } le)
                name = $"{name}|le={le.Groups[1].Value}";
            values[name] = values.GetValueOrDefault(name) + v;
            // ... and the GC's per-generation counts and the recovery's phases too ("cis490_gc_collections_total|generation=2",
            // "cis490_recovery_phase_seconds_sum|phase=load").
            if (Split().Match(m.Groups["labels"].Value) is { Success: true } g) values[$"{name}|{g.Groups[1].Value}={g.Groups[2].Value}"] = v;
        }
        return values;
    }

    /// <summary>The <paramref name="q"/> quantile of histogram <paramref name="name"/> (e.g. <c>cis490_journal_write_seconds</c>)
    /// over what was recorded between two scrapes, as the upper bound of the bucket it falls in (null: nothing recorded).</summary>
    public static double? Quantile(Dictionary<string, double> start, Dictionary<string, double> end, string name, double q)
    {
        var prefix = $"{name}_bucket|le=";
        var buckets = end.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal))
            .Select(k => (Le: k[prefix.Length..] == "+Inf" ? double.PositiveInfinity : double.Parse(k[prefix.Length..], CultureInfo.InvariantCulture),
                Count: end[k] - start.GetValueOrDefault(k)))
            .OrderBy(b => b.Le).ToList();
        if (buckets.Count == 0 || buckets[^1].Count <= 0) return null;
        var wanted = q * buckets[^1].Count; // buckets are cumulative: the last (+Inf) holds every observation
        return buckets.First(b => b.Count >= wanted).Le;
    }

    /// <summary>What a counter or histogram sum grew by between two scrapes.</summary>
    public static double Delta(Dictionary<string, double> start, Dictionary<string, double> end, string prefix, string suffix) =>
        (Find(end, prefix, suffix) ?? 0) - (Find(start, prefix, suffix) ?? 0);

    /// <summary>The first metric whose name starts with <paramref name="prefix"/> and ends with <paramref name="suffix"/> (the
    /// Prometheus exporter adds the unit and <c>_total</c>), or null.</summary>
    public static double? Find(Dictionary<string, double> metrics, string prefix, string suffix = "") =>
        metrics.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal) && kv.Key.EndsWith(suffix, StringComparison.Ordinal))
            .Select(kv => (double?)kv.Value).FirstOrDefault();

    /// <summary>The managed heap at the last garbage collection (<c>cis490_gc_heap_bytes</c>), in bytes, or null.</summary>
    public async Task<double?> GcHeap() => Find(await Metrics(), "cis490_gc_heap");

    /// <summary>Polls <c>/api/status</c> until it answers 200 with <paramref name="jobs"/> jobs; the time it took.</summary>
    public async Task<TimeSpan> WaitAnswering(int jobs, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        string last = "nothing yet";
        while (clock.Elapsed < timeout)
        {
            try
            {
                using var response = await _http.GetAsync("api/status");
                var body = await response.Content.ReadAsStringAsync();
                if (response.IsSuccessStatusCode && Total(body) is { } total)
                {
                    if (total == jobs) return clock.Elapsed;
                    last = $"{total} jobs";
                }
                else last = $"{(int)response.StatusCode}";
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { last = e.Message; }
            await Task.Delay(20);
        }
        throw new TimeoutException($"the coordinator did not answer with {jobs} jobs within {timeout.TotalSeconds:F0} s (last: {last})");
    }

    /// <summary>The number of jobs in a status answer: the sum of its per-status counts.</summary>
    private static long? Total(string json)
    {
        using var doc = JsonDocument.Parse(json);
        foreach (var name in new[] { "jobs", "job_counts", "counts" })
            if (doc.RootElement.TryGetProperty(name, out var counts) && counts.ValueKind == JsonValueKind.Object)
                return counts.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.Number).Sum(p => p.Value.GetInt64());
        return null;
    }

    /// <summary>The newest snapshot's size in the SQLite snapshot file (<c>snapshots.db</c>, read-only; <c>journal.db</c> when the data
    /// directory has none), and how many events lie behind it in the journal; null when there is none.</summary>
    public static (long Bytes, long EventsAfter)? Snapshot(string dataDir)
    {
        var journalFile = Path.Combine(dataDir, "journal.db");
        var snapshotFile = Path.Combine(dataDir, "snapshots.db");
        if (!File.Exists(snapshotFile)) snapshotFile = journalFile;
        using var c = new SqliteConnection($"Data Source={snapshotFile};Mode=ReadOnly;Pooling=False");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT length(snapshot), sequence_number FROM snapshot ORDER BY sequence_number DESC LIMIT 1";
        long bytes, seq;
        using (var r = cmd.ExecuteReader())
        {
            if (!r.Read()) return null;
            (bytes, seq) = (r.GetInt64(0), r.GetInt64(1));
        }
        using var j = new SqliteConnection($"Data Source={journalFile};Mode=ReadOnly;Pooling=False");
        j.Open();
        using var count = j.CreateCommand();
        count.CommandText = "SELECT count(*) FROM journal WHERE sequence_number > $seq";
        count.Parameters.AddWithValue("$seq", seq);
        return (bytes, Convert.ToInt64(count.ExecuteScalar()));
    }

    public void Dispose() => _http.Dispose();

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?<labels>\{[^}]*\})?\s+(?<value>\S+)", RegexOptions.Multiline)]
    private static partial Regex MetricLine();

    [GeneratedRegex(@"le=""([^""]+)""")]
    private static partial Regex Le();

    [GeneratedRegex(@"(generation|phase)=""([^""]+)""")]
    private static partial Regex Split();
}
