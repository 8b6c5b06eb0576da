using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using MLNet.Optimizers.Comparison;
using MLNet.Optimizers.Objectives;
using MLNet.Optimizers.Trainers;
using MLNet.Optimizers.Training;

namespace MLNet.Optimizers.Benchmarks;

/// <summary>
/// <c>comparison [rows…]</c> mode: the default optimizer comparison (70 candidates, 5 folds, rungs of 3/9/27/81 epochs, both
/// cores) on a seeded binary problem of the given rows × 30 features (default 200,000 and 1,000,000), with a budget large
/// enough to finish, printing when each rung ended. <c>comparison-profile</c> splits one trial (Adam, batch 32, 3 epochs,
/// 160,000 training and 40,000 held-out rows) into reading the view, the epochs and the evaluation.
/// </summary>
public static class ComparisonSpeed
{
    private const int Features = 30;

    /// <summary>Runs the default search once per size and prints one line per rung and one per size.</summary>
    /// <param name="sizes">Row counts; empty for 200,000 and 1,000,000.</param>
    public static void Run(IReadOnlyList<int> sizes)
    {
        foreach (int rows in sizes.Count == 0 ? [200_000, 1_000_000] : sizes)
        {
            var ml = new MLContext(seed: 1);
            IDataView data = TrainingRace.Problem.Generate(rows, Features, classes: 2, seed: 21, hiddenSeed: 5).ToDataView(ml);
            var clock = Stopwatch.StartNew();
            ml.Log += (_, e) =>
            {
                if (e.Message.Contains("Rung ", StringComparison.Ordinal) || e.Message.Contains("Best:", StringComparison.Ordinal))
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {clock.Elapsed.TotalSeconds,7:F1} s  {e.Message}"));
                }
            };
            var options = new OptimizerComparisonOptions
            {
                Data = data,
                DataSetName = $"synthetic {rows} x {Features}",
                TimeBudget = TimeSpan.FromHours(1),
            };
            ComparisonResult result = new OptimizerComparison(ml).Run(options);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{rows} x {Features}: {clock.Elapsed.TotalSeconds:F1} s in all (budget-relevant search and refit), best {result.Best.Label}, " +
                $"AUC {result.Best.PrimaryMetricMean:F4}, {result.Leaderboard.Count(r => r.Status is CandidateStatus.BudgetExhausted or CandidateStatus.NotEvaluated)} cut by the budget"));
        }
    }

    /// <summary>Times the parts of one comparison trial through the public API.</summary>
    public static void Profile()
    {
        var ml = new MLContext(seed: 1);
        var problem = TrainingRace.Problem.Generate(200_000, Features, classes: 2, seed: 21, hiddenSeed: 5);
        IDataView all = ml.Data.Cache(problem.ToDataView(ml));
        IDataView train = ml.Data.Cache(ml.Data.TakeRows(all, 160_000));
        IDataView heldOut = ml.Data.Cache(ml.Data.SkipRows(all, 160_000));
        _ = ml.Data.CreateEnumerable<Row>(train, false).Count();
        _ = ml.Data.CreateEnumerable<Row>(heldOut, false).Count();
        foreach (int epochs in new[] { 1, 3, 3, 9 })
        {
            var options = new LogisticRegressionTrainer.Options { Optimizer = new Adam(), BatchSize = 32, NumberOfEpochs = epochs, Seed = 1, KeepBestModel = false };
            var clock = Stopwatch.StartNew();
            var model = ml.BinaryClassification.Trainers.LogisticRegression(options).Fit(train, heldOut);
            double fit = clock.Elapsed.TotalSeconds;
            clock.Restart();
            var metrics = ml.BinaryClassification.Evaluate(model.Transform(heldOut));
            double evaluate = clock.Elapsed.TotalSeconds;

            TrainingData cached = problem.ToTrainingData().Subset(Enumerable.Range(0, 160_000).ToArray());
            TrainingData cachedHeldOut = problem.ToTrainingData().Subset(Enumerable.Range(160_000, 40_000).ToArray());
            clock.Restart();
            new TrainingLoop(new LogisticObjective(), options).Train(cached, cachedHeldOut);
            double loop = clock.Elapsed.TotalSeconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{epochs} epochs: Fit (read + epochs + validation) {fit:F3} s, loop alone {loop:F3} s, Transform+Evaluate {evaluate:F3} s (AUC {metrics.AreaUnderRocCurve:F4})"));
        }
    }

    private sealed class Row
    {
        public bool Label { get; set; }
    }
}
