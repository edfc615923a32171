using Cis490.Protocols.Jobs;
using Cis490.Shared.Cli;
using Cis490.Shell.Commands;
using Cis490.Shell.Interactive;
using Cis490.Shell.Render;
using Xunit;

namespace Cis490.Cluster.Tests;

/// <summary>The shell's plain parts without a cluster: parsing, help, completion, the line editor, history, rendering.</summary>
public sealed class ShellTestsParsing
{
    private static readonly string[] Ids =
    [
        "0b5ce7f4fbf5" + new string('1', 52),
        "0b5ce7f4aaaa" + new string('2', 52),
        "12a130370d43" + new string('3', 52),
    ];

    private sealed class FakeSource : ICompletionSource
    {
        public IReadOnlyList<Candidate> JobIds() =>
            Ids.Select(id => new Candidate(CoordinatorCompletions.UniquePrefix(id, Ids, 12), $"{id[..12]}  knn oracle  pending")).ToList();

        public IReadOnlyList<Candidate> Artifacts() => [new("c0ffee0000000000", "c0ffee0000000000  knn oracle")];

        public IReadOnlyList<Candidate> Members() => [new("akka.tcp://cis490@127.0.0.1:4053", "akka.tcp://cis490@127.0.0.1:4053  up coordinator")];
    }

    /// <summary>Keys from a string; \t is Tab, \n is Enter, \u2191 (↑) is the up arrow, \b is Backspace.</summary>
    private sealed class ScriptedTerminal(string keys) : ITerminal
    {
        private int _next;
        public readonly System.Text.StringBuilder Output = new();

        public ConsoleKeyInfo ReadKey()
        {
            var c = keys[_next++];
            return c switch
            {
                '\t' => new ConsoleKeyInfo('\t', ConsoleKey.Tab, false, false, false),
                '\n' => new ConsoleKeyInfo('\r', ConsoleKey.Enter, false, false, false),
                '\b' => new ConsoleKeyInfo('\b', ConsoleKey.Backspace, false, false, false),
                '↑' => new ConsoleKeyInfo('\0', ConsoleKey.UpArrow, false, false, false),
                '\u0004' => new ConsoleKeyInfo('\u0004', ConsoleKey.D, false, false, true),
                _ => new ConsoleKeyInfo(c, ConsoleKey.A, false, false, false),
            };
        }

        public void Write(string text) => Output.Append(text);
        public int Width => 120;
    }

    [Fact]
    public void A_command_is_parsed_the_same_from_argv_and_from_a_typed_line()
    {
        var fromArgv = CommandParser.Parse(["jobs", "cancel", "0b5ce7f4fbf5", "--reason", "wrong data"]);
        var fromLine = CommandParser.Parse(CommandParser.Tokenize("jobs cancel 0b5ce7f4fbf5 --reason \"wrong data\""));

        Assert.Equal("jobs cancel", fromArgv.Spec.Name);
        Assert.Equal(fromArgv.Spec, fromLine.Spec);
        Assert.Equal(fromArgv.Arguments, fromLine.Arguments);
        Assert.Equal("wrong data", fromLine.Options.Get("reason"));
    }

