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
}
