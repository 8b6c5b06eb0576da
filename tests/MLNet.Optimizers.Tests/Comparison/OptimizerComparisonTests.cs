using Microsoft.Extensions.Time.Testing;
using System.Xml.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.Optimizers.Comparison;
using MLNet.Optimizers.MpiHost;

namespace MLNet.Optimizers.Tests.Comparison;

/// <summary>Runs the default strategies once on breast_cancer (5 folds) and shares the result among the tests below.</summary>
public sealed class BreastCancerComparisonFixture
{
    public BreastCancerComparisonFixture()
    {
        var mlContext = new MLContext(seed: 1);
        Options = Create(mlContext);
        Result = new OptimizerComparison(mlContext).Run(Options);
    }

    public OptimizerComparisonOptions Options { get; }

    public ComparisonResult Result { get; }

    /// <summary>The default candidates (14 strategies x 5 learning rates), 5 folds, rungs of 3/9/27/81 epochs.</summary>
    public static OptimizerComparisonOptions Create(MLContext mlContext) => new()
    {
        Data = ComparisonData.BreastCancer(mlContext),
        Task = ComparisonTask.BinaryClassification,
        PipelinePrefix = mlContext.Transforms.NormalizeMeanVariance("Features"),
        MaximumNumberOfEpochs = 81,
        BatchSize = 16,
        Seed = 3,
        TimeBudget = TimeSpan.FromMinutes(2),
    };
}

public class OptimizerComparisonTests(BreastCancerComparisonFixture fixture) : IClassFixture<BreastCancerComparisonFixture>
{
    private readonly ComparisonResult _result = fixture.Result;

    [Fact]
    public void BestMeanAucIsAtLeast099_AndEveryDefaultOptimizerIsOnTheLeaderboard()
    {
        Assert.False(_result.BudgetExhausted);
        Assert.True(_result.Best.Metrics[ComparisonMetric.AreaUnderRocCurve].Mean >= 0.99, $"best AUC {_result.Best.PrimaryMetricMean}");
        string[] expected = ["Sgd", "Sgd+momentum", "Sgd+Nesterov", "Adagrad", "RmsProp", "Adam", "AdamW", "Adamax", "NAdam", "RAdam",
            "Adadelta", "ScheduleFreeAdamW", "ScheduleFreeSgd", "Lbfgs"];
        Assert.Equal(expected.Order(), _result.Leaderboard.Select(r => r.Name).Distinct().Order());
        // A candidate dropped in the first rung (RmsProp at lr 0.1: its 3-epoch model is worse than the all-zero model, which
        // the final check refuses) has no metrics.
        Assert.All(_result.Leaderboard.Where(row => row.BestRung >= 0),
            row => Assert.Equal(5, row.Metrics[ComparisonMetric.AreaUnderRocCurve].PerFold.Count));
    }

    [Fact]
    public void Leaderboard_IsRankedByEachCandidatesBestResult_AndStatusesSayWhatHappened()
    {
        // 70 candidates, eta 3, 81 epochs: 4 rungs of 3, 9, 27, 81 epochs keeping 70, 23, 7, then 2 candidates.
        Assert.Equal([3, 9, 27, 81], _result.RungEpochs);
        double[] primary = [.. _result.Leaderboard.Select(r => r.PrimaryMetricMean)];
        Assert.Equal(primary.OrderByDescending(v => v), primary);
        Assert.Same(_result.Leaderboard[0], _result.Best);
        Assert.All(_result.Leaderboard, row => Assert.Contains(row.Status,
            new[] { CandidateStatus.Finished, CandidateStatus.Pruned, CandidateStatus.Converged, CandidateStatus.Diverged, CandidateStatus.Failed }));
        Assert.InRange(_result.Leaderboard.Count(r => r.Status == CandidateStatus.Finished), 1, 2);
        Assert.All(_result.Leaderboard.Where(r => r.Status == CandidateStatus.Pruned), row => Assert.True(row.RungReached < 3));
        Assert.All(_result.Leaderboard.Where(r => r.Status == CandidateStatus.Converged), row => Assert.Equal("Lbfgs", row.Name));
        Assert.All(_result.Leaderboard.Where(r => r.BestRung >= 0), row =>
        {
            // The epoch column is what the best result trained: at most its rung's epochs, fewer only when L-BFGS converged.
            int asked = _result.RungEpochs[row.BestRung];
            Assert.Equal(asked, row.TrainerOptions.NumberOfEpochs);
            Assert.True(row.EpochsTrained == asked || (row.Name == "Lbfgs" && row.EpochsTrained < asked), row.Label);
        });
        // A candidate dropped in the first rung has reached none (-1) and trained at most that rung's epochs.
        Assert.All(_result.Curves, curve => Assert.True(
            curve.TrainingLoss.Count <= _result.RungEpochs[Math.Max(0, _result.Leaderboard.Single(r => r.CandidateIndex == curve.CandidateIndex).RungReached)]));
    }

