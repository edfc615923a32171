using ScottPlot;

namespace Cis490.Training.Evaluation;

/// <summary>The report's pictures (ScottPlot, PNG): a macro-F1-with-CI chart per mode and a confusion matrix per model.</summary>
public static class Charts
{
    /// <summary>Bars of test macro F1 with 95 % CI whiskers, best first, and validation macro F1 as markers for the val/test gap.</summary>
    public static void MacroF1(string path, string title, IReadOnlyList<ModelEvaluation> models)
    {
        var plot = new Plot();
        var ordered = models.OrderByDescending(m => m.TestMacroF1.Value).ToList();
        for (var i = 0; i < ordered.Count; i++)
        {
            var m = ordered[i];
            var bar = plot.Add.Bar(i, Safe(m.TestMacroF1.Value));
            bar.Color = Colors.SteelBlue;
            // The CI is asymmetric, so the whisker is a line from its low to its high bound with short caps.
            foreach (var (x1, y1, x2, y2) in new[]
                     {
                         (i, m.TestMacroF1.Low, i, m.TestMacroF1.High),
                         (i - 0.1, m.TestMacroF1.Low, i + 0.1, m.TestMacroF1.Low),
                         (i - 0.1, m.TestMacroF1.High, i + 0.1, m.TestMacroF1.High),
                     })
            {
                var whisker = plot.Add.Line(x1, Safe(y1), x2, Safe(y2));
                whisker.Color = Colors.Black;
                whisker.LineWidth = 1.5f;
            }
            var val = plot.Add.Marker(i, Safe(m.ValMacroF1));
            val.Color = Colors.OrangeRed;
            val.MarkerSize = 9;
            val.MarkerShape = MarkerShape.FilledDiamond;
        }
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, ordered.Count).Select(i => (double)i).ToArray(), ordered.Select(m => m.Name).ToArray());
        plot.Axes.Bottom.TickLabelStyle.Rotation = 45;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;
        // Room below the axis for the longest rotated name.
        plot.Axes.Bottom.MinimumSize = 20 + 6 * ordered.Select(m => m.Name.Length).DefaultIfEmpty(10).Max();
        plot.Axes.SetLimitsY(0, 1);
        plot.Title($"{title}\nbars: test, 95 % CI · diamonds: validation");
        plot.YLabel("macro F1");
        plot.SavePng(path, Math.Max(640, 80 * ordered.Count + 200), 520 + (int)plot.Axes.Bottom.MinimumSize);
    }

    /// <summary>A confusion matrix as a labelled heat map (rows: true class, columns: predicted), counts in each cell.</summary>
    public static void Confusion(string path, string title, int[][] matrix, IReadOnlyList<string> classes)
    {
        var plot = new Plot();
        var n = classes.Count;
        var max = Math.Max(1, matrix.SelectMany(r => r).Max());
        for (var t = 0; t < n; t++)
            for (var p = 0; p < n; p++)
            {
                var shade = (byte)(255 - 200 * matrix[t][p] / max);
                var rect = plot.Add.Rectangle(p, p + 1, n - t - 1, n - t);
                rect.FillColor = new Color(shade, shade, 255);
                rect.LineColor = Colors.Gray;
                var label = plot.Add.Text(matrix[t][p].ToString(), p + 0.5, n - t - 0.5);
                label.LabelAlignment = Alignment.MiddleCenter;
                label.LabelFontSize = 14;
            }
        var ticks = Enumerable.Range(0, n).Select(i => i + 0.5).ToArray();
        plot.Axes.Bottom.SetTicks(ticks, classes.ToArray());
        plot.Axes.Left.SetTicks(ticks, classes.Reverse().ToArray());
        plot.Axes.SetLimits(0, n, 0, n);
        plot.XLabel("predicted");
        plot.YLabel("true");
        plot.Title(title);
        plot.SavePng(path, 560, 520);
    }

    /// <summary>Permutation importance: per model a group of bars, one per channel (validation macro F1 lost when it is shuffled),
    /// with 95 % CI whiskers.</summary>
    public static void Importance(string path, string title, IReadOnlyList<ModelEvaluation> models, IReadOnlyList<string> channels)
    {
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        var width = 0.8 / Math.Max(1, channels.Count);
        for (var c = 0; c < channels.Count; c++)
        {
            var bars = new List<Bar>();
            for (var i = 0; i < models.Count; i++)
            {
                var drop = models[i].Explanation!.Permutation.FirstOrDefault(p => p.Channel == channels[c])?.Drop;
                if (drop is null) continue;
                var x = i - 0.4 + width * (c + 0.5);
                bars.Add(new Bar { Position = x, Value = Safe(drop.Value), Size = width * 0.9, FillColor = palette.GetColor(c) });
                var whisker = plot.Add.Line(x, Safe(drop.Low), x, Safe(drop.High));
                whisker.Color = Colors.Black;
                whisker.LineWidth = 1;
            }
            var plottable = plot.Add.Bars(bars);
            plottable.LegendText = channels[c];
        }
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, models.Count).Select(i => (double)i).ToArray(), models.Select(m => m.Name).ToArray());
        plot.Axes.Bottom.TickLabelStyle.Rotation = 45;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;
        plot.Axes.Bottom.MinimumSize = 20 + 6 * models.Select(m => m.Name.Length).DefaultIfEmpty(10).Max();
        plot.ShowLegend(Alignment.UpperRight);
        plot.Title(title);
        plot.YLabel("validation macro F1 lost");
        plot.SavePng(path, Math.Max(700, 90 * models.Count + 200), 520 + (int)plot.Axes.Bottom.MinimumSize);
    }

    private static double Safe(double v) => double.IsFinite(v) ? v : 0;
}
