using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.Optimizers.Trainers;

namespace MLNet.Optimizers.Comparison;

/// <summary>What ended a candidate's search.</summary>
public enum CandidateStatus
{
    /// <summary>It survived every rung and trained for the most epochs.</summary>
    Finished,

    /// <summary>Successive halving cut it: it ranked below the cut after <see cref="LeaderboardRow.RungReached"/>.</summary>
    Pruned,

    /// <summary>L-BFGS stopped on its tolerance before the epochs asked, on every fold: training longer changes nothing.</summary>
    Converged,

    /// <summary>A first-order run stopped before the epochs asked on every fold (early stopping), so it trains no longer.</summary>
    StoppedEarly,

    /// <summary>The time budget ran out before it completed its next rung; it keeps its results so far.</summary>
    BudgetExhausted,

    /// <summary>Its training diverged (non-finite loss or parameters); see <see cref="LeaderboardRow.Note"/>.</summary>
    Diverged,

    /// <summary>Its training was refused (e.g. a setting the trainer does not support); see <see cref="LeaderboardRow.Note"/>.</summary>
    Failed,

    /// <summary>The time budget ran out before it completed its first rung; it has no metrics.</summary>
    NotEvaluated,

    /// <summary>The run was cancelled before it completed its next rung; it keeps its results so far.</summary>
    Cancelled,
}

/// <summary>A metric across the cross-validation folds.</summary>
/// <param name="Mean">The mean over folds.</param>
/// <param name="StandardDeviation">The sample standard deviation over folds (n − 1 in the denominator).</param>
/// <param name="PerFold">The value on each held-out fold, in fold order.</param>
public sealed record MetricSummary(double Mean, double StandardDeviation, IReadOnlyList<double> PerFold)
{
    /// <summary>Summarises per-fold values.</summary>
    /// <param name="perFold">One value per fold; at least one.</param>
    public static MetricSummary Of(IReadOnlyList<double> perFold)
    {
        double mean = perFold.Average();
        double variance = perFold.Count > 1 ? perFold.Sum(v => (v - mean) * (v - mean)) / (perFold.Count - 1) : 0;
        return new MetricSummary(mean, Math.Sqrt(variance), perFold);
    }
}

/// <summary>One candidate's line on the leaderboard: the candidate at its best result (epochs, all folds).</summary>
public sealed class LeaderboardRow
{
    /// <summary>1-based position: by the primary metric's mean of the best result (better first), ties by less fit time.</summary>
    public required int Rank { get; init; }

    /// <summary>The candidate's position in the candidate list (0-based), which also names its curve.</summary>
    public required int CandidateIndex { get; init; }

    /// <summary>The candidate's display name (optimizer family, e.g. <c>Sgd+Nesterov</c>).</summary>
    public required string Name { get; init; }

    /// <summary>The candidate's short label, e.g. <c>Adam lr=0.003</c>.</summary>
    public required string Label { get; init; }

    /// <summary>The optimizer's hyperparameters (its <c>ToString</c>) and the trainer settings the candidate overrides.</summary>
    public required string Configuration { get; init; }

    /// <summary>The base learning rate.</summary>
    public required double LearningRate { get; init; }

    /// <summary>The metrics of the best result, over folds; empty when the candidate has none.</summary>
    public required IReadOnlyDictionary<ComparisonMetric, MetricSummary> Metrics { get; init; }

    /// <summary>The mean of the primary metric over folds for the best result, or NaN when the candidate has none.</summary>
    public required double PrimaryMetricMean { get; init; }

    /// <summary>The mean over folds of the training loss after the best result's last epoch.</summary>
    public required double? FinalTrainingLoss { get; init; }

    /// <summary>The first epoch whose mean training loss is within 1% of the best mean training loss of the best result's run.</summary>
    public required int? EpochsToWithinOnePercent { get; init; }

    /// <summary>The training and scoring time spent on this candidate, every rung and fold included.</summary>
    public required TimeSpan FitTime { get; init; }

    /// <summary>The epochs the best result actually trained (the most over folds; fewer than asked when L-BFGS converged); 0 when none.</summary>
    public required int EpochsTrained { get; init; }

    /// <summary>The 0-based rung of the best result; −1 when none.</summary>
    public required int BestRung { get; init; }

