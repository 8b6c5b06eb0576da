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
/// The top candidates of the leaderboard are drawn in distinct colours and named in the legend (rank, optimizer, learning
/// rate); the others are thin grey lines. The y axis spans the curves that behave: a curve that explodes above it is clipped at
/// the top edge and marked with a triangle, one that diverges (non-finite loss) ends with a cross. Rendering is headless.
/// </summary>
public static class ConvergencePlot
{
    /// <summary>How many of the leaderboard's top candidates are highlighted and named.</summary>
    public const int HighlightedCount = 6;

    private const int Width = 1100;
    private const int Height = 650;
    private static readonly string Grey = "#c8c8c8";

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

    /// <summary>
    /// Each candidate's line colour as <c>#rrggbb</c>, by candidate index: a distinct colour for each of the
    /// <see cref="HighlightedCount"/> best-ranked candidates with a result, grey for the others.
    /// </summary>
    /// <param name="result">The comparison.</param>
    public static IReadOnlyDictionary<int, string> SeriesColors(ComparisonResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var palette = new ScottPlot.Palettes.Category10();
        var colors = result.Curves.ToDictionary(curve => curve.CandidateIndex, _ => Grey);
        foreach ((LeaderboardRow row, int position) in Highlighted(result).Select((row, i) => (row, i)))
        {
            colors[row.CandidateIndex] = palette.GetColor(position).ToHex().ToLowerInvariant()[..7];
        }

        return colors;
    }

    private static IEnumerable<LeaderboardRow> Highlighted(ComparisonResult result) =>
        result.Leaderboard.Where(row => row.BestRung >= 0).Take(HighlightedCount);

    private static Plot Build(ComparisonResult result, ConvergenceLoss loss)
    {
        ArgumentNullException.ThrowIfNull(result);
        IReadOnlyDictionary<int, string> colors = SeriesColors(result);
        LeaderboardRow[] highlighted = [.. Highlighted(result)];
        IReadOnlyList<double> Values(ConvergenceCurve curve) => loss == ConvergenceLoss.Training ? curve.TrainingLoss : curve.ValidationLoss;
        (double bottom, double top) = AxisRange(result.Curves.Select(Values));
        var plot = new Plot();
        int clipped = 0, diverged = 0;

        // Grey curves first, the highlighted ones on top, best last so that it is drawn over the others.
        IEnumerable<ConvergenceCurve> order = result.Curves.Where(c => highlighted.All(h => h.CandidateIndex != c.CandidateIndex))
            .Concat(highlighted.Reverse().Select(h => result.Curves.Single(c => c.CandidateIndex == h.CandidateIndex)));
        foreach (ConvergenceCurve curve in order)
        {
            LeaderboardRow? named = highlighted.FirstOrDefault(h => h.CandidateIndex == curve.CandidateIndex);
            Color color = Color.FromHex(colors[curve.CandidateIndex]);
            (double[] xs, double[] ys, bool exploded, bool ended) = Points(Values(curve), top);
            if (xs.Length == 0)
            {
                continue;
            }

            var line = plot.Add.ScatterLine(xs, ys, color);
            line.LineWidth = named is null ? 1 : 2.5f;
            line.MarkerSize = xs.Length == 1 ? 5 : 0;
            if (exploded)
            {
                clipped++;
                plot.Add.Marker(xs[^1], ys[^1], MarkerShape.FilledTriangleUp, 9, color);
            }
            else if (ended)
            {
                diverged++;
                plot.Add.Marker(xs[^1], ys[^1], MarkerShape.Eks, 9, color);
            }
        }

        plot.Axes.SetLimitsY(Math.Log10(bottom), Math.Log10(top));
        plot.Axes.Left.TickGenerator = LogTicks(bottom, top);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        plot.Axes.Left.Label.Text = (loss == ConvergenceLoss.Training ? "training" : "held-out") + " loss, mean over folds (log scale)";
        plot.Axes.Bottom.Label.Text = "epoch";
        string marks = (clipped > 0 ? $"; ▲ {clipped} clipped (exploded)" : "") + (diverged > 0 ? $"; × {diverged} diverged" : "");
        plot.Title(string.Create(CultureInfo.InvariantCulture,
            $"{result.DataSetName ?? CsvDataSet.TaskName(result.Task)}: {(loss == ConvergenceLoss.Training ? "training" : "held-out")} loss per epoch, " +
            $"top {highlighted.Length} of {result.Curves.Count(c => Values(c).Count > 0)} candidates{marks}"));
        plot.Grid.MinorLineWidth = 1;
        foreach (LeaderboardRow named in highlighted)
        {
            plot.Legend.ManualItems.Add(new LegendItem
            {
                LabelText = string.Create(CultureInfo.InvariantCulture,
                    $"#{named.Rank} {named.Name} lr={named.LearningRate:G3}, {named.EpochsTrained} ep"),
                LineColor = Color.FromHex(colors[named.CandidateIndex]),
                LineWidth = 2.5f,
            });
        }

        plot.ShowLegend(Edge.Right);
        return plot;
    }