    [Fact]
    public void Recipe_TrainedThroughThePublicTrainerOnTheSameFolds_GivesTheSameCrossValidatedMetric()
    {
        var mlContext = new MLContext(seed: 1);
        LeaderboardRow best = _result.Best;
        var trainerOptions = best.TrainerOptions;
        string snippet = best.ToCSharp();
        Assert.StartsWith("var trainer = mlContext.BinaryClassification.Trainers.LogisticRegression(\n    new LogisticRegressionTrainer.Options",
            snippet.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.All(snippet.ReplaceLineEndings("\n").Split('\n'), line => Assert.True(line.Length <= 80, line));
        Assert.Contains($"BatchSize = 16,", snippet, StringComparison.Ordinal);
        Assert.Contains($"NumberOfEpochs = {trainerOptions.NumberOfEpochs},", snippet, StringComparison.Ordinal);
        Assert.Contains($"Optimizer = new {best.Configuration.Split(',')[0]}", snippet, StringComparison.Ordinal);
        Assert.Contains("Seed = 3,", snippet, StringComparison.Ordinal);

        // The same folds as the comparison (stratified by label, seed 3), the prefix fitted on each fold's training rows.
        IDataView data = fixture.Options.Data!;
        string[] labels = [.. data.GetColumn<bool>("Label").Select(v => v.ToString())];
        int[] foldOfRow = StratifiedFolds.Assign(labels, labels.Length, 5, seed: 3);
        var perFold = new List<double>();
        for (int fold = 0; fold < 5; fold++)
        {
            var train = new RowSubsetDataView(data, [.. foldOfRow.Select(f => f != fold)]);
            var heldOut = new RowSubsetDataView(data, [.. foldOfRow.Select(f => f == fold)]);
            var pipeline = mlContext.Transforms.NormalizeMeanVariance("Features").Append(best.CreateTrainer(mlContext));
            ITransformer model = pipeline.Fit(train);
            perFold.Add(mlContext.BinaryClassification.Evaluate(model.Transform(heldOut)).AreaUnderRocCurve);
        }

        Assert.Equal(best.Metrics[ComparisonMetric.AreaUnderRocCurve].PerFold, perFold);
    }

    [Fact]
    public void Lbfgs_rows_say_full_batch_in_their_settings_and_recipe_the_others_the_comparisons_batch_size()
    {
        Assert.All(_result.Leaderboard, row => Assert.Equal(row.Name == "Lbfgs" ? 0 : 16, row.TrainerOptions.BatchSize));
        LeaderboardRow lbfgs = _result.Leaderboard.First(row => row.Name == "Lbfgs");
        Assert.Contains("BatchSize = 0,", lbfgs.ToCSharp(), StringComparison.Ordinal);
        string best = ComparisonReport.BestLine(_result);
        Assert.EndsWith(_result.Best.Name == "Lbfgs" ? "(full batch)." : "(batch size 16).", best, StringComparison.Ordinal);
    }

    [Fact]
    public void Reports_WritePngSvgHtmlMarkdownCsvAndJson()
    {
        string directory = Path.Combine(Path.GetTempPath(), "comparison-report-test-" + Guid.NewGuid().ToString("N"));
        try
        {
            ComparisonReportFiles files = ComparisonReport.WriteAll(_result, directory);

            byte[] png = File.ReadAllBytes(files.TrainingLossPng);
            Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, png[..8]);
            Assert.True(png.Length > 10_000, $"PNG of {png.Length} bytes");

            // The top candidates in distinct colours, each stroking at least one path of the SVG; the others grey.
            XDocument svg = XDocument.Load(files.ValidationLossSvg);
            var strokes = svg.Descendants().Select(e => (string?)e.Attribute("stroke")).OfType<string>()
                .Select(s => s.ToLowerInvariant()).ToHashSet();
            IReadOnlyDictionary<int, string> colors = ConvergencePlot.SeriesColors(_result);
            string[] top = [.. _result.Leaderboard.Take(ConvergencePlot.HighlightedCount).Select(r => colors[r.CandidateIndex])];
            Assert.Equal(ConvergencePlot.HighlightedCount, top.Distinct().Count());
            Assert.All(top, color => Assert.Contains(color, strokes));
            Assert.Single(_result.Leaderboard.Skip(ConvergencePlot.HighlightedCount).Select(r => colors[r.CandidateIndex]).Distinct());

            string html = File.ReadAllText(files.Html);
            Assert.Contains("<table id=\"leaderboard\">", html);
            Assert.Contains("href=\"convergence-training.svg\"", html);
            Assert.Contains("href=\"convergence-validation.png\"", html);
            Assert.Contains("data:image/png;base64,", html);
            Assert.All(_result.Leaderboard, row => Assert.Contains(System.Net.WebUtility.HtmlEncode(row.Configuration), html));

            string[] csv = File.ReadAllLines(files.Csv);
            Assert.Equal(_result.Leaderboard.Count + 1, csv.Length);
            Assert.StartsWith("rank,name,learning_rate,auc_mean,auc_std", csv[0]);
            Assert.Contains("| Rank | Optimizer |", File.ReadAllText(files.Markdown));
            using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(files.Json));
            Assert.Equal(_result.Leaderboard.Count, json.RootElement.GetProperty("leaderboard").GetArrayLength());
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void BestModel_ScoresNewDataAfterSaveAndLoad()
    {
        var mlContext = new MLContext(seed: 1);
        string path = Path.Combine(Path.GetTempPath(), "comparison-model-" + Guid.NewGuid().ToString("N") + ".zip");
        try
        {
            _result.SaveBestModel(mlContext, path);
            ITransformer loaded = mlContext.Model.Load(path, out _);
            var metrics = mlContext.BinaryClassification.Evaluate(loaded.Transform(ComparisonData.BreastCancer(mlContext)));
            Assert.True(metrics.AreaUnderRocCurve > 0.99, $"AUC {metrics.AreaUnderRocCurve}");
        }
        finally
        {
            File.Delete(path);
        }
    }
}

public class OptimizerComparisonRunTests
{
    [Fact]
    public void MulticlassWithNumericLabel_ReportsProgressAndLogs_AndBestModelPredictsOriginalLabels()
    {
        var mlContext = new MLContext(seed: 1);
        var logLines = new List<string>();
        mlContext.Log += (_, e) => { if (e.Source.StartsWith(nameof(OptimizerComparison), StringComparison.Ordinal)) { logLines.Add(e.Message); } };
        var reports = new List<ComparisonProgress>();
        var options = new OptimizerComparisonOptions
        {
            Data = ComparisonData.Load(mlContext, "iris.csv", DataKind.Single),
            Task = ComparisonTask.MulticlassClassification,
            PipelinePrefix = mlContext.Transforms.NormalizeMeanVariance("Features"),
            Candidates = [new ComparisonCandidate(new Adam(learningRate: 0.1)), new ComparisonCandidate(new Sgd(learningRate: 0.001), "SlowSgd")],
            NumberOfFolds = 3,
            MaximumNumberOfEpochs = 20,
            ReductionFactor = 2,
        };
        ComparisonResult result = new OptimizerComparison(mlContext).Run(options, new SynchronousProgress(reports.Add));

        // 2 candidates, eta 2, 20 epochs: rungs of 10 and 20 epochs; the slow SGD is stopped after the first.
        Assert.Equal([10, 20], result.RungEpochs);
        Assert.Equal("Adam", result.Best.Name);
        Assert.Equal(CandidateStatus.Pruned, result.Leaderboard[1].Status);
        Assert.Equal(ComparisonMetric.MacroAccuracy, result.PrimaryMetric);
        // Trials: 2 candidates x 3 folds at rung 1, then 1 x 3 at rung 2; each run reports its start and every epoch.
        Assert.Equal(9, reports.Max(r => r.Trial));
        Assert.Equal(6 * (1 + 10) + 3 * (1 + 20), reports.Count);
        Assert.Equal([0, 1, 2], reports.Select(r => r.Fold).Distinct().Order());
        Assert.Contains(logLines, line => line.Contains("Rung 2/2", StringComparison.Ordinal));
        Assert.Contains(logLines, line => line.Contains("Best: Adam", StringComparison.Ordinal));

        // The label was mapped to keys inside; the model maps predictions back to the original numeric labels.
        IDataView scored = result.BestModel!.Transform(options.Data);
        float[] predicted = [.. scored.GetColumn<float>("PredictedLabel")];
        Assert.Equal([0f, 1f, 2f], predicted.Distinct().Order());
    }

