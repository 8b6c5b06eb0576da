namespace MLNet.Optimizers.Comparison;

/// <summary>One training run's held-out metrics and its loss per epoch (as many entries as epochs actually trained).</summary>
internal sealed record FoldScore(Dictionary<ComparisonMetric, double> Metrics, List<double> TrainingLoss, List<double> ValidationLoss);

/// <summary>
/// One candidate trained for one number of epochs on every fold: metrics summarised over folds, losses averaged per epoch.
/// </summary>
/// <param name="Rung">The 0-based rung that trained it.</param>
/// <param name="NumberOfEpochs">The epochs asked of the trainer.</param>
/// <param name="EpochsTrained">The most epochs any fold actually trained (fewer than asked when L-BFGS converged).</param>
/// <param name="StoppedBeforeAllEpochs">True when every fold stopped before <paramref name="NumberOfEpochs"/>.</param>
/// <param name="Metrics">The held-out metrics over folds.</param>
/// <param name="TrainingLoss">The mean training loss per epoch.</param>
/// <param name="ValidationLoss">The mean held-out loss per epoch.</param>
/// <param name="FitTime">The training and scoring time of this result, all folds together.</param>
internal sealed record CandidateResult(int Rung, int NumberOfEpochs, int EpochsTrained, bool StoppedBeforeAllEpochs,
    Dictionary<ComparisonMetric, MetricSummary> Metrics, double[] TrainingLoss, double[] ValidationLoss, TimeSpan FitTime)
{
    public static CandidateResult Of(int rung, int numberOfEpochs, IReadOnlyList<FoldScore> folds, TimeSpan fitTime) => new(
        rung, numberOfEpochs, folds.Max(f => f.TrainingLoss.Count), folds.All(f => f.TrainingLoss.Count < numberOfEpochs),
        folds[0].Metrics.Keys.ToDictionary(metric => metric, metric => MetricSummary.Of([.. folds.Select(f => f.Metrics[metric])])),
        MeanPerEpoch(folds.Select(f => f.TrainingLoss)), MeanPerEpoch(folds.Select(f => f.ValidationLoss)), fitTime);

    public double Mean(ComparisonMetric metric) => Metrics.TryGetValue(metric, out var summary) ? summary.Mean : double.NaN;

    private static double[] MeanPerEpoch(IEnumerable<List<double>> perFold)
    {
        List<double>[] runs = [.. perFold];
        int epochs = runs.Max(run => run.Count);
        var mean = new double[epochs];
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            mean[epoch] = runs.Where(run => epoch < run.Count).Average(run => run[epoch]);
        }

        return mean;
    }
}

/// <summary>What a comparison knows about one candidate: every result it completed, and its status.</summary>
internal sealed class CandidateState(ComparisonCandidate candidate, int index)
{
    private readonly List<CandidateResult> _results = [];

    public ComparisonCandidate Candidate { get; } = candidate;

    public int Index { get; } = index;

    /// <summary>Its results, one per rung it completed on every fold, in rung order.</summary>
    public IReadOnlyList<CandidateResult> Results => _results;

    /// <summary>The last result, which successive halving ranks; null before the first rung completes.</summary>
    public CandidateResult? Latest => _results.Count > 0 ? _results[^1] : null;

    public int RungReached => Latest?.Rung ?? -1;

    public CandidateStatus Status { get; set; } = CandidateStatus.NotEvaluated;

    /// <summary>True once a training run diverged or was refused: the candidate trains no more.</summary>
    public bool Dropped => Status is CandidateStatus.Diverged or CandidateStatus.Failed;

    public string? Note { get; private set; }

    /// <summary>Training and scoring time over every rung and fold, unfinished runs included.</summary>
    public TimeSpan FitTime { get; set; }

    /// <summary>The result with the best primary metric (ties: the earlier, shorter one); null when there is none.</summary>
    public CandidateResult? Best(ComparisonMetric primary) => _results.Count == 0 ? null
        : _results.Aggregate((best, next) => ResultRanking.Compare(primary, next.Mean(primary), best.Mean(primary)) < 0 ? next : best);

    public void Drop(CandidateStatus status, string message)
    {
        Status = status;
        Note = message;
    }