    [Theory]
    [InlineData("jbos list", "did you mean 'jobs'?")]
    [InlineData("jobs lsit", "did you mean 'jobs list'?")]
    [InlineData("stauts", "did you mean 'status'?")]
    [InlineData("frobnicate", "commands: status, health, jobs")]
    [InlineData("jobs", "'jobs' needs a subcommand: list, show, logs, cancel, requeue")]
    [InlineData("jobs show", "jobs show: missing ID; usage: jobs show ID [--follow] [--json]")]
    [InlineData("artifacts get abc", "missing DIR")]
    [InlineData("workers extra", "unexpected argument 'extra'")]
    [InlineData("jobs show 'abc", "unterminated ' quote")]
    public void Bad_input_gets_an_error_that_names_what_is_wrong(string line, string expected)
    {
        var e = Assert.Throws<CliException>(() => CommandParser.Parse(CommandParser.Tokenize(line)));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Help_lists_every_command_and_explains_one_with_its_usage_and_the_token_rule()
    {
        var all = HelpText.For([]);
        foreach (var spec in CommandCatalog.All) Assert.Contains(spec.Name, all);
        Assert.Contains("CIS490_OPERATOR_TOKEN", all);

        var cancel = HelpText.For(["jobs", "cancel"]);
        Assert.Contains("usage: jobs cancel ID [--reason REASON] [--token TOKEN]", cancel);
        Assert.Contains("Needs the operator token", cancel);
        Assert.Contains("jobs logs ID", HelpText.For(["jobs"]));
        Assert.Contains("usage: log peek NODE [--level LEVEL] [--lines LINES] [--json]", HelpText.For(["log", "peek"]));
        Assert.Contains("usage: actor hierarchy NODE [--json]", HelpText.For(["actor", "hierarchy"]));
        Assert.Contains("cluster tail [--lines LINES] [--json]", HelpText.For(["cluster"]));
        Assert.Contains("did you mean 'cluster'", Assert.Throws<CliException>(() => HelpText.For(["clustr"])).Message);
    }

    [Theory]
    [InlineData("jo", new[] { "jobs" })]
    [InlineData("", new[] { "status", "health", "jobs", "workers", "artifacts", "cluster", "log", "actor", "manifest", "help", "exit", "quit" })]
    [InlineData("jobs s", new[] { "show" })]
    [InlineData("cluster ", new[] { "show", "leave", "down", "tail" })]
    [InlineData("log ", new[] { "peek", "tail" })]
    [InlineData("actor h", new[] { "hierarchy" })]
    [InlineData("log peek akka", new[] { "akka.tcp://cis490@127.0.0.1:4053" })]
    [InlineData("actor hierarchy akka", new[] { "akka.tcp://cis490@127.0.0.1:4053" })]
    [InlineData("log tail x --level w", new[] { "warning" })]
    [InlineData("log peek x --", new[] { "--level", "--lines", "--json" })]
    [InlineData("cluster tail --", new[] { "--lines", "--json" })]
    [InlineData("help ar", new[] { "artifacts" })]
    [InlineData("jobs show 0b5c", new[] { "0b5ce7f4fbf5", "0b5ce7f4aaaa" })]
    [InlineData("jobs logs --follow 12", new[] { "12a130370d43" })]
    [InlineData("jobs list --status ru", new[] { "running" })]
    [InlineData("jobs show --", new[] { "--follow", "--json" })]
    [InlineData("jobs cancel x --", new[] { "--reason", "--token" })]
    [InlineData("artifacts get c0", new[] { "c0ffee0000000000" })]
    [InlineData("cluster down akka", new[] { "akka.tcp://cis490@127.0.0.1:4053" })]
    [InlineData("status x", new string[0])]
    public void Tab_completes_commands_options_and_the_coordinators_ids(string line, string[] expected)
    {
        var completion = new Completer(new FakeSource()).Complete(line, line.Length);

        Assert.Equal(expected, completion.Candidates.Select(c => c.Value));
        Assert.Equal(line.LastIndexOf(' ') + 1, completion.Start);
    }

    [Fact]
    public void The_line_editor_completes_a_unique_word_narrows_several_and_lists_them_when_it_cannot()
    {
        var completer = new Completer(new FakeSource());
        var term = new ScriptedTerminal("jo\tsh\t0b\t\t\n");
        var line = new LineEditor(term, new History(null), completer.Complete).ReadLine("> ");

        // "jo" → "jobs ", "sh" → "show ", "0b" → the common part "0b5ce7f4", then a list of both (with model and status).
        Assert.Equal("jobs show 0b5ce7f4", line);
        Assert.Contains("0b5ce7f4fbf5  knn oracle  pending", term.Output.ToString());
        Assert.Contains("0b5ce7f4aaaa  knn oracle  pending", term.Output.ToString());
    }

    [Fact]
    public void The_line_editor_edits_recalls_history_with_the_up_arrow_and_ends_on_ctrl_d()
    {
        var history = new History(null);
        history.Add("status");
        history.Add("jobs list");
        var editor = new LineEditor(new ScriptedTerminal("wrokers\b\b\b\b\b\borkers\n↑↑\n\u0004"), history);

        Assert.Equal("workers", editor.ReadLine("> "));
        Assert.Equal("status", editor.ReadLine("> "));
        Assert.Null(editor.ReadLine("> "));
    }

    [Fact]
    public void History_is_persisted_but_never_a_line_that_carries_the_token()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("cis490-history-").FullName, "sub", "history");
        var history = new History(path);
        history.Add("jobs list");
        history.Add("jobs list");
        history.Add("jobs cancel 0b5ce7f4fbf5 --token s3cret");
        history.Add("status");

