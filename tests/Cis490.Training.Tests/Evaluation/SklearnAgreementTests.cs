using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Cis490.Training.Evaluation;
using Cis490.Training.Runner;

namespace Cis490.Training.Tests.Evaluation;

/// <summary>The report's figures recomputed by another implementation: scikit-learn (Debian's <c>python3-sklearn</c>, in
/// <c>TEST_APT_PACKAGES</c>) reads each predictions CSV and must give the reported macro F1 and per-class F1.</summary>
public sealed class SklearnAgreementTests(SmallBuild build) : IClassFixture<SmallBuild>
{
    private const string Script = """
        import csv, json, sys
        try:
            from sklearn.metrics import f1_score
        except ImportError as e:
            sys.exit("scikit-learn is missing (%s): install it with 'apt-get install python3-sklearn' (it is in TEST_APT_PACKAGES of ./cis490)" % e)
        out = {}
        for path in sys.argv[1:]:
            with open(path, newline="") as f:
                rows = list(csv.DictReader(f))
            truth = [r["true_label"] for r in rows]
            pred = [r["pred_label"] for r in rows]
            labels = sorted(set(truth) | set(pred))
            out[path] = {"macro": f1_score(truth, pred, average="macro"),
                         "per_class": dict(zip(labels, f1_score(truth, pred, labels=labels, average=None).tolist()))}
        print(json.dumps(out))
        """;

    [Fact]
    public void Scikit_learn_recomputes_the_reported_macro_and_per_class_f1_from_the_predictions_csv()
    {
        using var tmp = new TempDir();
        foreach (var (model, hyper) in new[] { ("knn", "{\"k\":5}"), ("gbt", "{\"num_boost_round\":30,\"normalise\":\"per_host\"}") })
            TrainerRunner.Run(new TrainRequest($"job-{model}", 1, model, "realistic", hyper, "host", ["elliott-thinkpad"], 0, build.DataDir,
                tmp.Combine("artifacts", model), null), _ => { });
        var outDir = tmp.Combine("reports");
        var result = Evaluator.Evaluate(tmp.Combine("artifacts"), build.DataDir, outDir, ResampleUnit.Episodes, 50, 1);
        ComparisonReport.Write(result, outDir);
        Assert.Equal(2, result.Models.Count);

        var csvs = result.Models.Select(m => Path.Combine(outDir, $"{m.Name}_predictions.csv")).ToList();
        using var sklearn = JsonDocument.Parse(RunPython(csvs));
        foreach (var m in result.Models)
        {
            var figures = sklearn.RootElement.GetProperty(Path.Combine(outDir, $"{m.Name}_predictions.csv"));
            Assert.Equal(figures.GetProperty("macro").GetDouble(), m.TestMacroF1.Value, 12);
            foreach (var c in figures.GetProperty("per_class").EnumerateObject())
                Assert.Equal(c.Value.GetDouble(), m.TestClassF1[c.Name].Value, 12);
            // And the figure as the report's JSON carries it.
            using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, $"{m.Name}_eval.json")));
            Assert.Equal(figures.GetProperty("macro").GetDouble(),
                json.RootElement.GetProperty("evaluation").GetProperty("test_macro_f1").GetProperty("value").GetDouble(), 12);
        }
    }

    /// <summary>Debian's interpreter, where <c>python3-sklearn</c> installs (a pyenv or venv python3 first on PATH would not see it).</summary>
    private const string Python = "/usr/bin/python3";

    private static string RunPython(IEnumerable<string> args)
    {
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(Script);
        foreach (var a in args) start.ArgumentList.Add(a);
        Process process;
        try { process = Process.Start(start)!; }
        catch (System.ComponentModel.Win32Exception e)
        {
            Assert.Fail($"{Python} is not installed ({e.Message}): install python3-sklearn (TEST_APT_PACKAGES in ./cis490)");
            throw;
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            Assert.True(process.WaitForExit(TimeSpan.FromSeconds(120)), "python3 with scikit-learn did not finish in 120 s");
            Assert.True(process.ExitCode == 0, $"python3 exited {process.ExitCode.ToString(CultureInfo.InvariantCulture)}: {stderr.Result}");
            return stdout.Result;
        }
    }
}
