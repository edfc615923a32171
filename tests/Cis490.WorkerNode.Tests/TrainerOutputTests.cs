using Cis490.Training.Runner;
using Cis490.WorkerNode.Trainer;
using Xunit;

namespace Cis490.WorkerNode.Tests;

/// <summary>The trainer's stdout lines, as the trainer program writes them and the trainer actor reads them.</summary>
public sealed class TrainerOutputTests
{
    [Fact]
    public void A_progress_line_reads_back_as_the_report_that_was_printed_on_one_line()
    {
        var report = new ProgressReport(3, 40, 0.125, 0.5, 12.5, "epoch 3:\nloss falling");

        var line = TrainerOutput.Progress(report);

        Assert.DoesNotContain('\n', line);
        Assert.Equal(report, TrainerOutput.ReadProgress(line));
    }

    [Theory]
    [InlineData("{\"type\":\"alive\"}")]
    [InlineData("[W NNPACK.cpp:64] Could not initialize NNPACK! Reason: Unsupported hardware.")]
    [InlineData("{\"type\":\"progress\"}")]
    [InlineData("42")]
    public void A_line_that_is_not_progress_reads_as_none(string line)
    {
        Assert.Null(TrainerOutput.ReadProgress(line));
    }

    [Fact]
    public void The_alive_line_is_a_json_object_of_type_alive()
    {
        Assert.Equal("{\"type\":\"alive\"}", TrainerOutput.Alive);
    }
}