    private sealed class SynchronousProgress(Action<ComparisonProgress> report) : IProgress<ComparisonProgress>
    {
        public void Report(ComparisonProgress value) => report(value);
    }

    [Fact]
    public void Budget_StopsStartingRunsAtNinetyPercent_OnTheInjectedClock()
    {
        // Every epoch takes 70 ms on the fake clock, so a run (3 epochs) takes 210 ms: 17 runs end at 3.57 s, the 18th starts
        // before 3.6 s (90% of 4 s) and ends at 3.78 s, and no 19th starts. 18 runs = 6 candidates on 3 folds.
        var clock = new FakeTimeProvider();
        var mlContext = new MLContext(seed: 1);
        var options = IrisOptions(mlContext, clock, TimeSpan.FromSeconds(4));
        options.MaximumNumberOfEpochs = 27;
        ComparisonResult result = new OptimizerComparison(mlContext).Run(options,
            new SynchronousProgress(p => { if (p.Epoch > 0) { clock.Advance(TimeSpan.FromMilliseconds(70)); } }));

        Assert.True(result.BudgetExhausted);
        Assert.Equal(TimeSpan.FromMilliseconds(18 * 210), result.Elapsed);
        Assert.Equal(6, result.Leaderboard.Count(row => row.RungReached == 0));
        Assert.Equal(14 - 6, result.Leaderboard.Count(row => row.Status == CandidateStatus.NotEvaluated));

        // 54 epochs took 3.78 s: 70 ms each. The schedule (14 x 3, 4 x 9, 1 x 27 epochs on 3 folds) plans 315 epochs, 22.05 s,
        // which is 90% of 24.5 s: rounded up, 30 s.
        Assert.Equal(0, result.StoppedInRung);
        Assert.Equal(TimeSpan.FromSeconds(30), result.EstimatedBudgetToComplete);
        Assert.Equal("The budget ran out in rung 1 of 3: 6 candidates stopped before their next rung (BudgetExhausted), 8 candidates never " +
            "evaluated (NotEvaluated). About 30 s would complete the search.", ComparisonReport.BudgetLine(result));
    }