    /// <summary>
    /// The y range: from the lowest finite loss to a top that ignores explosions — 1.5 times the 90th percentile of the
    /// curves' first losses (where every sane run starts), but at least the highest loss of the curves that stay under it.
    /// </summary>
    internal static (double Bottom, double Top) AxisRange(IEnumerable<IReadOnlyList<double>> curves)
    {
        double[][] finite = [.. curves.Select(c => c.Where(v => v > 0 && double.IsFinite(v)).ToArray()).Where(c => c.Length > 0)];
        if (finite.Length == 0)
        {
            return (0.1, 10);
        }

        double[] starts = [.. finite.Select(c => c[0]).Order()];
        double cap = 1.5 * starts[(int)Math.Floor(0.9 * (starts.Length - 1))];
        double top = Math.Max(cap, finite.Where(c => c.Max() <= cap).Select(c => c.Max()).DefaultIfEmpty(cap).Max());
        double bottom = finite.Min(c => c.Min());
        return (bottom / 1.1, top * 1.1);
    }

    /// <summary>The curve's points in log10, cut at the first value above <paramref name="top"/> (kept at the edge) or non-finite.</summary>
    private static (double[] Xs, double[] Ys, bool Exploded, bool Ended) Points(IReadOnlyList<double> values, double top)
    {
        var xs = new List<double>();
        var ys = new List<double>();
        for (int epoch = 0; epoch < values.Count; epoch++)
        {
            double value = values[epoch];
            if (!double.IsFinite(value) || value <= 0)
            {
                return ([.. xs], [.. ys], false, xs.Count > 0);
            }

            xs.Add(epoch + 1);
            if (value > top)
            {
                ys.Add(Math.Log10(top));
                return ([.. xs], [.. ys], true, false);
            }

            ys.Add(Math.Log10(value));
        }

        return ([.. xs], [.. ys], false, false);
    }

    /// <summary>Ticks at 1, 2 and 5 times the powers of ten in the range (every integer multiple when the range is narrow), labelled with the loss.</summary>
    private static ScottPlot.TickGenerators.NumericManual LogTicks(double bottom, double top)
    {
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        double[] candidates = [.. Enumerable.Range((int)Math.Floor(Math.Log10(bottom)), (int)Math.Ceiling(Math.Log10(top)) - (int)Math.Floor(Math.Log10(bottom)) + 1)
            .SelectMany(power => Enumerable.Range(1, 9).Select(m => m * Math.Pow(10, power)))
            .Where(v => v >= bottom && v <= top)];
        double[] major = [.. candidates.Where(v => Leading(v) is 1 or 2 or 5)];
        if (major.Length < 3)
        {
            major = candidates;
        }

        foreach (double value in candidates)
        {
            if (major.Contains(value))
            {
                ticks.AddMajor(Math.Log10(value), TickLabel(value));
            }
            else
            {
                ticks.AddMinor(Math.Log10(value));
            }
        }

        return ticks;
    }

    /// <summary>0.05, 2, 500, 20000; beyond that 2e5, 5e-4.</summary>
    private static string TickLabel(double value)
    {
        if (value is >= 1e-3 and < 1e5)
        {
            return value.ToString("0.###", CultureInfo.InvariantCulture);
        }

        int exponent = (int)Math.Floor(Math.Log10(value) + 1e-9);
        return string.Create(CultureInfo.InvariantCulture, $"{Leading(value)}e{exponent}");
    }

    private static int Leading(double value) => (int)Math.Round(value / Math.Pow(10, Math.Floor(Math.Log10(value) + 1e-9)));
}
