using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using MLNet.Optimizers.Comparison;
using MLNet.Optimizers.Training;
using OptimizerComparisonSample;
using Spectre.Console;

// Compares every optimizer (each over a learning-rate grid) by cross-validation with successive halving on a CSV file, prints
// the leaderboard and the winner's trainer settings, and writes reports and the refitted model (the whole pipeline from the
// raw CSV columns). With no --data: the embedded breast_cancer (binary) and digits (multiclass).
// Exit codes: 0 done, 1 failure, 2 bad command line or data, 130 cancelled (Ctrl+C).
using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancellation.Cancel();
};

ICommunicator? communicator = null;
RootCommand root = CommandLine.Create(settings => Comparison.Run(settings, communicator!, cancellation.Token));
ParseResult parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    Console.Error.WriteLine($"error: {Comparison.OneLine(parsed.Errors[0].Message)} Run with --help for the options.");
    return 2;
}

// Under mpirun every rank runs this program with the same arguments: the ranks share the trials and rank 0 alone prints and
// writes the reports.
try
{
    communicator = Ranks.Start();
}
catch (DllNotFoundException error)
{
    Console.Error.WriteLine($"error: started by an MPI launcher but {Comparison.OneLine(error.Message)}");
    return 1;
}

return Ranks.Stop(communicator, parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null }));

namespace OptimizerComparisonSample
{
    /// <summary>The main job: inspect each CSV, compare, show the leaderboard and the winner, write the reports.</summary>
    internal static class Comparison
    {
        private const int ExitCancelled = 130;

        public static int Run(Settings settings, ICommunicator communicator, CancellationToken cancellationToken)
        {
            try
            {
                var inspectOptions = new CsvDataSetOptions { LabelColumnName = settings.Label, Task = settings.Task, Separator = settings.Separator };
                CsvDataSet[] datasets = settings.DataPath is null
                    ? [CsvDataSet.Inspect(Embedded("breast_cancer.csv"), inspectOptions), CsvDataSet.Inspect(Embedded("digits.csv"), inspectOptions)]
                    : [CsvDataSet.Inspect(settings.DataPath, inspectOptions)];
                foreach (CsvDataSet dataset in datasets.Where(d => settings.Folds > d.RowCount - d.BlankLabelRows))
                {
                    throw new UsageException($"--folds {settings.Folds} is more than the {dataset.RowCount - dataset.BlankLabelRows} labelled rows of {dataset.Name}.");
                }

                string outputRoot = Path.GetFullPath(settings.OutputDirectory);
                var total = Stopwatch.StartNew();
                foreach ((CsvDataSet dataset, int index) in datasets.Select((d, i) => (d, i)))
                {
                    // Each data set gets an equal share of what is left of the budget, as rank 0's clock tells.
                    TimeSpan budget = Ranks.FromRankZero(communicator, (settings.Budget - total.Elapsed) / (datasets.Length - index));
                    if (budget <= TimeSpan.Zero)
                    {
                        throw new UsageException($"--budget {settings.Budget.TotalSeconds:0} s ran out before {dataset.Name}; raise it.");
                    }

                    if (!Compare(dataset, settings, communicator, budget, Path.Combine(outputRoot, dataset.Name), cancellationToken))
                    {
                        return ExitCancelled;
                    }
                }

                AnsiConsole.MarkupLine($"Done in {total.Elapsed.TotalSeconds:0.0} s. Reports and models are in [bold]{Markup.Escape(Shown(outputRoot))}[/]");
                return 0;
            }
            catch (CsvDataException error)
            {
                string? flag = CommandLine.FlagOf(error.Setting);
                Console.Error.WriteLine($"error: {(flag is null ? "" : flag + ": ")}{OneLine(error.Message)}");
                return 2;
            }
            catch (TimeoutException error)
            {
                Console.Error.WriteLine($"error: --budget: {OneLine(error.Message)}");
                return 2;
            }
            catch (OperationCanceledException)
            {
                Console.Error.WriteLine("Cancelled before any candidate completed its first rung; nothing written.");
                return ExitCancelled;
            }
            catch (Exception error) when (error is UsageException or ArgumentException or IOException)
            {
                Console.Error.WriteLine($"error: {OneLine(error.Message)}");
                return 2;
            }
            catch (Exception error)
            {
                Console.Error.WriteLine($"failed: {error.GetType().Name}: {OneLine(error.Message)}");
                return 1;
            }
        }

        /// <summary>Runs one data set; false when it was cancelled (its reports then hold what completed).</summary>
        private static bool Compare(CsvDataSet dataset, Settings settings, ICommunicator communicator, TimeSpan budget, string directory,
            CancellationToken cancellationToken)
        {
            foreach (string line in dataset.Describe())
            {
                AnsiConsole.WriteLine(line);
            }

            AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{settings.Folds}-fold cross-validation, budget {budget.TotalSeconds:0} s"));
            var mlContext = new MLContext(seed: settings.Seed);
            OptimizerComparisonOptions options = dataset.CreateComparisonOptions(mlContext);
            options.DataSetName = dataset.Name;
            options.NumberOfFolds = settings.Folds;
            options.Seed = settings.Seed;
            options.TimeBudget = budget;
            options.Communicator = communicator;
            ComparisonResult result = ConsoleReport.RunWithProgress(new OptimizerComparison(mlContext), options, cancellationToken);
            if (communicator.Rank != 0)
            {
                return !result.Cancelled;
            }


            ConsoleReport.ShowLeaderboard(result);
            if (ComparisonReport.BudgetLine(result) is string cut)
            {
                AnsiConsole.MarkupLine($"[yellow]{Markup.Escape(cut)}[/]");
            }
            ComparisonReportFiles files = ComparisonReport.WriteAll(result, directory, mlContext, dataset.CreateLoader(mlContext));
            if (result.Cancelled)
            {
                AnsiConsole.MarkupLine($"[yellow]Cancelled[/]: reports for what completed are in {Markup.Escape(Shown(directory))}.");
                return false;
            }

            AnsiConsole.MarkupLine($"[green]{Markup.Escape(ComparisonReport.BestLine(result))}[/] To train it:");
            Console.WriteLine(result.Best.ToCSharp());
            AnsiConsole.MarkupLine($"Model: {Markup.Escape(Shown(files.Model!))}");
            AnsiConsole.MarkupLine($"Report: {Markup.Escape(Shown(files.Html))}");
            AnsiConsole.WriteLine();
            return true;
        }

        public static string OneLine(string text) => text.ReplaceLineEndings(" ");

        /// <summary>The path relative to the current folder when it is inside it, so that lines stay short.</summary>
        public static string Shown(string path)
        {
            string relative = Path.GetRelativePath(Environment.CurrentDirectory, path);
            return relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative) ? path : relative;
        }

        private static string Embedded(string file) => Path.Combine(AppContext.BaseDirectory, "data", file);
    }

    /// <summary>A problem with the command line or the data that the user can fix; reported as one line, exit code 2.</summary>
    internal sealed class UsageException(string message) : Exception(message);
}
