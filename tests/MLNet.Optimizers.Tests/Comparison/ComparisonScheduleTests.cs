using MLNet.Optimizers.Comparison;

namespace MLNet.Optimizers.Tests.Comparison;

public class ComparisonScheduleTests
{
    [Fact]
    public void RungEpochs_FollowEtaPowersDownFromTheMaximum()
    {
        // 70 candidates, eta 3, 50 epochs: floor(log3 70) = 3 (27 <= 70 < 81), floor(log3 50) = 3, so 4 rungs;
        // epochs round(50/27) = 2, round(50/9) = 6, round(50/3) = 17, 50.
        Assert.Equal([2, 6, 17, 50], new SuccessiveHalvingSchedule(70, 50, 3).RungEpochs);
        // 14 candidates, eta 3, 9 epochs: floor(log3 14) = 2, floor(log3 9) = 2, so 3 rungs: 1, 3, 9.
        Assert.Equal([1, 3, 9], new SuccessiveHalvingSchedule(14, 9, 3).RungEpochs);
        // One candidate: a single rung at the maximum.
        Assert.Equal([50], new SuccessiveHalvingSchedule(1, 50, 3).RungEpochs);
    }

    [Fact]
    public void Survivors_KeepAThirdButAtLeastOne()
    {
        var schedule = new SuccessiveHalvingSchedule(70, 81, 3);
        Assert.Equal(23, schedule.Survivors(70));
        Assert.Equal(1, schedule.Survivors(2));
        Assert.Equal([70, 23, 7, 2], schedule.CandidatesPerRung());
        Assert.Equal(70 * 3 + 23 * 9 + 7 * 27 + 2 * 81, schedule.PlannedEpochs());
    }

    [Fact]
    public void StratifiedFolds_BalanceEachClassAndAreSeeded()
    {
        // 10 rows of class "a" and 5 of class "b" over 5 folds: each fold gets 2 a's and 1 b.
        string[] labels = [.. Enumerable.Repeat("a", 10), .. Enumerable.Repeat("b", 5)];
        int[] folds = StratifiedFolds.Assign(labels, labels.Length, 5, seed: 7);
        for (int fold = 0; fold < 5; fold++)
        {
            Assert.Equal(2, Enumerable.Range(0, 15).Count(row => folds[row] == fold && labels[row] == "a"));
            Assert.Equal(1, Enumerable.Range(0, 15).Count(row => folds[row] == fold && labels[row] == "b"));
        }

        Assert.Equal(folds, StratifiedFolds.Assign(labels, labels.Length, 5, seed: 7));
        Assert.NotEqual(folds, StratifiedFolds.Assign(labels, labels.Length, 5, seed: 8));
    }

    [Fact]
    public void EpochsToWithinOnePercent_IsTheFirstEpochNearTheBest()
    {
        // Best 0.50, threshold 0.505: epoch 3 (0.504) is the first at or below it.
        Assert.Equal(3, CandidateState.EpochsToWithinOnePercent([0.9, 0.6, 0.504, 0.5, 0.501]));
        Assert.Null(CandidateState.EpochsToWithinOnePercent([]));
    }

