using System.Globalization;
using MLNet.Optimizers.Comparison;
using Spectre.Console;

namespace OptimizerComparisonSample;

/// <summary>The console side of a comparison: live progress (cleared when done) and a leaderboard that fits 80 columns.</summary>
internal static class ConsoleReport
{
    private const int RowsShown = 10;

    public static ComparisonResult RunWithProgress(OptimizerComparison comparison, OptimizerComparisonOptions options, CancellationToken cancellationToken)
    {
        if (!AnsiConsole.Profile.Capabilities.Interactive || Console.IsOutputRedirected)
        {
            // Not a terminal (CI, a pipe): one plain line per rung instead of a live bar.
            int lastRung = -1;
            return comparison.Run(options, new SynchronousProgress(p =>
            {
                if (p.Rung != lastRung)
                {
                    lastRung = p.Rung;
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  rung {p.Rung + 1}/{p.RungCount}: {p.RungEpochs} epochs per candidate, at {p.Elapsed.TotalSeconds:0.0} s"));
                }
            }), cancellationToken);
        }

        ComparisonResult? result = null;
        AnsiConsole.Progress()
            .AutoClear(true)
            .HideCompleted(true)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn { Width = 20 }, new PercentageColumn())
            .Start(context =>
            {
                ProgressTask work = context.AddTask("starting", maxValue: 1);
                ProgressTask time = context.AddTask("time budget", maxValue: options.TimeBudget.TotalSeconds);
                result = comparison.Run(options, new SynchronousProgress(p =>
                {
                    work.MaxValue = p.PlannedTrials;
                    work.Value = p.Trial - 1 + (double)p.Epoch / p.RungEpochs;
                    string candidate = p.Candidate.Length > 24 ? p.Candidate[..24] : p.Candidate;
                    work.Description = Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                        $"rung {p.Rung + 1}/{p.RungCount} {candidate,-24} fold {p.Fold + 1}"));
                    time.Value = Math.Min(p.Elapsed.TotalSeconds, options.TimeBudget.TotalSeconds);
                }), cancellationToken);
            });
        return result!;
    }

    /// <summary>The first rows of the leaderboard: rank, optimizer, learning rate, primary metric ± std, epochs, status, fit time.</summary>
    public static void ShowLeaderboard(ComparisonResult result)
    {
        string metric = ComparisonMetrics.ShortName(result.PrimaryMetric);
        var table = new Table().Border(TableBorder.Simple)
            .AddColumn(new TableColumn("#").RightAligned().Padding(0, 0, 1, 0))
            .AddColumn(new TableColumn("Optimizer").NoWrap().Padding(0, 0, 1, 0))
            .AddColumn(new TableColumn("LR").RightAligned().Padding(0, 0, 1, 0))
            .AddColumn(new TableColumn(HeaderLines(metric)).RightAligned().Padding(0, 0, 1, 0))
            .AddColumn(new TableColumn("±").RightAligned().Padding(0, 0, 1, 0))
            .AddColumn(new TableColumn("Epochs").RightAligned().Padding(0, 0, 1, 0))
            .AddColumn(new TableColumn("Status").NoWrap().Padding(0, 0, 1, 0))
            .AddColumn(new TableColumn("Fit s").RightAligned().Padding(0, 0, 0, 0));
        foreach (LeaderboardRow row in result.Leaderboard.Take(RowsShown))
        {
            bool has = row.Metrics.TryGetValue(result.PrimaryMetric, out MetricSummary? summary);
            table.AddRow(
                Invariant(row.Rank),
                Markup.Escape(row.Name),
                row.LearningRate.ToString("G3", CultureInfo.InvariantCulture),
                has ? summary!.Mean.ToString("F4", CultureInfo.InvariantCulture) : "–",
                has ? summary!.StandardDeviation.ToString("F4", CultureInfo.InvariantCulture) : "",
                Invariant(row.EpochsTrained),
                row.Status == CandidateStatus.Finished ? "[green]Finished[/]" : row.Status.ToString(),
                row.FitTime.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture));
        }

        AnsiConsole.Write(table);
        int hidden = result.Leaderboard.Count - RowsShown;
        string more = hidden > 0 ? FormattableString.Invariant($"; {hidden} more rows in leaderboard.md.") : ".";
        AnsiConsole.WriteLine(FormattableString.Invariant(
            $"{metric}: mean and std over {result.NumberOfFolds} folds, each candidate at its best epochs; rungs of ") +
            FormattableString.Invariant($"{string.Join("/", result.RungEpochs)} epochs; {result.Elapsed.TotalSeconds:0.0} s{more}"));
    }

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// A long metric name over two lines at its inner capital ("Macro" / "Accuracy"), so its column is as narrow as its
    /// values and the table keeps every optimizer name and status on one line at 80 columns.
    /// </summary>
    private static string HeaderLines(string metric)
    {
        int split = metric.Length > 8 ? metric.IndexOfAny("ABCDEFGHIJKLMNOPQRSTUVWXYZ".ToCharArray(), 1) : -1;
        return split > 0 ? metric[..split] + "\n" + metric[split..] : metric;
    }
}

/// <summary>Runs the callback on the reporting thread, so the progress display is updated as the work happens.</summary>
internal sealed class SynchronousProgress(Action<ComparisonProgress> report) : IProgress<ComparisonProgress>
{
    public void Report(ComparisonProgress value) => report(value);
}
