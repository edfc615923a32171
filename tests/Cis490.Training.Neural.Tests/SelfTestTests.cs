using Cis490.Shared.Models;
using Cis490.Training.Runner;

namespace Cis490.Training.Neural.Tests;

/// <summary>The worker's self-test in the process that links every engine: each family of the catalog is trained for real, the
/// engines report their versions, and the CPU libtorch this build ships says it cannot use CUDA, and why.</summary>
public sealed class SelfTestTests
{
    [Fact]
    public void Every_catalog_family_trains_in_the_self_test_and_the_cpu_libtorch_says_why_it_has_no_cuda()
    {
        NeuralFamilies.Register();
        using var dir = new TempDir();
        var lines = new List<string>();

        var report = SelfTest.Run(dir.Path, lines.Add);

        Assert.Equal(ModelCatalog.All.Keys.Order(StringComparer.Ordinal), report.Families.Keys.Order(StringComparer.Ordinal));
        Assert.All(report.Families, f => Assert.True(f.Value.Ok, $"{f.Key}: {f.Value.Problem}"));
        Assert.Equal(report.Families.Keys.Order(StringComparer.Ordinal), report.Runnable);
        Assert.StartsWith("2.10", report.TorchVersion);
        Assert.StartsWith("1.7", report.XgboostVersion);
        Assert.False(report.TorchCuda);
        Assert.Contains("this build ships the CPU-only libtorch", report.TorchCudaProblem);
        Assert.Empty(Directory.GetFileSystemEntries(dir.Path)); // its data and models are removed
        Assert.Contains(lines, l => l.StartsWith("self-test: gbt: ok", StringComparison.Ordinal));
        Assert.True(report.Seconds < 60, $"the self-test took {report.Seconds} s");

        var back = Shared.Capability.SelfTestReport.Parse("noise\n" + report.ToLine() + "\n");
        Assert.Equal(report.Runnable, back.Runnable);
        Assert.Equal(report.TorchCudaProblem, back.TorchCudaProblem);
    }

    [Fact]
    public void A_report_line_that_is_missing_or_broken_is_refused_by_name()
    {
        Assert.Contains("no line starting with 'SELF-TEST'", Assert.Throws<InvalidDataException>(() => Shared.Capability.SelfTestReport.Parse("crashed\n")).Message);
        Assert.Contains("not valid JSON", Assert.Throws<InvalidDataException>(() => Shared.Capability.SelfTestReport.Parse("SELF-TEST {\"families\":")).Message);
    }
}
