using System.Globalization;
using ScottPlot;

namespace MLNet.Optimizers.Comparison;

/// <summary>Which loss a convergence plot shows.</summary>
public enum ConvergenceLoss
{
    /// <summary>The training loss reported after each epoch (mean over folds).</summary>
    Training,

    /// <summary>The held-out fold's loss after each epoch (mean over folds).</summary>
    Validation,
}

/// <summary>
/// Draws every candidate's convergence curve on one chart (loss on a log scale against epochs) with ScottPlot, as PNG or SVG.
/// Each candidate is one line in its own colour: a hue per optimizer family and a shade per learning rate; finalists are drawn
/// thicker. Rendering is headless: SkiaSharp's bundled native library, no display needed.
/// </summary>
public static class ConvergencePlot
{
    private const int Width = 1100;
    private const int Height = 650;

    /// <summary>Writes the chart as a PNG file.</summary>
    /// <param name="result">The comparison.</param>
    /// <param name="loss">Training or validation loss.</param>
    /// <param name="path">The file to write.</param>
    public static void SavePng(ComparisonResult result, ConvergenceLoss loss, string path) => Build(result, loss).SavePng(path, Width, Height);

    /// <summary>Writes the chart as an SVG file.</summary>
    /// <param name="result">The comparison.</param>
    /// <param name="loss">Training or validation loss.</param>
    /// <param name="path">The file to write.</param>
    public static void SaveSvg(ComparisonResult result, ConvergenceLoss loss, string path) => Build(result, loss).SaveSvg(path, Width, Height);

    /// <summary>The PNG bytes of the chart (for embedding).</summary>
    /// <param name="result">The comparison.</param>
    /// <param name="loss">Training or validation loss.</param>
    public static byte[] PngBytes(ComparisonResult result, ConvergenceLoss loss) => Build(result, loss).GetImageBytes(Width, Height, ImageFormat.Png);

    /// <summary>Each candidate's line colour as <c>#rrggbb</c>, by candidate index; distinct for every candidate.</summary>
    /// <param name="result">The comparison.</param>
    public static IReadOnlyDictionary<int, string> SeriesColors(ComparisonResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        string[] families = [.. result.Curves.Select(c => c.Name).Distinct(StringComparer.Ordinal)];
        var colors = new Dictionary<int, string>();
        var used = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var family in result.Curves.GroupBy(c => c.Name, StringComparer.Ordinal))
        {
            double hue = 360.0 * Array.IndexOf(families, family.Key) / families.Length;
            ConvergenceCurve[] members = [.. family];
            for (int i = 0; i < members.Length; i++)
            {
                // Shades from dark to light within a family; nudge until unique so every series stays identifiable.
                double lightness = members.Length == 1 ? 0.45 : 0.28 + 0.42 * i / (members.Length - 1);
                string hex = Hex(hue, 0.75, lightness);
                for (int nudge = 1; !used.Add(hex); nudge++)
                {
                    hex = Hex(hue, 0.75, Math.Clamp(lightness + 0.004 * nudge, 0, 1));
                }

                colors[members[i].CandidateIndex] = hex;
            }
        }

        return colors;
    }

    private static Plot Build(ComparisonResult result, ConvergenceLoss loss)
    {
        ArgumentNullException.ThrowIfNull(result);
        IReadOnlyDictionary<int, string> colors = SeriesColors(result);
        var finalists = result.Leaderboard.Where(r => r.Status == CandidateStatus.Finished).Select(r => r.CandidateIndex).ToHashSet();
        var plot = new Plot();
        foreach (ConvergenceCurve curve in result.Curves)
        {
            IReadOnlyList<double> values = loss == ConvergenceLoss.Training ? curve.TrainingLoss : curve.ValidationLoss;
            var xs = new List<double>();
            var ys = new List<double>();
            for (int epoch = 0; epoch < values.Count; epoch++)
            {
                if (values[epoch] > 0 && double.IsFinite(values[epoch]))
                {
                    xs.Add(epoch + 1);
                    ys.Add(Math.Log10(values[epoch]));
                }
            }

            if (xs.Count == 0)
            {
                continue;
            }

            var line = plot.Add.ScatterLine(xs.ToArray(), ys.ToArray(), Color.FromHex(colors[curve.CandidateIndex]));
            line.LineWidth = finalists.Contains(curve.CandidateIndex) ? 2.5f : 1f;
            line.MarkerSize = xs.Count == 1 ? 4 : 0;
        }

        var ticks = new ScottPlot.TickGenerators.NumericAutomatic
        {
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            IntegerTicksOnly = true,
            LabelFormatter = y => Math.Pow(10, y).ToString("G3", CultureInfo.InvariantCulture),
        };
        plot.Axes.Left.TickGenerator = ticks;
        plot.Axes.Left.Label.Text = (loss == ConvergenceLoss.Training ? "training" : "held-out") + " loss (log scale, mean over folds)";
        plot.Axes.Bottom.Label.Text = "epoch";
        plot.Title($"{result.Task}: {(loss == ConvergenceLoss.Training ? "training" : "validation")} loss per epoch, {result.Curves.Count} candidates (thick: finalists)");
        plot.Grid.MinorLineWidth = 1;

        // One legend entry per optimizer family that has a curve (its middle shade): the learning-rate grid would not fit as entries.
        foreach (var family in result.Curves.Where(c => c.TrainingLoss.Count > 0).GroupBy(c => c.Name, StringComparer.Ordinal))
        {
            ConvergenceCurve[] members = [.. family];
            plot.Legend.ManualItems.Add(new LegendItem
            {
                LabelText = family.Key,
                LineColor = Color.FromHex(colors[members[members.Length / 2].CandidateIndex]),
                LineWidth = 3,
            });
        }

        plot.ShowLegend(Edge.Right);
        return plot;
    }

    private static string Hex(double hue, double saturation, double lightness)
    {
        // HSL to RGB (CSS Color 4 formula).
        double Channel(double n)
        {
            double k = (n + hue / 30) % 12;
            double a = saturation * Math.Min(lightness, 1 - lightness);
            return lightness - a * Math.Max(-1, Math.Min(Math.Min(k - 3, 9 - k), 1));
        }

        static int Byte(double v) => (int)Math.Round(Math.Clamp(v, 0, 1) * 255);
        return string.Create(CultureInfo.InvariantCulture, $"#{Byte(Channel(0)):x2}{Byte(Channel(8)):x2}{Byte(Channel(4)):x2}");
    }
}
