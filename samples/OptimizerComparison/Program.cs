using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using MLNet.Optimizers.Comparison;
using OptimizerComparisonSample;
using Spectre.Console;

// Compares every optimizer (each over a learning-rate grid) by 5-fold cross-validation with successive halving, prints the
// leaderboard, and writes reports and the best model. With no arguments: breast_cancer (binary) and digits (multiclass).
const string Usage =
    "usage: OptimizerComparison [--data FILE.csv] [--label COLUMN] [--task binary|multiclass|regression] [--folds K] " +
    "[--budget SECONDS] [--seed N] [--out DIR]";

try
{
    var settings = Settings.Parse(args);
    if (settings.Help)
    {
        Console.WriteLine(Usage);
        Console.WriteLine("  --data    a CSV file with a header; every numeric column but the label is a feature (default: the embedded breast_cancer and digits)");
        Console.WriteLine("  --label   the label column (default: 'Label', else the last column)");
        Console.WriteLine("  --task    binary, multiclass or regression (default: inferred from the label)");
        Console.WriteLine("  --folds   cross-validation folds (default 5)");
        Console.WriteLine("  --budget  seconds for the whole run, all data sets together (default 60)");
        Console.WriteLine("  --seed    seed of the folds and training runs (default 0)");
        Console.WriteLine("  --out     output folder (default ./optimizer-comparison)");
        return 0;
    }

    CsvDataset[] datasets = settings.DataPath is null
        ? [CsvDataset.Inspect(Embedded("breast_cancer.csv"), "Label", ComparisonTask.BinaryClassification),
           CsvDataset.Inspect(Embedded("digits.csv"), "Label", ComparisonTask.MulticlassClassification)]
        : [CsvDataset.Inspect(settings.DataPath, settings.Label, settings.Task)];
    string outputRoot = Path.GetFullPath(settings.OutputDirectory);
    bool interactive = AnsiConsole.Profile.Capabilities.Interactive && !Console.IsOutputRedirected;
    if (!interactive)
    {
        AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 160);
    }

    var total = Stopwatch.StartNew();
    foreach ((CsvDataset dataset, int index) in datasets.Select((d, i) => (d, i)))
    {
        // Each data set gets an equal share of what is left of the budget.
        TimeSpan budget = (settings.Budget - total.Elapsed) / (datasets.Length - index);
        if (budget <= TimeSpan.Zero)
        {
            throw new UsageException($"the budget of {settings.Budget.TotalSeconds:0.#} s ran out before '{dataset.Name}'; raise --budget.");
        }

        AnsiConsole.MarkupLine($"[bold]{Markup.Escape(dataset.Name)}[/]: {dataset.RowCount} rows, {dataset.FeatureCount} features, " +
            $"{Markup.Escape(TaskName(dataset.Task))}{(dataset.ClassCount > 2 ? $" ({dataset.ClassCount} classes)" : "")}, " +
            $"{settings.Folds}-fold CV, budget {budget.TotalSeconds:0} s");
        var mlContext = new MLContext(seed: settings.Seed);
        var options = new OptimizerComparisonOptions
        {
            Data = dataset.Load(mlContext),
            Task = dataset.Task,
            LabelColumnName = dataset.LabelColumnName,
            FeatureColumnName = dataset.FeatureColumnName,
            PipelinePrefix = mlContext.Transforms.NormalizeMeanVariance(dataset.FeatureColumnName),
            NumberOfFolds = settings.Folds,
            Seed = settings.Seed,
            TimeBudget = budget,
        };
        ComparisonResult result = RunWithProgress(new OptimizerComparison(mlContext), options, dataset.Name, interactive);
        ShowLeaderboard(result);

        string directory = Path.Combine(outputRoot, dataset.Name);
        ComparisonReportFiles files = ComparisonReport.WriteAll(result, directory);
        string model = Path.Combine(directory, "model.zip");
        result.SaveBestModel(mlContext, model);
        AnsiConsole.MarkupLine($"[green]{Markup.Escape(ComparisonReport.BestLine(result))}[/] To train it:");
        AnsiConsole.WriteLine(result.Best.ToCSharp());
        AnsiConsole.MarkupLine($"Model: {Markup.Escape(model)}; report: {Markup.Escape(files.Html)}");
        AnsiConsole.WriteLine();
    }

    AnsiConsole.MarkupLine($"Done in {total.Elapsed.TotalSeconds:0.0} s. Reports and models are in [bold]{Markup.Escape(outputRoot)}[/]");
    return 0;
}
catch (Exception error) when (error is UsageException or ArgumentException or FormatException or IOException)
{
    Console.Error.WriteLine($"error: {OneLine(error.Message)}");
    return 2;
}
catch (Exception error)
{
    Console.Error.WriteLine($"failed: {error.GetType().Name}: {OneLine(error.Message)}");
    return 1;
}

