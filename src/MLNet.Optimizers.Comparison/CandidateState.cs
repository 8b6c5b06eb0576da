namespace MLNet.Optimizers.Comparison;

/// <summary>One training run's held-out metrics and its loss per epoch.</summary>
internal sealed record FoldScore(Dictionary<ComparisonMetric, double> Metrics, List<double> TrainingLoss, List<double> ValidationLoss);

/// <summary>What a comparison knows about one candidate: its last complete rung and its status.</summary>
internal sealed class CandidateState(ComparisonCandidate candidate, int index)
{
    private Dictionary<ComparisonMetric, MetricSummary> _metrics = [];
    private double[] _trainingLoss = [];
    private double[] _validationLoss = [];
    private string? _note;

    public ComparisonCandidate Candidate { get; } = candidate;

    public int Index { get; } = index;

    public int RungReached { get; private set; } = -1;

    public int EpochsTrained { get; private set; }

    public CandidateStatus Status { get; set; } = CandidateStatus.NotEvaluated;

    /// <summary>True once a training run diverged or was refused: the candidate trains no more.</summary>
    public bool Dropped => Status is CandidateStatus.Diverged or CandidateStatus.Failed;

    public string? Note => _note;

    public TimeSpan FitTime { get; set; }

    public double PrimaryMean(ComparisonMetric primary) => _metrics.TryGetValue(primary, out var summary) ? summary.Mean : double.NaN;

    public void Drop(CandidateStatus status, string message)
    {
        Status = status;
        _note = message;
    }

    /// <summary>Records a rung completed on every fold: metrics summarised over folds, losses averaged over folds per epoch.</summary>
    public void Complete(int rung, int epochs, IReadOnlyList<FoldScore> folds)
    {
        RungReached = rung;
        EpochsTrained = epochs;
        _metrics = folds[0].Metrics.Keys.ToDictionary(metric => metric, metric => MetricSummary.Of(folds.Select(f => f.Metrics[metric]).ToArray()));
        _trainingLoss = MeanPerEpoch(folds.Select(f => f.TrainingLoss));
        _validationLoss = MeanPerEpoch(folds.Select(f => f.ValidationLoss));
    }

    public LeaderboardRow ToRow(int rank, ComparisonMetric primary) => new()
    {
        Rank = rank,
        CandidateIndex = Index,
        Name = Candidate.Name,
        Label = Candidate.Label,
        Configuration = Candidate.Configuration,
        LearningRate = Candidate.Optimizer.LearningRate,
        Metrics = _metrics,
        PrimaryMetricMean = PrimaryMean(primary),
        FinalTrainingLoss = _trainingLoss.Length > 0 ? _trainingLoss[^1] : null,
        EpochsToWithinOnePercent = EpochsToWithinOnePercent(_trainingLoss),
        FitTime = FitTime,
        EpochsTrained = EpochsTrained,
        RungReached = RungReached,
        Status = Status,
        Note = _note,
    };

    public ConvergenceCurve ToCurve() => new(Index, Candidate.Name, Candidate.Label, _trainingLoss, _validationLoss);

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

/// <summary>Leaderboard order: deeper rung first, then the primary metric (better first, NaN last), then candidate order.</summary>
internal sealed class StateRanking(ComparisonMetric primary) : IComparer<CandidateState>
{
    public int Compare(CandidateState? x, CandidateState? y)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        int byRung = y.RungReached.CompareTo(x.RungReached);
        if (byRung != 0)
        {
            return byRung;
        }

        double a = x.PrimaryMean(primary), b = y.PrimaryMean(primary);
        int byMetric = (double.IsNaN(a), double.IsNaN(b)) switch
        {
            (true, true) => 0,
            (true, false) => 1,
            (false, true) => -1,
            _ => ComparisonMetrics.IsHigherBetter(primary) ? b.CompareTo(a) : a.CompareTo(b),
        };
        return byMetric != 0 ? byMetric : x.Index.CompareTo(y.Index);
    }
}
