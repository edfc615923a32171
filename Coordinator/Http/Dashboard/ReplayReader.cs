using System.Globalization;

namespace Cis490.Coordinator.Http.Dashboard;

/// <summary>A saved prediction run the dashboard can replay: one <c>NAME_predictions.csv</c> that <c>./cis490 eval</c> wrote
/// into the evaluation folder (every test window of one model, with its episode, start time, truth and class probabilities).</summary>
public sealed record ReplayRun(string Name, IReadOnlyList<string> Classes, IReadOnlyList<ReplayEpisode> Episodes);

/// <summary>One test episode of a run: its windows, their span in seconds, and how many the model labelled right.</summary>
public sealed record ReplayEpisode(string EpisodeId, string Host, string Profile, int Windows, double Seconds, int Correct);

/// <summary>One episode as the page replays it: per window (in time order) the seconds since the episode's first window,
/// the true and predicted phase, and the probability of each class.</summary>
public sealed record ReplayEpisodeView(string Name, string EpisodeId, string Host, string Profile, IReadOnlyList<string> Classes,
    IReadOnlyList<ReplayWindow> Windows);

public sealed record ReplayWindow(string WindowId, double T, string True, string Predicted, float[] P);

/// <summary>Reads the evaluation folder's prediction files for the replay; a file is parsed again only when it changed. Bad
/// files are reported by name and line, never replayed in part.</summary>
public sealed class ReplayReader(string dir)
{
    private const string Suffix = "_predictions.csv";
    private static readonly string[] Fixed = ["window_id", "episode_id", "host", "profile", "true_label", "pred_label"];
    private const string Start = "t_start_ns"; // the last column
    private readonly Dictionary<string, (DateTime Stamp, Parsed Run)> _cache = new(StringComparer.Ordinal);
    private readonly object _gate = new();

    public string Dir { get; } = dir;

    /// <summary>The runs there are (name = file name less <c>_predictions.csv</c>), with their episodes; problems name the file.</summary>
    public (IReadOnlyList<ReplayRun> Runs, IReadOnlyList<string> Problems) List()
    {
        var runs = new List<ReplayRun>();
        var problems = new List<string>();
        var files = Directory.Exists(Dir) ? Directory.GetFiles(Dir, "*" + Suffix).Order(StringComparer.Ordinal) : Enumerable.Empty<string>();
        foreach (var file in files)
        {
            try
            {
                var run = Load(file);
                runs.Add(new ReplayRun(run.Name, run.Classes, run.Episodes.Select(e => Summary(e.Key, e.Value)).OrderBy(e => e.EpisodeId, StringComparer.Ordinal).ToList()));
            }
            catch (Exception e) when (e is InvalidDataException or IOException)
            {
                problems.Add(e.Message);
            }
        }
        return (runs, problems);
    }

    /// <summary>One episode of one run, or null (with why) when either is unknown.</summary>
    public (ReplayEpisodeView? View, string? Missing) Episode(string name, string episodeId)
    {
        var file = Path.Combine(Dir, name + Suffix);
        if (name.Length == 0 || name.Contains('/') || name.Contains('\\') || name.Contains("..") || !File.Exists(file))
            return (null, $"no prediction run '{name}' in {Dir} (./cis490 eval writes NAME{Suffix} there)");
        var run = Load(file);
        if (!run.Episodes.TryGetValue(episodeId, out var windows))
            return (null, $"prediction run '{name}' has no test episode '{episodeId}'");
        var t0 = windows[0].StartNs;
        return (new ReplayEpisodeView(name, episodeId, windows[0].Host, windows[0].Profile, run.Classes,
            windows.Select(w => new ReplayWindow(w.WindowId, (w.StartNs - t0) / 1e9, w.True, w.Predicted, w.P)).ToList()), null);
    }

    private static ReplayEpisode Summary(string id, List<Row> w) =>
        new(id, w[0].Host, w[0].Profile, w.Count, (w[^1].StartNs - w[0].StartNs) / 1e9, w.Count(r => r.True == r.Predicted));

    private Parsed Load(string file)
    {
        var stamp = File.GetLastWriteTimeUtc(file);
        lock (_gate)
        {
            if (_cache.TryGetValue(file, out var hit) && hit.Stamp == stamp) return hit.Run;
        }
        var parsed = Parse(file);
        lock (_gate) _cache[file] = (stamp, parsed);
        return parsed;
    }

    private static Parsed Parse(string file)
    {
        var name = Path.GetFileName(file)[..^Suffix.Length];
        using var reader = new StreamReader(file);
        var header = (reader.ReadLine() ?? throw new InvalidDataException($"{file}: empty")).Split(',');
        if (header.Length <= Fixed.Length + 1 || !header.Take(Fixed.Length).SequenceEqual(Fixed) || header[^1] != Start
            || header[Fixed.Length..^1].Any(h => !h.StartsWith("p_", StringComparison.Ordinal)))
            throw new InvalidDataException($"{file}: the header is not {string.Join(",", Fixed)},p_CLASS…,{Start} (written by an older eval? run ./cis490 eval again)");
        var classes = header[Fixed.Length..^1].Select(h => h[2..]).ToList();
        var episodes = new Dictionary<string, List<Row>>(StringComparer.Ordinal);
        var line = 1;
        for (var text = reader.ReadLine(); text is not null; text = reader.ReadLine())
        {
            line++;
            if (text.Length == 0) continue;
            var f = text.Split(',');
            if (f.Length != header.Length) throw new InvalidDataException($"{file}:{line}: {f.Length} fields, the header has {header.Length}");
            if (!long.TryParse(f[^1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var start))
                throw new InvalidDataException($"{file}:{line}: {Start} '{f[^1]}' is not an integer");
            var p = new float[classes.Count];
            for (var k = 0; k < p.Length; k++)
                if (!float.TryParse(f[Fixed.Length + k], NumberStyles.Float, CultureInfo.InvariantCulture, out p[k]))
                    throw new InvalidDataException($"{file}:{line}: p_{classes[k]} '{f[Fixed.Length + k]}' is not a number");
            if (!episodes.TryGetValue(f[1], out var list)) episodes[f[1]] = list = [];
            list.Add(new Row(f[0], f[2], f[3], start, f[4], f[5], p));
        }
        foreach (var list in episodes.Values) list.Sort((a, b) => a.StartNs.CompareTo(b.StartNs));
        return new Parsed(name, classes, episodes);
    }

    private sealed record Row(string WindowId, string Host, string Profile, long StartNs, string True, string Predicted, float[] P);

    private sealed record Parsed(string Name, IReadOnlyList<string> Classes, Dictionary<string, List<Row>> Episodes);
}