    [Fact]
    public void Budget_CancelsARunStillGoingWhenItIsAllSpent()
    {
        // One candidate, one rung of 5 epochs at 300 ms each: the budget of 1 s is spent during epoch 4 of the first fold.
        var clock = new FakeTimeProvider();
        var mlContext = new MLContext(seed: 1);
        var options = IrisOptions(mlContext, clock, TimeSpan.FromSeconds(1));
        options.Candidates = [new ComparisonCandidate(new Adam(learningRate: 0.05))];
        options.MaximumNumberOfEpochs = 5;
        int epochsReported = 0;
        var error = Assert.Throws<TimeoutException>(() => new OptimizerComparison(mlContext).Run(options,
            new SynchronousProgress(p => { if (p.Epoch > 0) { epochsReported++; clock.Advance(TimeSpan.FromMilliseconds(300)); } })));

        Assert.Contains("time budget of 1 s ran out before any candidate finished its first rung", error.Message, StringComparison.Ordinal);
        Assert.Equal(4, epochsReported);
    }

    private static OptimizerComparisonOptions IrisOptions(MLContext mlContext, TimeProvider clock, TimeSpan budget) => new()
    {
        Data = ComparisonData.Load(mlContext, "iris.csv", DataKind.Single),
        Task = ComparisonTask.MulticlassClassification,
        PipelinePrefix = mlContext.Transforms.NormalizeMeanVariance("Features"),
        LearningRateMultipliers = [1],
        NumberOfFolds = 3,
        TimeBudget = budget,
        TimeProvider = clock,
        // One run at a time, so the fake clock advances in the same order on every machine.
        MaxDegreeOfParallelism = 1,
    };

