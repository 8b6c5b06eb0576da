using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNet.Optimizers.Comparison;

/// <summary>The files <see cref="ComparisonReport.WriteAll"/> wrote.</summary>
/// <param name="Directory">The output folder.</param>
/// <param name="Markdown">The leaderboard as a Markdown table.</param>
/// <param name="Csv">The leaderboard as CSV (one row per candidate, invariant culture).</param>
/// <param name="Json">The leaderboard, settings and convergence curves as JSON.</param>
/// <param name="TrainingLossPng">All candidates' training-loss curves, PNG.</param>
/// <param name="TrainingLossSvg">All candidates' training-loss curves, SVG.</param>
/// <param name="ValidationLossPng">All candidates' held-out-loss curves, PNG.</param>
/// <param name="ValidationLossSvg">All candidates' held-out-loss curves, SVG.</param>
/// <param name="Html">One self-contained HTML page: settings, winner, the plots embedded, leaderboard, and links to the files.</param>
/// <param name="Model">The refitted best model (<c>model.zip</c>), or null when none was written.</param>
public sealed record ComparisonReportFiles(string Directory, string Markdown, string Csv, string Json, string TrainingLossPng,
    string TrainingLossSvg, string ValidationLossPng, string ValidationLossSvg, string Html, string? Model = null);