static string Embedded(string file) => Path.Combine(AppContext.BaseDirectory, "data", file);

static string OneLine(string text) => text.ReplaceLineEndings(" ");

static string TaskName(ComparisonTask task) => task switch
{
    ComparisonTask.BinaryClassification => "binary classification",
    ComparisonTask.MulticlassClassification => "multiclass classification",
    _ => "regression",
};

static ComparisonResult RunWithProgress(OptimizerComparison comparison, OptimizerComparisonOptions options, string name, bool interactive)
{
    if (!interactive)
    {
        // Not a terminal (CI, a pipe): one plain line per rung instead of a live bar.
        int lastRung = -1;
        return comparison.Run(options, new SynchronousProgress(p =>
        {
            if (p.Rung != lastRung)
            {
                lastRung = p.Rung;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  rung {p.Rung + 1}/{p.RungCount}: {p.RungEpochs} epochs per candidate, elapsed {p.Elapsed.TotalSeconds:0.0} s"));
            }
        }));
    }

    ComparisonResult? result = null;
    AnsiConsole.Progress()
        .AutoClear(false)
        .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
        .Start(context =>
        {
            ProgressTask work = context.AddTask(Markup.Escape(name), maxValue: 1);
            ProgressTask time = context.AddTask("time budget", maxValue: options.TimeBudget.TotalSeconds);
            result = comparison.Run(options, new SynchronousProgress(p =>
            {
                work.MaxValue = p.PlannedTrials;
                work.Value = p.Trial - 1 + (double)p.Epoch / p.RungEpochs;
                work.Description = Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                    $"{name} rung {p.Rung + 1}/{p.RungCount} ({p.RungEpochs} ep) {p.Candidate} fold {p.Fold + 1}"));
                time.Value = Math.Min(p.Elapsed.TotalSeconds, options.TimeBudget.TotalSeconds);
            }));
            work.Value = work.MaxValue;
            time.StopTask();
        });
    return result!;
}

static void ShowLeaderboard(ComparisonResult result)
{
    const int shown = 15;
    var table = new Table().Border(TableBorder.Rounded)
        .AddColumn("#").AddColumn("Optimizer").AddColumn(new TableColumn("LR").RightAligned());
    foreach (ComparisonMetric metric in result.Metrics)
    {
        table.AddColumn(new TableColumn(ComparisonMetrics.ShortName(metric) + (metric == result.PrimaryMetric ? " *" : "")).RightAligned());
    }

    table.AddColumn(new TableColumn("Epochs").RightAligned()).AddColumn("Status").AddColumn(new TableColumn("Fit s").RightAligned());
    foreach (LeaderboardRow row in result.Leaderboard.Take(shown))
    {
        var cells = new List<string>
        {
            row.Rank.ToString(CultureInfo.InvariantCulture),
            Markup.Escape(row.Name),
            row.LearningRate.ToString("G3", CultureInfo.InvariantCulture),
        };
        cells.AddRange(result.Metrics.Select(metric => row.Metrics.TryGetValue(metric, out var s)
            ? string.Create(CultureInfo.InvariantCulture, $"{s.Mean:F4} ± {s.StandardDeviation:F4}")
            : "–"));
        cells.Add(row.EpochsTrained.ToString(CultureInfo.InvariantCulture));
        cells.Add(row.Status == CandidateStatus.Finished ? "[green]Finished[/]" : row.Status.ToString());
        cells.Add(row.FitTime.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture));
        table.AddRow([.. cells]);
    }

    int hidden = result.Leaderboard.Count - shown;
    table.Caption(string.Create(CultureInfo.InvariantCulture,
        $"* primary metric; mean ± std over {result.NumberOfFolds} folds; rungs of {string.Join("/", result.RungEpochs)} epochs; " +
        $"{result.Elapsed.TotalSeconds:0.0} s{(result.BudgetExhausted ? " (budget reached)" : "")}" +
        $"{(hidden > 0 ? $"; {hidden} more rows in leaderboard.md" : "")}"));
    AnsiConsole.Write(table);
}

/// <summary>Runs the callback on the reporting thread, so the progress display is updated as the work happens.</summary>
internal sealed class SynchronousProgress(Action<ComparisonProgress> report) : IProgress<ComparisonProgress>
{
    public void Report(ComparisonProgress value) => report(value);
}
