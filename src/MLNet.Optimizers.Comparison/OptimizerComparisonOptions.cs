using Microsoft.ML;
using MLNet.Optimizers.Training;

namespace MLNet.Optimizers.Comparison;

/// <summary>What to compare, on which data, and how much effort to spend; see <see cref="OptimizerComparison"/>.</summary>
public sealed class OptimizerComparisonOptions
{
    /// <summary>The learning-rate factors applied to every default strategy: {0.1, 0.3, 1, 3, 10}.</summary>
    public static IReadOnlyList<double> DefaultLearningRateMultipliers { get; } = [0.1, 0.3, 1, 3, 10];

    /// <summary>The whole data set; the comparison splits it into folds itself. Required.</summary>
    public IDataView? Data { get; set; }

    /// <summary>The data set's name for titles and reports (e.g. the file name); null names none.</summary>
    public string? DataSetName { get; set; }

    /// <summary>The task, which picks the trainer, the label conversion and the metrics.</summary>
    public ComparisonTask Task { get; set; } = ComparisonTask.BinaryClassification;

    /// <summary>
    /// The label column (binary: any two values, see <see cref="ComparisonTask.BinaryClassification"/>; multiclass: any type,
    /// mapped to keys; regression: numeric). Rows whose label is blank (empty text or NaN) are left out and counted.
    /// </summary>
    public string LabelColumnName { get; set; } = "Label";

    /// <summary>The feature column the trainer reads: a known-size vector of Single, after <see cref="PipelinePrefix"/>.</summary>
    public string FeatureColumnName { get; set; } = "Features";

    /// <summary>
    /// Optional transforms placed before the trainer (e.g. Concatenate then NormalizeMeanVariance). They are fitted inside each
    /// fold on that fold's training rows only, so nothing about the held-out rows leaks into the features.
    /// </summary>
    public IEstimator<ITransformer>? PipelinePrefix { get; set; }

    /// <summary>The configurations to compare; null means <see cref="OptimizerComparison.DefaultCandidates"/> over <see cref="LearningRateMultipliers"/>.</summary>
    public IReadOnlyList<ComparisonCandidate>? Candidates { get; set; }

    /// <summary>The learning-rate grid used for the default candidates (ignored when <see cref="Candidates"/> is set).</summary>
    public IReadOnlyList<double> LearningRateMultipliers { get; set; } = DefaultLearningRateMultipliers;

    /// <summary>The number of cross-validation folds, at least 2 (stratified by label for classification).</summary>
    public int NumberOfFolds { get; set; } = 5;

    /// <summary>Seeds the fold assignment and every training run: the same seed gives the same leaderboard.</summary>
    public int Seed { get; set; }

    /// <summary>
    /// The wall-clock budget for the whole run, final refit included. No new training starts once 90% of it is spent, and a
    /// training run still going when it is all spent is abandoned at its next epoch end.
    /// </summary>
    public TimeSpan TimeBudget { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// The clock the <see cref="TimeBudget"/> is measured on; null means <see cref="System.TimeProvider.System"/>. Tests pass a
    /// fake clock so that what the budget cuts does not depend on the machine's speed.
    /// </summary>
    public TimeProvider? TimeProvider { get; set; }

    /// <summary>The metric that ranks candidates; null means AUC (binary), macro accuracy (multiclass) or R² (regression).</summary>
    public ComparisonMetric? PrimaryMetric { get; set; }

    /// <summary>
    /// The epochs of the last successive-halving rung (the most any candidate trains), at least 1. The default 81 = 3⁴ gives
    /// rungs of 3, 9, 27 and 81 epochs for the 70 default candidates.
    /// </summary>
    public int MaximumNumberOfEpochs { get; set; } = 81;

    /// <summary>η of successive halving: each rung keeps the best 1/η of the candidates and trains them η times longer; at least 2.</summary>
    public int ReductionFactor { get; set; } = 3;

    /// <summary>
    /// How many training runs go at once; null means one per core. Every run depends only on its candidate, epochs, fold and
    /// seed, so the leaderboard's metrics are the same for any value (the budget aside).
    /// </summary>
    public int? MaxDegreeOfParallelism { get; set; }

    /// <summary>
    /// The batch size given to the trainers for candidates that do not set their own; null keeps the trainer default (full
    /// batch: one step per epoch, which starves first-order rules in a short comparison). Default 32. L-BFGS candidates always
    /// take the full batch, and their settings say so (batch size 0).
    /// </summary>
    public int? BatchSize { get; set; } = 32;

    /// <summary>
    /// The ranks that share the comparison's trials: each rank runs the (candidate, fold) trials whose index modulo the rank
    /// count is its rank, every rank receives every outcome and takes the same promotion decisions, and rank 0 alone refits
    /// the best model (<see cref="ComparisonResult.BestModel"/> is null on the other ranks). Every rank passes the same data
    /// and options. The leaderboard is the single-process one, fit times aside. For MPI use <c>MpiCommunicator</c> from
    /// MLNet.Optimizers.Distributed; see docs/distributed.md.
    /// </summary>
    /// <value>Default <see cref="SingleProcessCommunicator.Instance"/>: this process runs every trial.</value>
    public ICommunicator Communicator { get; set; } = SingleProcessCommunicator.Instance;
}
