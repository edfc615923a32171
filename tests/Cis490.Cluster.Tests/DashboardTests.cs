using System.Buffers.Binary;
using Cis490.Protocols.Jobs;
using Cis490.Shell.Demo;
using Microsoft.Playwright;
using Xunit;
using Xunit.Abstractions;

namespace Cis490.Cluster.Tests;

/// <summary>The cluster dashboard end to end: a real coordinator (with its HTTP server) and worker, the page in headless Chromium
/// (Debian's <c>chromium</c>, driven by Playwright's bundled driver; no browser download), live updates, cancel with the token.</summary>
[Collection(ClusterCollection.Name)]
public sealed class DashboardTests(DataFixture data, ITestOutputHelper output)
{
    /// <summary>Debian's browser; CIS490_CHROMIUM names another. <c>./cis490 test</c> installs the package.</summary>
    private static string Chromium => Environment.GetEnvironmentVariable("CIS490_CHROMIUM") is { Length: > 0 } c ? c : "/usr/bin/chromium";

    /// <summary>How long the page may take to show a change the cluster made (the feed ticks every second; 2 loaded cores).</summary>
    private static readonly TimeSpan Shown = TimeSpan.FromSeconds(30);

    // A small neural job (a curve of a few epochs) and a KNN job, then a job far longer than the test to cancel (as ClusterTests).
    private const string Quick = """
        [[jobs]]
        model = "mlp"
        mode = "realistic"
        hyper = { max_epochs = 6 }

        [[jobs]]
        model = "knn"
        mode = "realistic"
        hyper = { k = 3 }
        """;

    private const string Long = "[[jobs]]\nmodel = \"transformer\"\nmode = \"realistic\"\nhyper = { max_epochs = 500, patience = 200 }\n";