    public void Complete(CandidateResult result) => _results.Add(result);

    /// <summary>The candidate at its best result; its trainer options are those of that result (or of the first rung without one).</summary>
    public LeaderboardRow ToRow(int rank, ComparisonMetric primary, CandidateTrainer trainer, int firstRungEpochs)
    {
        CandidateResult? best = Best(primary);
        int epochs = best?.NumberOfEpochs ?? firstRungEpochs;
        return new LeaderboardRow
        {
            Rank = rank,
            CandidateIndex = Index,
            Name = Candidate.Name,
            Label = Candidate.Label,
            Configuration = Candidate.Configuration,
            LearningRate = Candidate.Optimizer.LearningRate,
            Metrics = best?.Metrics ?? [],
            PrimaryMetricMean = best?.Mean(primary) ?? double.NaN,
            FinalTrainingLoss = best is { TrainingLoss.Length: > 0 } ? best.TrainingLoss[^1] : null,
            EpochsToWithinOnePercent = best is null ? null : EpochsToWithinOnePercent(best.TrainingLoss),
            FitTime = FitTime,
            EpochsTrained = best?.EpochsTrained ?? 0,
            BestRung = best?.Rung ?? -1,
            RungReached = RungReached,
            Status = Status,
            Note = Note,
            TrainerOptionsFactory = () => trainer.Options(Candidate, epochs),
        };
    }

    /// <summary>The loss curves of its longest result (empty without one).</summary>
    public ConvergenceCurve ToCurve() => new(Index, Candidate.Name, Candidate.Label, Latest?.TrainingLoss ?? [], Latest?.ValidationLoss ?? []);

    /// <summary>The first epoch (1-based) whose loss is within 1% of the run's lowest loss, or null without a finite loss.</summary>
    internal static int? EpochsToWithinOnePercent(IReadOnlyList<double> loss)
    {
        double best = loss.Where(double.IsFinite).DefaultIfEmpty(double.NaN).Min();
        if (double.IsNaN(best))
        {
            return null;
        }

        double threshold = best + 0.01 * Math.Abs(best);
        for (int epoch = 0; epoch < loss.Count; epoch++)
        {
            if (loss[epoch] <= threshold)
            {
                return epoch + 1;
            }
        }

        return null;
    }
}

/// <summary>Orders results by the primary metric: the better first, NaN (no result) last.</summary>
internal static class ResultRanking
{
    /// <summary>Negative when <paramref name="a"/> is better than <paramref name="b"/>, zero when equal.</summary>
    public static int Compare(ComparisonMetric primary, double a, double b) => (double.IsNaN(a), double.IsNaN(b)) switch
    {
        (true, true) => 0,
        (true, false) => 1,
        (false, true) => -1,
        _ => ComparisonMetrics.IsHigherBetter(primary) ? b.CompareTo(a) : a.CompareTo(b),
    };

    /// <summary>Successive halving's order within a rung: the latest results by the primary metric, then candidate order.</summary>
    public static IComparer<CandidateState> ByLatest(ComparisonMetric primary) => Comparer<CandidateState>.Create((x, y) =>
    {
        int byMetric = Compare(primary, x.Latest?.Mean(primary) ?? double.NaN, y.Latest?.Mean(primary) ?? double.NaN);
        return byMetric != 0 ? byMetric : x.Index.CompareTo(y.Index);
    });

    /// <summary>The leaderboard's order: each candidate's best result by the primary metric, ties by less fit time, then candidate order.</summary>
    public static IComparer<CandidateState> ByBest(ComparisonMetric primary) => Comparer<CandidateState>.Create((x, y) =>
    {
        CandidateResult? a = x.Best(primary), b = y.Best(primary);
        int byMetric = Compare(primary, a?.Mean(primary) ?? double.NaN, b?.Mean(primary) ?? double.NaN);
        if (byMetric != 0)
        {
            return byMetric;
        }

        int byTime = (a?.FitTime ?? TimeSpan.MaxValue).CompareTo(b?.FitTime ?? TimeSpan.MaxValue);
        return byTime != 0 ? byTime : x.Index.CompareTo(y.Index);
    });
}
