using System.Diagnostics;
using System.Text.RegularExpressions;
using Cis490.WorkerNode.Cli;
using Xunit;

namespace Cis490.WorkerNode.Tests;

/// <summary>The one usage text, where people read it: the worker program's <c>help</c> and <c>COMMAND --help</c>,
/// <c>./cis490 help</c>, and the command lines shown in README.md and docs/.</summary>
public sealed class UsageTests
{
    private static string WorkerDll => Path.Combine(TestConfig.RepositoryRoot(), ".build", "bin", "Cis490.WorkerNode", TestConfig.Configuration, "Cis490.WorkerNode.dll");

    private static async Task<(int Exit, string Stdout, string Stderr)> Run(string program, IEnumerable<string> args, params (string, string)[] env)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', psi.ArgumentList)} ran over 60 s");
        }
        return (p.ExitCode, await stdout, await stderr);
    }

    private static Task<(int Exit, string Stdout, string Stderr)> Worker(params string[] args) => Run("dotnet", [WorkerDll, .. args]);

    public static TheoryData<string> Commands() => new(WorkerCommands.All.Select(c => c.Name));

    [Theory]
    [MemberData(nameof(Commands))]
    public async Task Each_command_s_help_prints_its_own_entry_and_every_option_with_its_default(string name)
    {
        var spec = WorkerCommands.All.Single(c => c.Name == name);

        var (exit, stdout, _) = await Worker([.. name.Split(' '), "--help"]);

        Assert.Equal(0, exit);
        Assert.Contains(Usage.Entry(spec), stdout);
        foreach (var o in spec.Options)
            Assert.Matches($@"(?m)^    --{Regex.Escape(o.Name)} {Regex.Escape(o.Value)} +{Regex.Escape(o.Explanation)}$", stdout);
        foreach (var other in WorkerCommands.All.Where(c => c != spec))
            Assert.DoesNotContain(Usage.Entry(other), stdout);
    }

    [Fact]
    public async Task A_usage_error_names_the_problem_shows_that_command_s_entry_and_exits_two()
    {
        var (exit, stdout, stderr) = await Worker("predict", "--model-dir", "m", "--data", "d", "--out", "o.csv", "--colour", "red");

        Assert.Equal(2, exit);
        Assert.Equal("", stdout);
        Assert.Equal("cis490: unknown option: --colour\nusage:\n" + Usage.Entry(WorkerCommands.All.Single(c => c.Name == "predict")), stderr);
    }

    [Fact]
    public async Task The_cis490_script_prints_the_worker_program_s_generated_usage_for_its_commands()
    {
        var script = Path.Combine(TestConfig.RepositoryRoot(), "cis490");

        var (exit, stdout, stderr) = await Run("bash", [script, "help"], ("CIS490_CONFIGURATION", TestConfig.Configuration));

        Assert.True(exit == 0, stderr);
        Assert.Contains(string.Concat(WorkerCommands.All.Select(Usage.Entry)), stdout);
        Assert.StartsWith("usage: ./cis490 COMMAND [options]", stdout);
    }

    [Fact]
    public void No_usage_line_is_wider_than_the_usage_s_width()
    {
        var wide = Usage.Text().Split('\n').Where(l => l.Length > Usage.Width).ToList();

        Assert.Empty(wide);
    }

    /// <summary>Each <c>./cis490 COMMAND ...</c> line of a worker command in the README's and docs' code blocks, with its place.</summary>
    public static TheoryData<string, string> DocumentedCommandLines()
    {
        var root = TestConfig.RepositoryRoot();
        var data = new TheoryData<string, string>();
        var files = new[] { Path.Combine(root, "README.md") }.Concat(Directory.GetFiles(Path.Combine(root, "docs"), "*.md"));
        foreach (var file in files)
        {
            var inCode = false;
            var n = 0;
            foreach (var line in File.ReadLines(file))
            {
                n++;
                if (line.TrimStart().StartsWith("```", StringComparison.Ordinal)) { inCode = !inCode; continue; }
                if (!inCode || !line.StartsWith("./cis490 ", StringComparison.Ordinal)) continue;
                var words = ShellWords(line);
                if (WorkerCommands.Find(words[1..]).Spec is not null) data.Add($"{Path.GetRelativePath(root, file)}:{n}", line);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(DocumentedCommandLines))]
    public void Every_worker_command_line_shown_in_the_docs_is_accepted_by_its_command(string place, string line)
    {
        var words = ShellWords(line);
        var (spec, args) = WorkerCommands.Find(words[1..]);

        var e = Record.Exception(() => spec!.Prepare(args));

        Assert.True(e is null, $"{place}: {line}\n  {e?.Message}");
    }

    [Fact]
    public void The_docs_show_the_data_train_predict_and_eval_commands()
    {
        var shown = DocumentedCommandLines().Select(row => (string)row[1]).ToList();

        // Guards the test above against passing because it found nothing.
        foreach (var command in new[] { "worker", "data generate", "data build", "train", "predict", "eval" })
            Assert.Contains(shown, l => l.StartsWith($"./cis490 {command} ", StringComparison.Ordinal));
    }

    /// <summary>The words of a shell line: quotes group, a # starts a comment, and [brackets] around an optional part are dropped.</summary>
    private static string[] ShellWords(string line)
    {
        var words = new List<string>();
        var word = new System.Text.StringBuilder();
        var any = false;
        char? quote = null;
        foreach (var ch in line)
        {
            if (quote is { } q)
            {
                if (ch == q) quote = null;
                else word.Append(ch);
            }
            else if (ch is '\'' or '"') { quote = ch; any = true; }
            else if (ch == '#' && !any && word.Length == 0) break;
            else if (char.IsWhiteSpace(ch))
            {
                if (any) words.Add(word.ToString());
                word.Clear();
                any = false;
            }
            else if (ch is '[' or ']' && word.Length == 0 || ch == ']') { }
            else { word.Append(ch); any = true; }
        }
        if (any) words.Add(word.ToString());
        return [.. words];
    }
}