    [Fact]
    public void CandidateBest_IsItsBestResultWhateverTheRung_AndTheLeaderboardRanksThose()
    {
        // A scores 0.97 after 3 epochs, then 0.96 after 9; B scores 0.965 once. A's row is its 3-epoch result and ranks first.
        var a = new CandidateState(new ComparisonCandidate(new Adam()), 0);
        a.Complete(Result(rung: 0, epochs: 3, auc: 0.97));
        a.Complete(Result(rung: 1, epochs: 9, auc: 0.96));
        var b = new CandidateState(new ComparisonCandidate(new Sgd()), 1);
        b.Complete(Result(rung: 0, epochs: 3, auc: 0.965));
        var none = new CandidateState(new ComparisonCandidate(new RmsProp()), 2);

        Assert.Equal(0, a.Best(ComparisonMetric.AreaUnderRocCurve)!.Rung);
        Assert.Equal(1, a.Latest!.Rung);
        CandidateState[] ranked = [.. new[] { none, b, a }.OrderBy(s => s, ResultRanking.ByBest(ComparisonMetric.AreaUnderRocCurve))];
        Assert.Equal([0, 1, 2], ranked.Select(s => s.Index));
        // Successive halving ranks the latest results: B (0.965) before A (0.96).
        Assert.Equal([1, 0], new[] { a, b }.OrderBy(s => s, ResultRanking.ByLatest(ComparisonMetric.AreaUnderRocCurve)).Select(s => s.Index));

        var trainer = new CandidateTrainer(ComparisonTask.BinaryClassification, "Label", "Features", 5, 32);
        LeaderboardRow row = a.ToRow(1, ComparisonMetric.AreaUnderRocCurve, trainer, firstRungEpochs: 3);
        Assert.Equal(3, row.EpochsTrained);
        Assert.Equal(0.97, row.PrimaryMetricMean);
        Assert.Equal(3, row.TrainerOptions.NumberOfEpochs);
        Assert.Equal(32, row.TrainerOptions.BatchSize);
        Assert.Equal(5, row.TrainerOptions.Seed);
    }

    [Fact]
    public void ResultsTied_OnThePrimaryMetric_RankTheFasterFirst()
    {
        var slow = new CandidateState(new ComparisonCandidate(new Adam()), 0);
        slow.Complete(Result(rung: 0, epochs: 3, auc: 0.9, fitSeconds: 2));
        var fast = new CandidateState(new ComparisonCandidate(new Sgd()), 1);
        fast.Complete(Result(rung: 0, epochs: 3, auc: 0.9, fitSeconds: 1));
        Assert.Equal([1, 0], new[] { slow, fast }.OrderBy(s => s, ResultRanking.ByBest(ComparisonMetric.AreaUnderRocCurve)).Select(s => s.Index));
    }

    [Fact]
    public void Snippet_IsCSharpForTheOptimizer_InvariantWithLowercaseBooleansAndEnumMembers()
    {
        Assert.Equal("new Adam(learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1E-08, weightDecay: 0, amsGrad: false)",
            TrainerSnippet.Optimizer(new Adam(learningRate: 0.01)));
        Assert.StartsWith("new Lbfgs(learningRate: 1, historySize: 10,", TrainerSnippet.Optimizer(new Lbfgs()));
        Assert.EndsWith("lineSearch: LineSearch.StrongWolfe)", TrainerSnippet.Optimizer(new Lbfgs()));
    }

    private static CandidateResult Result(int rung, int epochs, double auc, double fitSeconds = 1) => new(rung, epochs, epochs, false,
        new() { [ComparisonMetric.AreaUnderRocCurve] = MetricSummary.Of([auc]) }, new double[epochs], new double[epochs], TimeSpan.FromSeconds(fitSeconds));

    [Fact]
    public void Interleaved_TakesOneCandidateOfEachFamilyInTurn()
    {
        CandidateState[] states = [.. OptimizerComparison.DefaultCandidates([0.1, 1]).Take(6).Select((c, i) => new CandidateState(c, i))];
        // Sgd 0.1, Sgd 1, Sgd+momentum 0.1, Sgd+momentum 1, Sgd+Nesterov 0.1, Sgd+Nesterov 1 -> each family's first, then each one's second.
        Assert.Equal([0, 2, 4, 1, 3, 5], SuccessiveHalvingSearch.Interleaved(states).Select(s => s.Index));
    }

    [Fact]
    public void ChartAxis_IgnoresAnExplodingCurve()
    {
        // Three sane curves starting near 0.7 and one that explodes to 1e47: the axis stays near the sane ones.
        // 90th percentile of the starts: 0.72; the top is 1.5 x 0.72 with a 10% margin.
        (double bottom, double top) = ConvergencePlot.AxisRange([[0.7, 0.3, 0.1], [0.69, 0.4, 0.35], [0.72, 0.5, 0.2], [0.8, 5, 1e47]]);
        Assert.Equal(0.1 / 1.1, bottom, 12);
        Assert.Equal(1.5 * 0.72 * 1.1, top, 12);
    }
}