    [Fact]
    public void ParallelRuns_GiveTheSameResultsAsOneAtATime()
    {
        ComparisonResult Run(int parallelism)
        {
            var mlContext = new MLContext(seed: 1);
            var options = IrisOptions(mlContext, TimeProvider.System, TimeSpan.FromHours(1));
            options.MaximumNumberOfEpochs = 9;
            options.MaxDegreeOfParallelism = parallelism;
            return new OptimizerComparison(mlContext).Run(options);
        }

        ComparisonResult serial = Run(1), parallel = Run(4);
        Assert.Equal(serial.Leaderboard.Select(r => r.PrimaryMetricMean), parallel.Leaderboard.Select(r => r.PrimaryMetricMean));
        foreach (LeaderboardRow row in serial.Leaderboard)
        {
            LeaderboardRow same = parallel.Leaderboard.Single(r => r.CandidateIndex == row.CandidateIndex);
            Assert.Equal(row.Status, same.Status);
            Assert.Equal(row.EpochsTrained, same.EpochsTrained);
            Assert.Equal(row.Metrics[ComparisonMetric.LogLoss].PerFold, same.Metrics[ComparisonMetric.LogLoss].PerFold);
        }

        Assert.Equal(serial.Curves.Select(c => c.ValidationLoss), parallel.Curves.Select(c => c.ValidationLoss));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void RanksSharingTheTrials_GiveTheSingleProcessLeaderboard(int ranks)
    {
        ComparisonResult Run(ICommunicator communicator)
        {
            var mlContext = new MLContext(seed: 1);
            var options = IrisOptions(mlContext, TimeProvider.System, TimeSpan.FromHours(1));
            options.MaximumNumberOfEpochs = 9;
            options.Communicator = communicator;
            // Log-loss leaves no ties, which the leaderboard would break by fit time.
            options.PrimaryMetric = ComparisonMetric.LogLoss;
            // A learning rate that diverges, so that a failure message travels between the ranks too.
            options.Candidates = [.. OptimizerComparison.DefaultCandidates([0.3, 1]), new ComparisonCandidate(new Sgd(learningRate: 1e30))];
            return new OptimizerComparison(mlContext).Run(options);
        }

        ComparisonResult single = Run(SingleProcessCommunicator.Instance);
        ComparisonResult[] distributed = ThreadCommunicators.Run(ranks, Run);

        Assert.Contains(single.Leaderboard, row => row.Status == CandidateStatus.Diverged && row.Note is not null);
        string[] expected = [.. single.Leaderboard.Select(DistributedComparison.EveryColumnButFitTime)];
        foreach (ComparisonResult rank in distributed)
        {
            Assert.Equal(expected, rank.Leaderboard.Select(DistributedComparison.EveryColumnButFitTime));
            Assert.Equal(single.Curves.Select(c => c.ValidationLoss), rank.Curves.Select(c => c.ValidationLoss));
            Assert.False(rank.Cancelled);
        }

        Assert.NotNull(distributed[0].BestModel);
        Assert.All(distributed.Skip(1), rank => Assert.Null(rank.BestModel));
    }

    [Theory]
    [InlineData(2, 1)]
    [InlineData(2, 0)]
    [InlineData(3, 2)]
    public void Budget_RunningOutOnOneRank_CutsTheSearchAlikeOnEveryRank(int ranks, int slowRank)
    {
        // Each rank measures the budget on its own clock; here the clocks disagree. On the slow rank an epoch takes 100 ms, so a trial
        // (3 epochs) 300 ms, and its search share of the budget (90% of 4 s) runs out during rung 1 after its 12th trial, of 14
        // or more; on the others an epoch takes 1 ms, so alone they would never run out. After the rung every rank learns that one ran out, and all stop there.
        ComparisonResult Run(ICommunicator communicator)
        {
            var clock = new FakeTimeProvider();
            var mlContext = new MLContext(seed: 1);
            var options = IrisOptions(mlContext, clock, TimeSpan.FromSeconds(4));
            options.MaximumNumberOfEpochs = 27;
            options.PrimaryMetric = ComparisonMetric.LogLoss;
            options.Communicator = communicator;
            var epoch = TimeSpan.FromMilliseconds(communicator.Rank == slowRank ? 100 : 1);
            return new OptimizerComparison(mlContext).Run(options, new SynchronousProgress(p => { if (p.Epoch > 0) { clock.Advance(epoch); } }));
        }

        ComparisonResult[] results = ThreadCommunicators.Run(ranks, Run);

        string[] leaderboard = [.. results[0].Leaderboard.Select(DistributedComparison.EveryColumnButFitTime)];
        foreach (ComparisonResult rank in results)
        {
            Assert.True(rank.BudgetExhausted);
            Assert.Equal(0, rank.StoppedInRung);
            Assert.Equal(leaderboard, rank.Leaderboard.Select(DistributedComparison.EveryColumnButFitTime));
        }

        // The cut came from the slow rank alone: every other rank's own clock stayed below the search's share of the budget.
        Assert.All(results.Where((_, rank) => rank != slowRank), fast => Assert.True(fast.Elapsed < TimeSpan.FromSeconds(4 * 0.9), $"{fast.Elapsed}"));
        Assert.Contains(results[0].Leaderboard, row => row.RungReached == 0);
        Assert.Contains(results[0].Leaderboard, row => row.Status is CandidateStatus.BudgetExhausted or CandidateStatus.NotEvaluated);
        Assert.DoesNotContain(results[0].Leaderboard, row => row.RungReached > 0);
    }

    [Fact]
    public void PrimaryMetricOfAnotherTask_IsRejectedByName()
    {
        var mlContext = new MLContext(seed: 1);
        var options = new OptimizerComparisonOptions
        {
            Data = ComparisonData.BreastCancer(mlContext),
            PrimaryMetric = ComparisonMetric.RSquared,
        };
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new OptimizerComparison(mlContext).Run(options));
        Assert.Equal("PrimaryMetric", error.ParamName);
        // The value is stated once, in the message (no "Actual value was" suffix).
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(error.Message, "RSquared"));
    }
}
