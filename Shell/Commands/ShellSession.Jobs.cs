using Cis490.Protocols.Jobs;
using Cis490.Protocols.Operator;
using Cis490.Shared.Cli;
using Cis490.Shared.Jobs;
using Cis490.Shell.Render;
using static Cis490.Protocols.Operator.OperatorQueries;

namespace Cis490.Shell.Commands;

/// <summary>The <c>jobs</c> palette: list, show (with a live progress bar), logs (paged, followed).</summary>
public sealed partial class ShellSession
{
    private async Task<int> ListJobs(CliArgs o)
    {
        var status = o.Get("status");
        var model = o.Get("model");
        var json = o.Flag("json");
        var all = o.Flag("all");
        var limitText = o.Get("limit");
        var afterText = o.Get("after");
        o.RejectUnknown();
        if (status is not null && !JobStatus.All.Contains(status))
            throw new CliException($"--status must be one of {string.Join(", ", JobStatus.All)}, got '{status}'");
        var limit = Client.Settings.ListPage;
        if (limitText is not null && (!int.TryParse(limitText, out limit) || limit < 1))
            throw new CliException($"--limit must be a whole number of rows, at least 1, got '{limitText}'");
        long? after = null;
        if (afterText is not null)
            after = long.TryParse(afterText, out var cursor) ? cursor : throw new CliException($"--after must be a cursor a previous page gave (a number), got '{afterText}'");
        if (all && (limitText is not null || afterText is not null))
            throw new CliException("--all lists every job page by page; give it without --limit and --after");
        OperatorProtocol.JobList list;
        try
        {
            list = all ? await Client.ListJobs(status, model) : await Ask<OperatorProtocol.JobList>(new OperatorProtocol.ListJobs(status, model, limit, after));
        }
        catch (CliException e)
        {
            throw new ShellFailure(e.Message);
        }
        Out.Write(json ? JobsTable.Json(list) + "\n" : list.Jobs.Count == 0 ? "no jobs\n" : JobsTable.Text(list.Jobs));
        if (list.Next is { } next && !json)
            Err.WriteLine($"{list.Jobs.Count} of {list.Total} job(s) shown; more: jobs list --after {next} (or --all)");
        return Ok;
    }

    private async Task<int> ShowJob(string id, CliArgs o, CancellationToken cancel)
    {
        var follow = o.Flag("follow");
        var json = o.Flag("json");
        o.RejectUnknown();
        var detail = await Ask<JobDetail>(new ShowJob(id));
        if (follow)
        {
            string? shown = null;
            while (!IsFinished(detail.Job.Status))
            {
                var line = $"{JobIds.Short(detail.Job.JobId)} {detail.Job.Status,-9} " +
                           (detail.Job.Progress is { } p ? TextTable.ProgressBar(p) : detail.Job.WorkerId is { } w ? $"on {w}" : "waiting for a worker");
                if (OutputIsTerminal)
                {
                    SafeTextWriter.WriteControl(Out, "\r\x1b[K"); // the shell's own redraw; the line itself is filtered
                    Out.Write(Fit(line));
                }
                else if (line != shown) Out.WriteLine(line);
                Out.Flush();
                shown = line;
                await Task.Delay(Client.Settings.FollowInterval, cancel);
                detail = await Ask<JobDetail>(new ShowJob(detail.Job.JobId));
            }
            if (OutputIsTerminal && shown is not null) Out.WriteLine();
        }
        Out.Write(json ? TextTable.Json(detail) + "\n" : Views.Job(detail));
        if (!follow) return Ok;
        if (!json) Out.WriteLine(Views.Outcome(detail.Job));
        return detail.Job.Status == JobStatus.Completed ? Ok : Failed;
    }

    private async Task<int> Logs(string id, CliArgs o, CancellationToken cancel)
    {
        var follow = o.Flag("follow");
        var json = o.Flag("json");
        o.RejectUnknown();
        long after = 0;
        var collected = new List<LogLine>();
        JobLogs page;
        while (true)
        {
            page = await Ask<JobLogs>(new GetJobLogs(id, after));
            id = page.JobId; // a prefix resolves once; the next pages ask for the full id
            after = page.Next;
            foreach (var line in page.Lines)
            {
                if (!follow) collected.Add(line);
                else Out.WriteLine(json ? TextTable.JsonLine(line) : Views.LogLine(line));
            }
            Out.Flush();
            if (page.Lines.Count > 0) continue; // more may be waiting beyond one reply's worth
            if (!follow || page.Finished) break;
            await Task.Delay(Client.Settings.FollowInterval, cancel);
        }
        if (!follow)
        {
            if (json) Out.WriteLine(TextTable.Json(page with { Lines = collected }));
            else foreach (var line in collected) Out.WriteLine(Views.LogLine(line));
        }
        if (collected.Count == 0 && after == 0 && !json)
            Err.WriteLine($"no progress lines kept for job {JobIds.Short(page.JobId)} ({page.Status}): lines arrive with a running trainer's " +
                          "heartbeats and live in the coordinator's memory only");
        if (!follow) return Ok;
        if (!json) Err.WriteLine($"job {JobIds.Short(page.JobId)} {page.Status}");
        return page.Status == JobStatus.Completed ? Ok : Failed;
    }

    private static bool IsFinished(string status) => status is JobStatus.Completed or JobStatus.Failed or JobStatus.Cancelled;

    /// <summary>A live line cut to the terminal's width, so that redrawing it with a carriage return never wraps.</summary>
    private static string Fit(string line)
    {
        int width;
        try { width = Console.WindowWidth; }
        catch (IOException) { width = 120; }
        return width > 10 && line.Length >= width ? line[..(width - 1)] : line;
    }
}
