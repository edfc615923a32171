using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Xunit;

namespace Cis490.Coordinator.Tests;

/// <summary>The dashboard's server side against a real coordinator: the page and its files, the event stream (snapshots and
/// progress lines as the coordinator sees them), and the evaluation comparison read from the data directory.</summary>
public sealed class DashboardApiTests : HttpTestBase
{
    [Fact]
    public async Task The_page_is_served_with_a_strict_content_policy_its_files_revalidate_and_an_unknown_file_is_a_json_404()
    {
        using var page = await Http.GetAsync("/");
        var html = await page.Content.ReadAsStringAsync();
        using var script = await Http.GetAsync("/dashboard/app.js");
        var etag = script.Headers.ETag!;
        using var again = new HttpRequestMessage(HttpMethod.Get, "/dashboard/app.js");
        again.Headers.IfNoneMatch.Add(etag);
        using var unchanged = await Http.SendAsync(again);
        var missing = await Get("/dashboard/nope.js");

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType!.MediaType);
        Assert.Contains("/dashboard/app.js", html);
        Assert.Contains("script-src 'self'", page.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal("text/javascript", script.Content.Headers.ContentType!.MediaType);
        Assert.Contains("EventSource", await script.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotModified, unchanged.StatusCode);
        AssertError(HttpStatusCode.NotFound, missing, "not_found", "app.js");
    }

    [Fact]
    public async Task The_event_stream_sends_a_snapshot_when_the_job_table_changes_and_each_new_progress_line_of_a_running_job()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/events");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        using var response = await Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        using var events = new EventReader(await response.Content.ReadAsStreamAsync(cts.Token));

        var first = await events.Next("snapshot", _ => true, cts.Token);
        Assert.Equal(0, first.GetProperty("jobs").GetArrayLength());

        var jobId = (await Submit(OneJob)).Single();
        var pending = await events.Next("snapshot", s => s.GetProperty("jobs").GetArrayLength() == 1, cts.Token);
        Assert.Equal("pending", pending.GetProperty("jobs")[0].GetProperty("status").GetString());