    [Fact]
    public async Task The_dashboard_shows_jobs_going_from_pending_to_completed_with_a_curve_and_cancels_only_with_the_token()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: apt-get install chromium (./cis490 test installs it), or set CIS490_CHROMIUM");
        await using var h = new ClusterHarness(data.Small);
        var httpPort = NodeProcess.FreePort();
        await h.StartCoordinator("--http-port", httpPort.ToString());
        var url = $"http://127.0.0.1:{httpPort}/";

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"], // root in a container: no sandbox, small /dev/shm
        });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1440, Height = 1100 } });
        var consoleErrors = new List<string>();
        page.Console += (_, m) => { if (m.Type == "error") consoleErrors.Add($"{m.Text} ({m.Location})"); };
        page.PageError += (_, e) => consoleErrors.Add(e);
        await page.GotoAsync(url);
        await WaitFor(page, "() => document.getElementById('conn').dataset.state === 'live'", "the page goes live");
        await WaitFor(page, "() => document.querySelectorAll('#members tbody tr[data-state=up]').length === 1", "the coordinator listed as an up member");

        // Jobs submitted while no worker is there stay pending, and the page shows them so.
        var submit = await h.RunShellAsOperator("manifest", "submit", Write(h, "quick.toml", Quick), "--coordinator", h.Address);
        Assert.True(submit.Exit == 0, submit.Stderr);
        await WaitFor(page, "() => document.querySelectorAll('#jobs tr[data-status=pending]').length === 2", "two pending jobs");
        var jobs = await h.Jobs();
        var mlp = jobs.Single(j => j.Model == "mlp").JobId;

        // A worker joins: it shows up with its capability, and both jobs complete; the MLP's curve has one point per epoch.
        await h.StartWorker("worker-a");
        await WaitFor(page, "() => document.querySelector('#workers tr[data-worker-id=\"worker-a\"]') !== null", "the worker listed");
        await WaitFor(page, "() => document.querySelectorAll('#jobs tr[data-status=completed]').length === 2", "both jobs completed",
            TimeSpan.FromMinutes(4), h);
        var curve = page.Locator($".curve[data-job-id='{mlp}'] svg");
        await WaitFor(page, $"() => Number(document.querySelector(\".curve[data-job-id='{mlp}'] svg\")?.dataset.points) >= 2", "the MLP's curve drawn");
        Assert.True(await curve.Locator("polyline.loss").CountAsync() == 1, "no loss line");
        Assert.True(await curve.Locator("polyline.f1").CountAsync() == 1, "no val macro F1 line");
        Assert.Equal(2, await page.Locator("#artifacts tbody tr[data-sha]").CountAsync());
        Assert.Contains("2 member(s)", await page.Locator("#counts").InnerTextAsync());

        // A long job runs; without the token its cancel button is disabled, and the API refuses a request without one.
        submit = await h.RunShellAsOperator("manifest", "submit", Write(h, "long.toml", Long), "--coordinator", h.Address);
        Assert.True(submit.Exit == 0, submit.Stderr);
        var longId = (await h.Jobs()).Single(j => j.Model == "transformer").JobId;
        var row = $"#jobs tr[data-job-id='{longId}']";
        await WaitFor(page, $"() => document.querySelector(\"{row}\")?.dataset.status === 'running'", "the long job running", TimeSpan.FromMinutes(2), h);
        var cancel = page.Locator($"{row} button[data-action=cancel]");
        Assert.True(await cancel.IsDisabledAsync(), "cancel must be disabled without the token");
        var status = await page.EvaluateAsync<int>($"async () => (await fetch('/api/jobs/{longId}/cancel', {{ method: 'POST' }})).status");
        Assert.Equal(401, status);

        // A wrong token: the page shows the refusal, and the job keeps running.
        await SetToken(page, "not-the-token");
        await ClickCancel(page, cancel);
        await WaitFor(page, "() => document.getElementById('notice').dataset.kind === 'error'", "the refusal shown");
        Assert.Contains("HTTP 403", await page.Locator("#notice").InnerTextAsync());
        Assert.Equal(JobStatus.Running, (await h.Jobs()).Single(j => j.JobId == longId).Status);

        // The right token: cancelled, and the page offers requeue instead.
        await SetToken(page, h.Token);
        await ClickCancel(page, cancel);
        await WaitFor(page, $"() => document.querySelector(\"{row}\")?.dataset.status === 'cancelled'", "the job cancelled on the page");
        await WaitFor(page, "() => document.getElementById('notice').dataset.kind === 'ok'", "the cancel confirmed on the page");
        Assert.Equal(JobStatus.Cancelled, (await h.Jobs()).Single(j => j.JobId == longId).Status);
        Assert.True(await page.Locator($"{row} button[data-action=requeue]").IsEnabledAsync());

        // Evaluation: once `eval` has written its report into the data directory, the page shows macro F1 with CIs per model and mode.
        var eval = await ClusterHarness.RunProgram("Cis490.WorkerNode", "eval", "--artifacts", Path.Combine(h.DataDir, "models"),
            "--data", data.Small, "--out", Path.Combine(h.DataDir, "reports", "eval"));
        Assert.True(eval.Exit == 0, eval.Stderr);
        await WaitFor(page, "() => document.querySelectorAll('#evaluation tr[data-model]').length === 2", "the evaluation comparison");
        Assert.Equal(2, await page.Locator("#evaluation svg.ci-bar").CountAsync());
        Assert.Matches(@"\d\.\d{3} \[\d\.\d{3}, \d\.\d{3}\]", await page.Locator("#evaluation tr[data-model]").First.InnerTextAsync());

        // The screenshot: a PNG of the whole page, under the test's data directory (and where CIS490_DASHBOARD_SCREENSHOT says).
        var png = Path.Combine(h.DataDir, "dashboard.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = png, FullPage = true });
        var (width, height) = PngSize(png);
        Assert.True(width >= 1440 && height >= 1100, $"screenshot {width}x{height}");
        Assert.True(new FileInfo(png).Length > 30_000, "the screenshot is suspiciously small (a blank page?)");
        if (Environment.GetEnvironmentVariable("CIS490_DASHBOARD_SCREENSHOT") is { Length: > 0 } copy) File.Copy(png, copy, overwrite: true);
        output.WriteLine($"screenshot {png} ({width}x{height})");

        // The coordinator restarts (as in a hand-over): the page says so, reconnects by itself, and shows the recovered table.
        h.Coordinator!.Terminate();
        Assert.True(await h.Coordinator.WaitExit(TimeSpan.FromSeconds(30)), "the coordinator did not exit on SIGTERM\n" + h.LogTails());
        await WaitFor(page, "() => document.getElementById('conn').dataset.state !== 'live'", "the page noticing the coordinator gone");
        await h.StartCoordinator("--http-port", httpPort.ToString());
        await WaitFor(page, "() => document.getElementById('conn').dataset.state === 'live' && document.querySelectorAll('#jobs tr[data-job-id]').length === 3",
            "the page live again with the recovered jobs", TimeSpan.FromSeconds(60), h);
        // The browser logs the refused cancels (401, 403), and the event stream and the replay's list (polled every 5 s) while the
        // coordinator was away; nothing else.
        Assert.DoesNotContain(consoleErrors, e => !e.Contains("/cancel", StringComparison.Ordinal) && !e.Contains("/api/events", StringComparison.Ordinal)
                                                  && !e.Contains("/api/replay", StringComparison.Ordinal));
    }

    private static async Task SetToken(IPage page, string token)
    {
        await page.FillAsync("#token", token);
        await page.ClickAsync("#token-save");
        await WaitFor(page, "() => document.getElementById('token-state').textContent.startsWith('token set')", "the token taken");
    }

    /// <summary>Cancel asks twice: arm, then confirm.</summary>
    private static async Task ClickCancel(IPage page, ILocator cancel)
    {
        await cancel.ClickAsync();
        await Assertions.Expect(cancel).ToHaveTextAsync("confirm cancel?");
        await cancel.ClickAsync();
    }

    private static async Task WaitFor(IPage page, string predicate, string what, TimeSpan? timeout = null, ClusterHarness? h = null)
    {
        try
        {
            await page.WaitForFunctionAsync(predicate, null, new PageWaitForFunctionOptions { Timeout = (float)(timeout ?? Shown).TotalMilliseconds, PollingInterval = 200 });
        }
        catch (TimeoutException e)
        {
            var body = await page.Locator("main").InnerTextAsync();
            throw new TimeoutException($"{what}: not seen on the page ({e.Message.Split('\n')[0]}).\nConnection: " +
                $"{await page.Locator("#conn").InnerTextAsync()}\nPage:\n{body}\n{h?.LogTails()}");
        }
    }

    private static string Write(ClusterHarness h, string name, string text)
    {
        var path = Path.Combine(h.DataDir, name);
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>Width and height from a PNG's IHDR chunk; throws when the file is not a PNG.</summary>
    private static (int Width, int Height) PngSize(string path)
    {
        var head = File.ReadAllBytes(path).AsSpan(0, 24);
        Assert.True(head[..8].SequenceEqual(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }), "not a PNG");
        return (BinaryPrimitives.ReadInt32BigEndian(head[16..20]), BinaryPrimitives.ReadInt32BigEndian(head[20..24]));
    }
}