/// <summary>Renders a <see cref="ComparisonResult"/> as Markdown, CSV, JSON and HTML, and writes them with the plots.</summary>
public static class ComparisonReport
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>
    /// Writes <c>leaderboard.md</c>, <c>leaderboard.csv</c>, <c>leaderboard.json</c>, <c>convergence-training.png/.svg</c>,
    /// <c>convergence-validation.png/.svg</c> and <c>report.html</c> into <paramref name="directory"/> (created if needed).
    /// </summary>
    /// <param name="result">The comparison.</param>
    /// <param name="directory">The output folder.</param>
    /// <param name="mlContext">When given (and the run was not cancelled), <c>model.zip</c> is written too and the page links it.</param>
    /// <param name="loader">The loader that read the data, saved into <c>model.zip</c> so that it scores the raw file; optional.</param>
    public static ComparisonReportFiles WriteAll(ComparisonResult result, string directory, MLContext? mlContext = null,
        IDataLoader<IMultiStreamSource>? loader = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        System.IO.Directory.CreateDirectory(directory);
        string In(string name) => Path.Combine(directory, name);
        string? model = mlContext is not null && result.BestModel is not null ? In("model.zip") : null;
        var files = new ComparisonReportFiles(Path.GetFullPath(directory), In("leaderboard.md"), In("leaderboard.csv"), In("leaderboard.json"),
            In("convergence-training.png"), In("convergence-training.svg"), In("convergence-validation.png"), In("convergence-validation.svg"),
            In("report.html"), model);
        if (model is not null)
        {
            if (loader is null)
            {
                result.SaveBestModel(mlContext!, model);
            }
            else
            {
                result.SaveBestModel(mlContext!, loader, model);
            }
        }

        File.WriteAllText(files.Markdown, ToMarkdown(result));
        File.WriteAllText(files.Csv, ToCsv(result));
        File.WriteAllText(files.Json, ToJson(result));
        ConvergencePlot.SavePng(result, ConvergenceLoss.Training, files.TrainingLossPng);
        ConvergencePlot.SaveSvg(result, ConvergenceLoss.Training, files.TrainingLossSvg);
        ConvergencePlot.SavePng(result, ConvergenceLoss.Validation, files.ValidationLossPng);
        ConvergencePlot.SaveSvg(result, ConvergenceLoss.Validation, files.ValidationLossSvg);
        File.WriteAllText(files.Html, ToHtml(result, files));
        return files;
    }

    /// <summary>The leaderboard as a Markdown table (metrics as mean ± standard deviation over folds).</summary>
    /// <param name="result">The comparison.</param>
    public static string ToMarkdown(ComparisonResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var text = new StringBuilder();
        text.AppendLine(Summary(result)).AppendLine();
        text.AppendLine(BestLine(result)).AppendLine();
        text.AppendLine("```csharp").AppendLine(result.Best.ToCSharp()).AppendLine("```").AppendLine();
        string[] header = Header(result);
        text.AppendLine("| " + string.Join(" | ", header) + " |");
        text.AppendLine("|" + string.Concat(header.Select(_ => "---|")));
        foreach (string[] cells in Cells(result))
        {
            text.AppendLine("| " + string.Join(" | ", cells.Select(c => c.ReplaceLineEndings(" ").Replace("|", "\\|", StringComparison.Ordinal))) + " |");
        }

        return text.ToString();
    }

    /// <summary>The leaderboard as CSV with a header row; numbers in invariant culture, full precision.</summary>
    /// <param name="result">The comparison.</param>
    public static string ToCsv(ComparisonResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var columns = new List<string> { "rank", "name", "learning_rate" };
        foreach (ComparisonMetric metric in result.Metrics)
        {
            string name = ComparisonMetrics.ShortName(metric).ToLowerInvariant();
            columns.Add(name + "_mean");
            columns.Add(name + "_std");
        }

        columns.AddRange(["final_training_loss", "epochs_to_within_1pct", "epochs_trained", "best_rung", "status", "fit_time_seconds", "configuration", "note"]);
        var text = new StringBuilder().AppendLine(string.Join(",", columns));
        foreach (LeaderboardRow row in result.Leaderboard)
        {
            var cells = new List<string> { Invariant(row.Rank), Quote(row.Name), Invariant(row.LearningRate) };
            foreach (ComparisonMetric metric in result.Metrics)
            {
                bool has = row.Metrics.TryGetValue(metric, out var summary);
                cells.Add(has ? Invariant(summary!.Mean) : "");
                cells.Add(has ? Invariant(summary!.StandardDeviation) : "");
            }

            cells.AddRange([row.FinalTrainingLoss is double loss ? Invariant(loss) : "", row.EpochsToWithinOnePercent?.ToString(CultureInfo.InvariantCulture) ?? "",
                Invariant(row.EpochsTrained), Invariant(row.BestRung + 1), row.Status.ToString(), Invariant(row.FitTime.TotalSeconds),
                Quote(row.Configuration), Quote(row.Note ?? "")]);
            text.AppendLine(string.Join(",", cells));
        }

        return text.ToString();
    }

    /// <summary>The settings, the leaderboard and the convergence curves as indented JSON (System.Text.Json; enums as names).</summary>
    /// <param name="result">The comparison.</param>
    public static string ToJson(ComparisonResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var document = new
        {
            result.Task,
            result.PrimaryMetric,
            result.NumberOfFolds,
            result.Seed,
            result.RungEpochs,
            TimeBudgetSeconds = result.TimeBudget.TotalSeconds,
            ElapsedSeconds = result.Elapsed.TotalSeconds,
            result.BudgetExhausted,
            Leaderboard = result.Leaderboard.Select(row => new
            {
                row.Rank,
                row.CandidateIndex,
                row.Name,
                row.Label,
                row.LearningRate,
                row.Configuration,
                Metrics = row.Metrics.ToDictionary(m => ComparisonMetrics.ShortName(m.Key), m => m.Value),
                row.PrimaryMetricMean,
                row.FinalTrainingLoss,
                row.EpochsToWithinOnePercent,
                FitTimeSeconds = row.FitTime.TotalSeconds,
                row.EpochsTrained,
                BestRung = row.BestRung + 1,
                RungReached = row.RungReached + 1,
                row.Status,
                row.Note,
                TrainerOptions = TrainerOptionsJson(row.TrainerOptions),
            }),
            result.Curves,
        };
        return JsonSerializer.Serialize(document, JsonOptions);
    }

    /// <summary>The settings that reproduce a row, as they appear in <c>leaderboard.json</c>.</summary>
    private static object TrainerOptionsJson(Trainers.LinearTrainerOptions options) => new
    {
        Optimizer = options.Optimizer.ToString(),
        options.BatchSize,
        options.NumberOfEpochs,
        options.L2Regularization,
        options.L1Regularization,
        options.Seed,
        options.Shuffle,
        options.LabelColumnName,
        options.FeatureColumnName,
    };

    /// <summary>
    /// One self-contained HTML page: the data set and settings, the winner with its C# snippet and a link to the model, both
    /// plots embedded as PNG, then the leaderboard in its own scrolling box, and links to the files.
    /// </summary>
    /// <param name="result">The comparison.</param>
    /// <param name="files">The files to link to (their names, relative to the page), or null for no links.</param>
    public static string ToHtml(ComparisonResult result, ComparisonReportFiles? files = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        static string E(string text) => WebUtility.HtmlEncode(text);
        static string Link(string path) => $"<a href=\"{E(Path.GetFileName(path))}\">{E(Path.GetFileName(path))}</a>";
        string title = Title(result);
        var html = new StringBuilder();
        html.AppendLine("<!DOCTYPE html>").AppendLine("<html lang=\"en\"><head><meta charset=\"utf-8\">")
            .AppendLine($"<title>{E(title)}</title>")
            .AppendLine("<style>body{font-family:system-ui,sans-serif;margin:1.5em 2em;color:#222;max-width:1300px}" +
                "pre{background:#f4f4f4;border:1px solid #ddd;padding:0.8em;overflow-x:auto;font-size:0.85em}" +
                ".board{max-height:32em;overflow:auto;border:1px solid #ccc}table{border-collapse:collapse;font-size:0.85em}" +
                "th{position:sticky;top:0;background:#eee}th,td{border:1px solid #ddd;padding:3px 6px;text-align:right;white-space:nowrap}" +
                "td.t,th.t{text-align:left}td.c{white-space:normal;min-width:28em;font-size:0.9em}tr:nth-child(even){background:#f8f8f8}" +
                "img{max-width:100%;border:1px solid #ddd;margin:0.5em 0}</style></head><body>")
            .AppendLine($"<h1>{E(title)}</h1>")
            .AppendLine($"<p>{E(Summary(result))}</p>");
        if (result.Cancelled)
        {
            html.AppendLine("<p><b>Cancelled:</b> the leaderboard shows what completed; no model was refitted.</p>");
        }

        html.AppendLine($"<h2>{E(BestLine(result))}</h2>")
            .AppendLine("<p>To train it, use these settings in your pipeline (after the same featurization):</p>")
            .AppendLine($"<pre id=\"snippet\"><code>{E(result.Best.ToCSharp())}</code></pre>");
        if (files?.Model is string model)
        {
            html.AppendLine($"<p>Refitted on all rows: {Link(model)} (load it with <code>mlContext.Model.Load</code>).</p>");
        }

        foreach ((ConvergenceLoss loss, string heading, string? png, string? svg) in new[]
        {
            (ConvergenceLoss.Training, "Training loss per epoch", files?.TrainingLossPng, files?.TrainingLossSvg),
            (ConvergenceLoss.Validation, "Held-out (validation) loss per epoch", files?.ValidationLossPng, files?.ValidationLossSvg),
        })
        {
            string base64 = Convert.ToBase64String(ConvergencePlot.PngBytes(result, loss));
            html.AppendLine($"<h2>{E(heading)}</h2>")
                .AppendLine($"<img alt=\"{E(heading)}\" src=\"data:image/png;base64,{base64}\">");
            if (png is not null && svg is not null)
            {
                html.AppendLine($"<p>Files: {Link(png)}, {Link(svg)}</p>");
            }
        }

        html.AppendLine("<h2>Leaderboard</h2>").AppendLine("<div class=\"board\"><table id=\"leaderboard\"><thead><tr>");
        string[] header = Header(result);
        static string Class(string column) => column switch
        {
            "Configuration" or "Note" => " class=\"t c\"",
            "Optimizer" or "Status" => " class=\"t\"",
            _ => "",
        };
        foreach (string column in header)
        {
            html.Append($"<th{Class(column)}>{E(column)}</th>");
        }

        html.AppendLine("</tr></thead><tbody>");
        foreach (string[] cells in Cells(result))
        {
            html.Append("<tr>");
            for (int i = 0; i < cells.Length; i++)
            {
                html.Append($"<td{Class(header[i])}>{E(cells[i])}</td>");
            }

            html.AppendLine("</tr>");
        }

        html.AppendLine("</tbody></table></div>");
        if (files is not null)
        {
            html.AppendLine($"<p>Leaderboard files: {Link(files.Markdown)}, {Link(files.Csv)}, {Link(files.Json)}.</p>");
        }

        return html.AppendLine("</body></html>").ToString();
    }

    /// <summary>"Optimizer comparison on digits (multiclass classification)".</summary>
    internal static string Title(ComparisonResult result) =>
        $"Optimizer comparison on {result.DataSetName ?? "the data"} ({CsvDataSet.TaskName(result.Task)})";

    private static string Summary(ComparisonResult result) => string.Create(CultureInfo.InvariantCulture,
        $"{result.DataSetName ?? "Data"}: {result.RowCount} rows{(result.BlankLabelRows > 0 ? $" ({result.BlankLabelRows} with a blank label left out)" : "")}, " +
        $"{CsvDataSet.TaskName(result.Task)}{(result.PositiveClass is string positive ? $" (positive class '{positive}')" : "")}; " +
        $"{result.Leaderboard.Count} candidates, {result.NumberOfFolds}-fold cross-validation, seed {result.Seed}, " +
        $"successive halving over {string.Join("/", result.RungEpochs)} epochs, ranked by {ComparisonMetrics.ShortName(result.PrimaryMetric)}; " +
        $"{result.Elapsed.TotalSeconds:0.0} s of a {result.TimeBudget.TotalSeconds:0.#} s budget. {BudgetLine(result)}").TrimEnd();

    /// <summary>
    /// When the budget ran out: which rung it stopped, how many candidates it cut and left unevaluated, and roughly what budget
    /// would complete the search; null when the search completed.
    /// </summary>
    /// <param name="result">The comparison.</param>
    public static string? BudgetLine(ComparisonResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (!result.BudgetExhausted || result.StoppedInRung is not int rung)
        {
            return null;
        }

        int cut = result.Leaderboard.Count(r => r.Status == CandidateStatus.BudgetExhausted);
        int unevaluated = result.Leaderboard.Count(r => r.Status == CandidateStatus.NotEvaluated);
        string estimate = result.EstimatedBudgetToComplete is TimeSpan needed
            ? string.Create(CultureInfo.InvariantCulture, $" About {needed.TotalSeconds:0} s would complete the search.")
            : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"The budget ran out in rung {rung + 1} of {result.RungEpochs.Count}: {Candidates(cut)} stopped before their next rung " +
            $"(BudgetExhausted), {Candidates(unevaluated)} never evaluated (NotEvaluated).{estimate}");
    }

    private static string Candidates(int count) => count == 1 ? "1 candidate" : string.Create(CultureInfo.InvariantCulture, $"{count} candidates");

    /// <summary>One line naming the winner, its primary metric over folds, its epochs and batch size (or full batch).</summary>
    /// <param name="result">The comparison.</param>
    /// <returns>For example <c>Best: Adam lr=0.01, AUC 0.9953 ± 0.0040 after 27 epochs (batch size 32).</c></returns>
    public static string BestLine(ComparisonResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        LeaderboardRow best = result.Best;
        MetricSummary summary = best.Metrics[result.PrimaryMetric];
        return string.Create(CultureInfo.InvariantCulture,
            $"Best: {best.Label}, {ComparisonMetrics.ShortName(result.PrimaryMetric)} {summary.Mean:F4} ± {summary.StandardDeviation:F4} " +
            $"after {best.EpochsTrained} epochs ({(best.TrainerOptions.BatchSize == 0 ? "full batch" : $"batch size {best.TrainerOptions.BatchSize}")}).");
    }

    private static string[] Header(ComparisonResult result) =>
    [
        "Rank", "Optimizer", "LR", .. result.Metrics.Select(ComparisonMetrics.ShortName),
        "Final train loss", "Epochs to 1%", "Epochs", "Rung", "Status", "Fit time (s)", "Configuration", "Note",
    ];

    private static IEnumerable<string[]> Cells(ComparisonResult result) => result.Leaderboard.Select(row => (string[])
    [
        Invariant(row.Rank), row.Name, row.LearningRate.ToString("G4", CultureInfo.InvariantCulture),
        .. result.Metrics.Select(metric => row.Metrics.TryGetValue(metric, out var s)
            ? string.Create(CultureInfo.InvariantCulture, $"{s.Mean:F4} ± {s.StandardDeviation:F4}")
            : "–"),
        row.FinalTrainingLoss?.ToString("G4", CultureInfo.InvariantCulture) ?? "–",
        row.EpochsToWithinOnePercent?.ToString(CultureInfo.InvariantCulture) ?? "–",
        Invariant(row.EpochsTrained),
        row.BestRung < 0 ? "–" : string.Create(CultureInfo.InvariantCulture, $"{row.BestRung + 1}/{result.RungEpochs.Count}"),
        row.Status.ToString(),
        row.FitTime.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture),
        row.Configuration,
        row.Note ?? "",
    ]);

    private static string Invariant(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Quote(string text) =>
        text.IndexOfAny([',', '"', '\n', '\r']) < 0 ? text : "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