        Assert.Equal(["jobs list", "jobs cancel 0b5ce7f4fbf5 --token s3cret", "status"], history.Entries);
        Assert.Equal(["jobs list", "status"], File.ReadAllLines(path));
        Assert.Equal(["jobs list", "status"], new History(path).Entries);
        Assert.DoesNotContain("s3cret", File.ReadAllText(path));
    }

    [Fact]
    public void A_progress_bar_shows_the_fraction_epoch_loss_and_f1()
    {
        var bar = TextTable.ProgressBar(new TrainingProgress(5, 20, 0.41234, 0.8111, 12.34, "training"), width: 20);

        Assert.Equal("[#####---------------]  25%  epoch 5/20  loss 0.412  val F1 0.811  12.3s  training", bar);
        Assert.StartsWith("[--------------------]   0%", TextTable.ProgressBar(new TrainingProgress(0, 0, null, double.NaN, 0, ""), width: 20));
    }

    [Fact]
    public void Tables_align_their_columns_without_trailing_blanks()
    {
        var text = TextTable.Render(["A", "LONG HEADER", "C"], [["xxxx", "y", ""], ["z", "", "last"]]);

        Assert.Equal("A     LONG HEADER  C\nxxxx  y\nz                  last\n", text.Replace("\r\n", "\n"));
    }

    [Fact]
    public void Everything_the_shell_prints_shows_control_characters_as_visible_text_and_only_its_own_sequences_pass_raw()
    {
        var sink = new StringWriter();
        var safe = SafeTextWriter.Wrap(sink);
        var hostile = "w\u001b]0;pwned\u0007\u001b[2J\u202eexe\u009b";

        safe.WriteLine($"worker {hostile}");
        safe.Write('\u001b');
        SafeTextWriter.WriteControl(safe, "\r\u001b[K");
        safe.Write("😀\tdone\n");
        var table = TextTable.Render(["WORKER", "HOST"], [[hostile, "pi"]]);
        var fields = TextTable.Fields([("last error", hostile)]);
        var json = TextTable.Json(new { worker_id = hostile });

        Assert.Equal("worker w\\x1b]0;pwned\\x07\\x1b[2J\\u202eexe\\x9b" + sink.NewLine + "\\x1b\r\u001b[K😀\tdone\n", sink.ToString());
        Assert.Same(safe, SafeTextWriter.Wrap(safe));
        foreach (var text in new[] { table, fields, json })
        {
            Assert.DoesNotContain('\u001b', text);
            Assert.DoesNotContain('\u202e', text);
            Assert.DoesNotContain('\u009b', text);
        }
        Assert.Contains("w\\x1b]0;pwned", table);
        Assert.Equal(hostile, System.Text.Json.JsonDocument.Parse(json).RootElement.GetProperty("worker_id").GetString()); // still valid, same value
        var lines = table.Replace("\r\n", "\n").Split('\n');
        Assert.Equal(lines[0].IndexOf("HOST", StringComparison.Ordinal), lines[1].IndexOf("pi", StringComparison.Ordinal)); // aligned after escaping
    }
}
