using System.Buffers.Binary;
using Cis490.Shell.Demo;
using Microsoft.Playwright;
using Xunit;
using Xunit.Abstractions;

namespace Cis490.Cluster.Tests;

/// <summary>The dashboard's episode replay end to end: a model trained and evaluated by the real programs, its saved prediction
/// run served by a real coordinator, and one test episode played in headless Chromium (Debian's <c>chromium</c>) until its last
/// window, then photographed (<c>replay.png</c>; <c>CIS490_REPLAY_SCREENSHOT=docs/replay.png</c> copies it there).</summary>
[Collection(ClusterCollection.Name)]
public sealed class ReplayTests(DataFixture data, ITestOutputHelper output)
{
    private static string Chromium => Environment.GetEnvironmentVariable("CIS490_CHROMIUM") is { Length: > 0 } c ? c : "/usr/bin/chromium";

    [Fact]
    public async Task A_test_episode_replays_with_the_true_phase_against_the_predicted_one_and_the_class_probabilities()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: apt-get install chromium (./cis490 test installs it), or set CIS490_CHROMIUM");
        await using var h = new ClusterHarness(data.Small);
        var httpPort = NodeProcess.FreePort();
        await h.StartCoordinator("--http-port", httpPort.ToString());

        // The saved prediction run: eval's NAME_predictions.csv in the coordinator's evaluation folder.
        var models = Path.Combine(h.DataDir, "trained");
        var train = await ClusterHarness.RunProgram("Cis490.WorkerNode", "train", "--model", "gbt", "--mode", "realistic", "--data", data.Small,
            "--out", Path.Combine(models, "gbt"), "--hyper", "{\"num_boost_round\": 40}");
        Assert.True(train.Exit == 0, train.Stderr);
        var eval = await ClusterHarness.RunProgram("Cis490.WorkerNode", "eval", "--artifacts", models, "--data", data.Small,
            "--out", Path.Combine(h.DataDir, "reports", "eval"), "--resamples", "50");
        Assert.True(eval.Exit == 0, eval.Stderr);
        var run = Directory.GetFiles(Path.Combine(h.DataDir, "reports", "eval"), "*_predictions.csv").Single();
        var name = Path.GetFileName(run)[..^"_predictions.csv".Length];

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1440, Height = 1000 } });
        var errors = new List<string>();
        page.Console += (_, m) => { if (m.Type == "error") errors.Add($"{m.Text} ({m.Location})"); };
        page.PageError += (_, e) => errors.Add(e);
        await page.GotoAsync($"http://127.0.0.1:{httpPort}/");
        await WaitFor(page, $"() => [...document.querySelectorAll('#replay-run option')].some(o => o.value === '{name}')", "the prediction run listed", errors);

        // The longest test episode whose truth changes phase (the most to see), at 3000× so the test does not wait.
        var episode = await page.EvaluateAsync<string>($$"""
            async () => {
              const runs = (await (await fetch('/api/replay')).json()).runs;
              const eps = runs.find(r => r.name === '{{name}}').episodes.sort((a, b) => b.windows - a.windows);
              for (const e of eps) {
                const v = await (await fetch(`/api/replay/{{name}}/${encodeURIComponent(e.episode_id)}`)).json();
                if (new Set(v.windows.map(w => w.true)).size > 1) return e.episode_id;
              }
              return eps[0].episode_id;
            }
            """);
        await page.SelectOptionAsync("#replay-run", name);
        await page.SelectOptionAsync("#replay-episode", episode);
        await page.SelectOptionAsync("#replay-speed", "3000");
        await page.ClickAsync("#replay-play");
        await WaitFor(page, "() => document.getElementById('replay').dataset.state === 'done'", "the replay played to its last window", errors);

        var windows = await page.EvaluateAsync<int>($"async () => (await (await fetch('/api/replay/{name}/{episode}')).json()).windows.length");
        Assert.Equal(windows.ToString(), await page.Locator("#replay-chart svg").GetAttributeAsync("data-shown"));
        Assert.Equal(windows, await page.Locator("#replay-chart rect.true").CountAsync());
        Assert.Equal(windows, await page.Locator("#replay-chart rect[class^=predicted]").CountAsync());
        Assert.Equal(4, await page.Locator("#replay-chart polyline.prob").CountAsync()); // one probability line per class
        Assert.Equal(4, await page.Locator("#replay-bars .replay-bar").CountAsync());
        Assert.Matches($@"window {windows}/{windows} · true \w+, predicted \w+ \(p \d\.\d\d\)", await page.Locator("#replay-status").InnerTextAsync());

        var png = Path.Combine(h.DataDir, "replay.png");
        await page.Locator("#replay").ScreenshotAsync(new LocatorScreenshotOptions { Path = png });
        var head = File.ReadAllBytes(png).AsSpan(0, 24);
        var (width, height) = (BinaryPrimitives.ReadInt32BigEndian(head[16..20]), BinaryPrimitives.ReadInt32BigEndian(head[20..24]));
        Assert.True(width >= 1000 && height >= 250, $"replay screenshot {width}x{height}");
        Assert.True(new FileInfo(png).Length > 15_000, "the replay screenshot is suspiciously small (nothing drawn?)");
        if (Environment.GetEnvironmentVariable("CIS490_REPLAY_SCREENSHOT") is { Length: > 0 } copy) File.Copy(png, copy, overwrite: true);
        output.WriteLine($"replayed {name} episode {episode} ({windows} windows); screenshot {png} ({width}x{height})");
        Assert.Empty(errors);
    }

    private static async Task WaitFor(IPage page, string predicate, string what, List<string> errors)
    {
        try
        {
            await page.WaitForFunctionAsync(predicate, null, new PageWaitForFunctionOptions { Timeout = 60_000, PollingInterval = 200 });
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{what}: not seen on the page ({e.Message.Split('\n')[0]}).\nReplay section:\n{await page.Locator("#replay").InnerTextAsync()}\nBrowser errors: {string.Join("\n", errors)}");
        }
    }
}
