using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace Cis490.Bench.Chaos;

/// <summary>Keeps a fixed number of jobs outstanding (pending, leased or running) by submitting small manifests as jobs
/// finish, so work is always running when a fault lands. Jobs are short gbt runs (≈5–15 s here) and, one in four, knn (≈1–2
/// s); each has its own seed, which makes its job id (a hash of model, mode, hyper and seed) new.</summary>
public sealed class JobFeeder(ChaosApi api, int outstanding, Func<int> stuck, int seed)
{
    private readonly Random _random = new(seed);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _acknowledged = new();
    private int _next;

    /// <summary>Every job id a submission was acknowledged for, with when: the jobs the run must see completed.</summary>
    public IReadOnlyDictionary<string, DateTimeOffset> Acknowledged => _acknowledged;

    public async Task Run(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                if (await api.Jobs(ct) is { } jobs)
                {
                    var open = jobs.Count(j => j.Status is "pending" or "leased" or "running");
                    var target = outstanding + stuck(); // leases left unresolved by a fault hold no real work
                    if (open < target) await Submit(target - open, ct);
                }
                await Task.Delay(1000, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { return; }
        }
    }

    private async Task Submit(int count, CancellationToken ct)
    {
        var toml = new StringBuilder();
        var first = _next;
        for (var i = 0; i < count; i++)
        {
            var n = first + i;
            var mode = n % 2 == 0 ? "realistic" : "oracle";
            toml.Append(CultureInfo.InvariantCulture, $"[[jobs]]\nmode = \"{mode}\"\nseed = {seed * 100_000 + n}\n");
            if (n % 4 == 3) toml.Append(CultureInfo.InvariantCulture, $"model = \"knn\"\nhyper = {{ k = {_random.Next(5, 26)} }}\n");
            else toml.Append(CultureInfo.InvariantCulture,
                $"model = \"gbt\"\nhyper = {{ num_boost_round = {_random.Next(300, 601)}, early_stopping_rounds = 500, eta = 0.001 }}\n");
        }
        if (await api.SubmitManifest($"chaos-{first:D5}.toml", toml.ToString(), ct) is { } ids)
        {
            _next += count;
            var now = DateTimeOffset.UtcNow;
            foreach (var id in ids) _acknowledged.TryAdd(id, now);
        }
    }
}
