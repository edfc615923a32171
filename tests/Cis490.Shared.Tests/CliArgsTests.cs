using Cis490.Shared.Cli;

namespace Cis490.Shared.Tests;

public class CliArgsTests
{
    [Fact]
    public void Positionals_keep_their_order_around_options()
    {
        var args = new CliArgs(["submit", "--seed", "3", "a.toml", "b.toml"]);
        Assert.Equal(["submit", "a.toml", "b.toml"], args.Positionals);
        Assert.Equal("3", args.Get("seed"));
    }

    [Fact]
    public void Name_space_value_and_name_equals_value_both_work()
    {
        var args = new CliArgs(["--out", "/tmp/x", "--rows=500", "--label=a=b"]);
        Assert.Equal("/tmp/x", args.Get("out"));
        Assert.Equal(500, args.GetInt("rows", 0));
        Assert.Equal("a=b", args.Get("label")); // only the first '=' separates
    }

    [Fact]
    public void Flags_take_no_value_and_absent_flags_are_false()
    {
        var args = new CliArgs(["--force", "run"], "force", "dry-run");
        Assert.True(args.Flag("force"));
        Assert.False(args.Flag("dry-run"));
        Assert.Equal(["run"], args.Positionals);
    }

    [Fact]
    public void Absent_options_fall_back()
    {
        var args = new CliArgs([]);
        Assert.Null(args.Get("out"));
        Assert.Equal("data", args.Get("out", "data"));
        Assert.Equal(7, args.GetInt("rows", 7));
    }

    [Fact]
    public void Missing_value_error_names_the_option()
    {
        var e = Assert.Throws<CliException>(() => new CliArgs(["run", "--out"]));
        Assert.Contains("--out", e.Message);
        Assert.Contains("needs a value", e.Message);
    }

    [Fact]
    public void Require_names_the_missing_option()
    {
        var e = Assert.Throws<CliException>(() => new CliArgs([]).Require("manifest"));
        Assert.Contains("--manifest", e.Message);
    }

    [Fact]
    public void Non_integer_value_names_the_option_and_the_value()
    {
        var args = new CliArgs(["--rows", "lots"]);
        var e = Assert.Throws<CliException>(() => args.GetInt("rows", 0));
        Assert.Contains("--rows", e.Message);
        Assert.Contains("'lots'", e.Message);
    }

    [Fact]
    public void Reject_unknown_names_every_option_never_asked_about()
    {
        var args = new CliArgs(["--out", "x", "--sede", "3", "--verbsoe"], "verbsoe");
        args.Get("out");
        var e = Assert.Throws<CliException>(args.RejectUnknown);
        Assert.Contains("--sede", e.Message);
        Assert.Contains("--verbsoe", e.Message);
        Assert.DoesNotContain("--out", e.Message);
        Assert.StartsWith("unknown options", e.Message);
    }

    [Fact]
    public void Reject_unknown_passes_when_every_option_was_read()
    {
        var args = new CliArgs(["--out", "x", "--force"], "force");
        args.Get("out");
        args.Flag("force");
        args.RejectUnknown(); // would throw if either were unknown
        Assert.Equal("x", args.Get("out"));
    }
}