    /// <summary>The 0-based index of the last rung the candidate completed on every fold; −1 when none.</summary>
    public required int RungReached { get; init; }

    /// <summary>What ended its search.</summary>
    public required CandidateStatus Status { get; init; }

    /// <summary>A remark, such as the divergence message; null when there is none.</summary>
    public string? Note { get; init; }

    /// <summary>
    /// Every trainer setting of the best result (for a candidate without one, of its first rung): a new object on each call,
    /// ready for <c>mlContext.BinaryClassification.Trainers.LogisticRegression(options)</c> and its multiclass and regression
    /// siblings, or <see cref="CreateTrainer"/>. Trained on the same rows, it gives the same model as the comparison.
    /// </summary>
    public LinearTrainerOptions TrainerOptions => _trainerOptions();

    /// <summary>Sets where <see cref="TrainerOptions"/> comes from.</summary>
    internal Func<LinearTrainerOptions> TrainerOptionsFactory { init => _trainerOptions = value; }

    private readonly Func<LinearTrainerOptions> _trainerOptions = () => throw new InvalidOperationException("This row has no trainer options.");

    /// <summary>The trainer of <see cref="TrainerOptions"/> on <paramref name="mlContext"/>'s catalog.</summary>
    /// <param name="mlContext">The context whose catalog creates the trainer.</param>
    public IEstimator<ITransformer> CreateTrainer(MLContext mlContext)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        return CandidateTrainer.Create(mlContext, TrainerOptions);
    }

    /// <summary>The C# that creates this row's trainer (<c>var trainer = mlContext.….Trainers.…(new ….Options { … });</c>).</summary>
    public string ToCSharp() => TrainerSnippet.CSharp(TrainerOptions);
}

/// <summary>A candidate's loss per epoch, averaged over folds, for its longest complete rung.</summary>
/// <param name="CandidateIndex">The candidate's position in the candidate list.</param>
/// <param name="Name">The candidate's display name.</param>
/// <param name="Label">The candidate's short label (name and learning rate).</param>
/// <param name="TrainingLoss">Mean training loss after epoch 1, 2, … (as reported by the trainer's <c>OnEpochEnd</c>).</param>
/// <param name="ValidationLoss">Mean held-out-fold loss after epoch 1, 2, …; the held-out fold is the validation set.</param>
public sealed record ConvergenceCurve(int CandidateIndex, string Name, string Label, IReadOnlyList<double> TrainingLoss, IReadOnlyList<double> ValidationLoss);

/// <summary>
/// Where a comparison is; reported at the start and end of every epoch of every training run, from the thread doing the work,
/// one report at a time (training runs go in parallel, so reports of different runs interleave).
/// </summary>
/// <param name="Rung">The 0-based rung.</param>
/// <param name="RungCount">The number of rungs planned.</param>
/// <param name="RungEpochs">The epochs each candidate trains in this rung.</param>
/// <param name="Trial">The 1-based number of this training run (one candidate on one fold) since the comparison started.</param>
/// <param name="PlannedTrials">The training runs the schedule plans when no candidate diverges and the budget suffices.</param>
/// <param name="Candidate">The label of the candidate training.</param>
/// <param name="Fold">The 0-based held-out fold.</param>
/// <param name="Epoch">The epochs completed in this training run (0 at its start).</param>
/// <param name="Elapsed">The wall-clock time since the comparison started.</param>
/// <param name="Budget">The comparison's time budget.</param>
public sealed record ComparisonProgress(int Rung, int RungCount, int RungEpochs, int Trial, int PlannedTrials, string Candidate, int Fold, int Epoch,
    TimeSpan Elapsed, TimeSpan Budget);

/// <summary>The outcome of <see cref="OptimizerComparison.Run"/>.</summary>
public sealed class ComparisonResult
{
    /// <summary>The data set's name (<see cref="OptimizerComparisonOptions.DataSetName"/>), or null.</summary>
    public string? DataSetName { get; init; }

    /// <summary>The task compared.</summary>
    public required ComparisonTask Task { get; init; }

    /// <summary>The metric the leaderboard is ranked by.</summary>
    public required ComparisonMetric PrimaryMetric { get; init; }

    /// <summary>The metrics reported for the task, in report order.</summary>
    public IReadOnlyList<ComparisonMetric> Metrics => ComparisonMetrics.For(Task);

