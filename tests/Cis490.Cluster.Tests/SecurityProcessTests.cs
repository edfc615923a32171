using Cis490.Shell.Demo;
using Xunit;

namespace Cis490.Cluster.Tests;

/// <summary>Issue 14 with real processes: tokens at start-up (strength, token files, never printed), the refusal of anonymous
/// <c>/v1</c> beyond loopback, and a shell that prints escape codes from the coordinator as visible text.</summary>
[Collection(ClusterCollection.Name)]
public sealed class SecurityProcessTests
{
    private const string Esc = "\u001b";

    [Fact]
    public async Task A_coordinator_refuses_to_start_with_a_short_token_or_anonymous_v1_beyond_loopback_and_never_prints_the_token()
    {
        await using var h = new ClusterHarness(features: "");
        const string weak = "hunter2-pass";

        var shortToken = h.LaunchCoordinator(new Dictionary<string, string> { ["CIS490_OPERATOR_TOKEN"] = weak });
        Assert.True(await shortToken.WaitExit(TimeSpan.FromSeconds(60)), "the coordinator did not exit");
        var log = await File.ReadAllTextAsync(shortToken.LogPath);
        var anonymous = await ClusterHarness.RunProgram("Cis490.Coordinator", "--port", NodeProcess.FreePort().ToString(), "--data-dir",
            Path.Combine(h.DataDir, "open"), "--http-port", NodeProcess.FreePort().ToString(), "--http-bind", "0.0.0.0", "--v1-anonymous");

        Assert.Equal(2, shortToken.ExitCode);
        Assert.Contains("too short", log);
        Assert.Contains("CIS490_OPERATOR_TOKEN", log);
        Assert.Contains("openssl rand", log);
        Assert.DoesNotContain(weak, log);
        Assert.Equal(2, anonymous.Exit);
        Assert.Contains("--v1-anonymous", anonymous.Stderr);
        Assert.Contains("0.0.0.0", anonymous.Stderr);

        // On loopback the operator may open /v1 to credential-less workers: the node says so loudly, and a claim needs no token.
        var httpPort = NodeProcess.FreePort();
        var open = await h.StartCoordinator("--http-port", httpPort.ToString(), "--v1-anonymous");
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}"), Timeout = TimeSpan.FromSeconds(30) };
        using var claim = await http.PostAsync("/v1/job/claim", new StringContent("{\"worker_id\":\"old-py\"}", System.Text.Encoding.UTF8, "application/json"));
        using var script = await http.PostAsync("/v1/job/claim", new StringContent("worker_id=old-py", System.Text.Encoding.UTF8, "application/x-www-form-urlencoded"));
        using var page = new HttpRequestMessage(HttpMethod.Post, "/v1/job/claim")
        {
            Content = new StringContent("worker_id=page", System.Text.Encoding.UTF8, "application/x-www-form-urlencoded"),
        };
        page.Headers.Add("Origin", "http://evil.example");
        using var fromPage = await http.SendAsync(page);
        var openLog = await File.ReadAllTextAsync(open.LogPath);

        Assert.Equal(System.Net.HttpStatusCode.OK, claim.StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.OK, script.StatusCode); // a script's form, as urllib labels a body
        Assert.Equal(System.Net.HttpStatusCode.UnsupportedMediaType, fromPage.StatusCode); // a web page cannot post to the open port
        Assert.Contains("WARNING: /v1 worker endpoints open to anyone", openLog);
    }

    [Fact]
    public async Task Token_files_work_for_coordinator_and_shell_and_the_shell_shows_escape_codes_from_the_coordinator_as_visible_text()
    {
        await using var h = new ClusterHarness(features: "");
        var token = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24));
        var tokenFile = Path.Combine(h.DataDir, "operator-secret");
        await File.WriteAllTextAsync(tokenFile, token + "\n");
        h.LaunchCoordinator(new Dictionary<string, string> { ["CIS490_OPERATOR_TOKEN_FILE"] = tokenFile });
        await h.Coordinator!.WaitReady(TimeSpan.FromSeconds(60));
        var env = new Dictionary<string, string?> { ["CIS490_OPERATOR_TOKEN_FILE"] = tokenFile, ["CIS490_OPERATOR_TOKEN"] = null };
        Task<(int Exit, string Stdout, string Stderr)> Shell(IReadOnlyDictionary<string, string?> e, params string[] args) =>
            ClusterHarness.RunProgram("Cis490.Shell", e, ["shell", "--coordinator", h.Address, .. args]);

        // The coordinator echoes a bad model name in its refusal; the name carries a window-title sequence, a screen clear and an
        // RTL override. The shell must print them as text.
        var hostile = Path.Combine(h.DataDir, "hostile.toml");
        await File.WriteAllTextAsync(hostile, "[[jobs]]\nmodel = \"\\u001b]0;pwned\\u0007\\u001b[2Jknn\\u202e\"\nmode = \"oracle\"\n");
        var refused = await Shell(env, "manifest", "reload", hostile);
        var good = Path.Combine(h.DataDir, "jobs.toml");
        await File.WriteAllTextAsync(good, "[[jobs]]\nmodel = \"knn\"\nmode = \"oracle\"\nhyper = { k = 3 }\n");
        var accepted = await Shell(env, "manifest", "reload", good);
        var listed = await Shell(env, "jobs", "list");
        var json = await Shell(env, "jobs", "list", "--json");
        var withOption = await Shell(new Dictionary<string, string?> { ["CIS490_OPERATOR_TOKEN_FILE"] = null, ["CIS490_OPERATOR_TOKEN"] = null },
            "jobs", "cancel", "ffffffffffff", "--token", token);
        var logs = await File.ReadAllTextAsync(h.Coordinator.LogPath);

        Assert.Equal(1, refused.Exit);
        Assert.Contains("unknown model", refused.Stderr);
        Assert.Contains("\\x1b]0;pwned\\x07\\x1b[2Jknn\\u202e", refused.Stderr);
        foreach (var output in new[] { refused.Stdout, refused.Stderr, accepted.Stdout, listed.Stdout, json.Stdout })
        {
            Assert.DoesNotContain(Esc, output);
            Assert.DoesNotContain("\u202e", output);
            Assert.DoesNotContain("\u0007", output);
        }
        Assert.True(accepted.Exit == 0, accepted.Stderr);
        Assert.Contains("1 new job(s) pending", accepted.Stdout);
        Assert.Contains("knn", listed.Stdout);
        Assert.Equal(System.Text.Json.JsonValueKind.Object, System.Text.Json.JsonDocument.Parse(json.Stdout).RootElement.ValueKind);
        Assert.Contains("shows in `ps`", withOption.Stderr);
        Assert.Equal(1, withOption.Exit); // refused for the unknown id, not for the token: --token still works
        Assert.DoesNotContain("wrong operator token", withOption.Stderr);
        Assert.Contains("operator-secret", logs); // where the token came from…
        Assert.DoesNotContain(token, logs); // …never the token
        Assert.DoesNotContain(token, refused.Stderr + accepted.Stdout + accepted.Stderr + withOption.Stderr);
    }
}