        var (claimed, lease) = await Claim();
        Assert.Equal(jobId, claimed);
        // The first heartbeat marks the job running (its progress is not a line); each later one adds a line.
        foreach (var epoch in new[] { 0, 1, 2 })
        {
            var (status, body) = await Post($"/v1/job/{jobId}/heartbeat", new
            {
                worker_id = "py-1",
                lease_id = lease,
                progress = new { epoch, total_epochs = 3, loss = 1.0 / Math.Max(1, epoch), val_macro_f1 = 0.3 * epoch, elapsed_seconds = epoch, message = "epoch" },
            });
            Assert.True(status == HttpStatusCode.OK, body.ToString());
            if (epoch == 0) continue;
            var progress = await events.Next("progress", p => p.TryGetProperty(jobId, out var lines) && lines.EnumerateArray().Any(l => l.GetProperty("epoch").GetInt32() == epoch), cts.Token);
            var line = progress.GetProperty(jobId).EnumerateArray().Single(l => l.GetProperty("epoch").GetInt32() == epoch);
            Assert.Equal(1.0 / epoch, line.GetProperty("loss").GetDouble(), 6);
            Assert.Equal(lease, line.GetProperty("lease_id").GetInt64());
        }
        var running = await events.Next("snapshot", s => s.GetProperty("jobs")[0].GetProperty("status").GetString() == "running", cts.Token);
        Assert.Equal("py-1", running.GetProperty("jobs")[0].GetProperty("worker_id").GetString());
    }

    [Fact]
    public async Task The_evaluation_is_a_json_404_until_eval_wrote_its_report_and_then_lists_macro_f1_with_its_interval_per_model()
    {
        var before = await Get("/api/evaluation");
        var dir = Directory.CreateDirectory(Path.Combine(Dir, "reports", "eval")).FullName;
        // The shape ComparisonReport writes (Training/Evaluation/ComparisonReport.cs).
        File.WriteAllText(Path.Combine(dir, "knn_oracle_eval.json"), """
            {"evaluation": {"name": "knn_oracle", "model": "knn", "mode": "oracle", "hyper": {"k": 5}, "split_recipe": "host",
             "train_hosts": ["a", "b"], "split_seed": 7, "val_macro_f1": 0.71,
             "test_macro_f1": {"value": 0.66, "low": 0.61, "high": 0.7, "excludes_zero": true}, "test_windows": 420},
             "resample": "episodes", "resamples": 1000, "seed": 1}
            """);
        File.WriteAllText(Path.Combine(dir, "gru_oracle_eval.json"), "{\"evaluation\": ");
        var (status, body) = await Get("/api/evaluation");

        AssertError(HttpStatusCode.NotFound, before, "not_found", "no evaluation yet");
        Assert.Equal(HttpStatusCode.OK, status);
        var row = body.GetProperty("models").EnumerateArray().Single();
        Assert.Equal("knn_oracle", row.GetProperty("name").GetString());
        Assert.Equal("oracle", row.GetProperty("mode").GetString());
        Assert.Equal((0.66, 0.61, 0.7), (row.GetProperty("test_macro_f1").GetDouble(), row.GetProperty("low").GetDouble(), row.GetProperty("high").GetDouble()));
        Assert.Equal("episodes", body.GetProperty("resample").GetString());
        Assert.Contains("gru_oracle_eval.json", body.GetProperty("problems")[0].GetString());
    }

    [Fact]
    public async Task The_replay_lists_evals_prediction_runs_and_serves_one_episode_in_time_order_with_its_probabilities()
    {
        var (_, empty) = await Get("/api/replay");
        Assert.Empty(empty.GetProperty("runs").EnumerateArray());
        var dir = Directory.CreateDirectory(Path.Combine(Dir, "reports", "eval")).FullName;
        // The columns eval writes (Training/Runner/Predictor.cs WriteCsv), rows out of time order as a split may list them.
        File.WriteAllText(Path.Combine(dir, "knn_oracle_predictions.csv"), """
            window_id,episode_id,host,profile,true_label,pred_label,p_clean,p_armed,t_start_ns
            e1-w2,e1,gaming-pc,steam,armed,armed,0.25,0.75,1000020000000000
            e1-w0,e1,gaming-pc,steam,clean,clean,0.9,0.1,1000000000000000
            e1-w1,e1,gaming-pc,steam,clean,armed,0.4,0.6,1000010000000000
            e2-w0,e2,gaming-pc,idle,clean,clean,1,0,2000000000000000

            """);
        File.WriteAllText(Path.Combine(dir, "gru_oracle_predictions.csv"), "window_id,episode_id,host,profile,true_label,pred_label,p_clean\n");

        var (status, list) = await Get("/api/replay");
        Assert.Equal(HttpStatusCode.OK, status);
        var run = list.GetProperty("runs").EnumerateArray().Single();
        Assert.Equal("knn_oracle", run.GetProperty("name").GetString());
        Assert.Equal(["clean", "armed"], run.GetProperty("classes").EnumerateArray().Select(c => c.GetString()));
        var e1 = run.GetProperty("episodes")[0];
        Assert.Equal(("e1", 3, 2, 20.0), (e1.GetProperty("episode_id").GetString(), e1.GetProperty("windows").GetInt32(), e1.GetProperty("correct").GetInt32(),
            e1.GetProperty("seconds").GetDouble()));
        Assert.Contains("gru_oracle_predictions.csv", list.GetProperty("problems")[0].GetString());

        var (_, episode) = await Get("/api/replay/knn_oracle/e1");
        var windows = episode.GetProperty("windows").EnumerateArray().ToList();
        Assert.Equal(["e1-w0", "e1-w1", "e1-w2"], windows.Select(w => w.GetProperty("window_id").GetString()));
        Assert.Equal([0.0, 10.0, 20.0], windows.Select(w => w.GetProperty("t").GetDouble()));
        Assert.Equal(("clean", "armed"), (windows[1].GetProperty("true").GetString(), windows[1].GetProperty("predicted").GetString()));
        Assert.Equal([0.4f, 0.6f], windows[1].GetProperty("p").EnumerateArray().Select(p => p.GetSingle()));
        Assert.Equal("steam", episode.GetProperty("profile").GetString());

        AssertError(HttpStatusCode.NotFound, await Get("/api/replay/knn_oracle/e9"), "not_found", "no test episode 'e9'");
        AssertError(HttpStatusCode.NotFound, await Get("/api/replay/lstm_oracle/e1"), "not_found", "no prediction run 'lstm_oracle'");
        AssertError(HttpStatusCode.NotFound, await Get("/api/replay/gru_oracle/e1"), "not_found", "the header is not");
    }

    /// <summary>Reads server-sent events off a stream: "event:" and "data:" lines, a blank line ends one.</summary>
    private sealed class EventReader(Stream stream) : IDisposable
    {
        private readonly StreamReader _reader = new(stream);

        /// <summary>The data of the next event named <paramref name="name"/> whose data satisfies <paramref name="match"/>.</summary>
        public async Task<JsonElement> Next(string name, Func<JsonElement, bool> match, CancellationToken ct)
        {
            string? eventName = null, data = null;
            while (true)
            {
                var line = await _reader.ReadLineAsync(ct) ?? throw new EndOfStreamException($"the event stream ended before a '{name}' event");
                if (line.StartsWith("event: ", StringComparison.Ordinal)) eventName = line[7..];
                else if (line.StartsWith("data: ", StringComparison.Ordinal)) data = line[6..];
                else if (line.Length == 0)
                {
                    if (eventName == name && data is not null && JsonDocument.Parse(data).RootElement.Clone() is var json && match(json)) return json;
                    eventName = data = null;
                }
            }
        }

        public void Dispose() => _reader.Dispose();
    }
}