    /// <summary>Every candidate, best first.</summary>
    public required IReadOnlyList<LeaderboardRow> Leaderboard { get; init; }

    /// <summary>Each candidate's convergence curve, in candidate order (empty curves for candidates never evaluated).</summary>
    public required IReadOnlyList<ConvergenceCurve> Curves { get; init; }

    /// <summary>The winner (first leaderboard row): the best result measured, whatever rung it came from.</summary>
    public LeaderboardRow Best => Leaderboard[0];

    /// <summary>
    /// The pipeline prefix and the winner's trainer with exactly <see cref="LeaderboardRow.TrainerOptions"/> of
    /// <see cref="Best"/>, refitted on all the data (multiclass: followed by a key-to-value mapping of <c>PredictedLabel</c>).
    /// Null when the run was cancelled, and on every rank but 0 of a distributed comparison (see <see cref="OptimizerComparisonOptions.Communicator"/>). Save it with <c>SaveBestModel</c> or <c>mlContext.Model.Save</c>.
    /// </summary>
    public required ITransformer? BestModel { get; init; }

    /// <summary>The schema of the data the comparison was given, which <see cref="BestModel"/> expects.</summary>
    public required DataViewSchema InputSchema { get; init; }

    /// <summary>The rows compared: those of the data with a label.</summary>
    public required int RowCount { get; init; }

    /// <summary>The rows left out because their label is blank (empty text or NaN).</summary>
    public required int BlankLabelRows { get; init; }

    /// <summary>Binary: the label value taken as the positive class (<c>true</c>); null for other tasks.</summary>
    public required string? PositiveClass { get; init; }

    /// <summary>The epochs of each successive-halving rung.</summary>
    public required IReadOnlyList<int> RungEpochs { get; init; }

    /// <summary>The number of cross-validation folds.</summary>
    public required int NumberOfFolds { get; init; }

    /// <summary>The seed of the fold assignment and training runs.</summary>
    public required int Seed { get; init; }

    /// <summary>The time budget given.</summary>
    public required TimeSpan TimeBudget { get; init; }

    /// <summary>The wall-clock time the run took, final refit included.</summary>
    public required TimeSpan Elapsed { get; init; }

    /// <summary>True when the budget ended the search before every planned training run was done.</summary>
    public required bool BudgetExhausted { get; init; }

    /// <summary>The 0-based rung the budget or the caller stopped the search in; null when every rung ran.</summary>
    public int? StoppedInRung { get; init; }

    /// <summary>
    /// When the budget ran out: roughly the budget that would run the whole schedule, from the pace measured (time per epoch
    /// trained); null otherwise.
    /// </summary>
    public TimeSpan? EstimatedBudgetToComplete { get; init; }

    /// <summary>True when the caller cancelled the run: the leaderboard holds what completed, and there is no <see cref="BestModel"/>.</summary>
    public required bool Cancelled { get; init; }

    /// <summary>Saves <see cref="BestModel"/> with its input schema as an ML.NET model zip.</summary>
    /// <param name="mlContext">The context to save with.</param>
    /// <param name="path">The file to write, e.g. <c>model.zip</c>.</param>
    /// <exception cref="InvalidOperationException">The run was cancelled, so there is no best model.</exception>
    public void SaveBestModel(MLContext mlContext, string path)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        mlContext.Model.Save(RequireBestModel(), InputSchema, path);
    }

    /// <summary>
    /// Saves <see cref="BestModel"/> together with the loader that read the data (e.g. <see cref="CsvDataSet.CreateLoader"/>):
    /// <c>mlContext.Model.LoadWithDataLoader</c> then reads and scores the raw file with Microsoft.ML alone.
    /// </summary>
    /// <param name="mlContext">The context to save with.</param>
    /// <param name="loader">The loader whose output the comparison was given.</param>
    /// <param name="path">The file to write, e.g. <c>model.zip</c>.</param>
    /// <exception cref="InvalidOperationException">The run was cancelled, so there is no best model.</exception>
    public void SaveBestModel(MLContext mlContext, IDataLoader<IMultiStreamSource> loader, string path)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        ArgumentNullException.ThrowIfNull(loader);
        mlContext.Model.Save(RequireBestModel(), loader, path);
    }

    private ITransformer RequireBestModel() =>
        BestModel ?? throw new InvalidOperationException("The run was cancelled before the best model was refitted; there is no model to save.");
}
