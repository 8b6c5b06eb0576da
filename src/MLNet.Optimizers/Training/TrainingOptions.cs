using MLNet.Optimizers.Schedules;

namespace MLNet.Optimizers.Training;

/// <summary>
/// Settings of one <see cref="TrainingLoop"/>: the optimizer, the epoch/mini-batch loop, the penalties, early
/// stopping and progress reporting. <see cref="TrainingLoop"/> checks them and keeps its own copy.
/// </summary>
/// <remarks>
/// The objective minimised is <c>weighted mean loss + (L2Regularization/2)·‖W‖² + L1Regularization·‖W‖₁</c>; the biases are
/// never penalised.
/// </remarks>
public sealed class TrainingOptions
{
    /// <summary>
    /// The optimizer: a <see cref="FirstOrderOptimizer"/> (one step per mini-batch) or L-BFGS (full batch, one epoch =
    /// one L-BFGS iteration). Required.
    /// </summary>
    public IOptimizer? Optimizer;

    /// <summary>Rows per mini-batch; 0 (the default) means full batch. Ignored by L-BFGS, which is always full batch.</summary>
    public int BatchSize;

    /// <summary>Passes over the training data (L-BFGS: iterations); at least 1. Default 10.</summary>
    public int NumberOfEpochs = 10;

    /// <summary>Whether to shuffle the row order at the start of every epoch (mini-batches only). Default true.</summary>
    public bool Shuffle = true;

    /// <summary>The seed of the shuffling and of the <see cref="ValidationFraction"/> split.</summary>
    public int Seed;

    /// <summary>λ₂ ≥ 0: adds <c>(λ₂/2)·‖W‖²</c> to the objective (λ₂·W to the weight gradient). Biases are not penalised.</summary>
    public double L2Regularization;

    /// <summary>
    /// λ₁ ≥ 0: adds <c>λ₁·‖W‖₁</c>; first-order optimizers apply it after each step as the proximal soft-threshold
    /// <c>w ← sign(w)·max(|w| − lr·λ₁, 0)</c>, L-BFGS minimises it by OWL-QN; both set weights exactly to zero. Biases are
    /// not penalised.
    /// </summary>
    public double L1Regularization;

    /// <summary>A learning-rate schedule over optimizer steps; null keeps the optimizer's base rate. Ignored by L-BFGS.</summary>
    public LearningRateSchedule? LearningRateSchedule;

    /// <summary>When set (&gt; 0), the global L2 norm of each mini-batch gradient is clipped to this value. Ignored by L-BFGS.</summary>
    public double? GradientClipNorm;

    /// <summary>
    /// When set (in (0, 1)) and no validation set is given to <see cref="TrainingLoop.Train(Objectives.TrainingData, Objectives.TrainingData?, ReadOnlySpan{float})"/>, this fraction of the
    /// training rows (chosen with <see cref="Seed"/>) is held out as the validation set.
    /// </summary>
    public double? ValidationFraction;

    /// <summary>
    /// When set (≥ 1), training stops after this many consecutive epochs without an improvement larger than
    /// <see cref="EarlyStoppingTolerance"/> of the validation loss (or of the training loss when there is no validation set).
    /// </summary>
    public int? EarlyStoppingPatience;

    /// <summary>The improvement (≥ 0) that counts for early stopping: the monitored loss must fall below best − tolerance.</summary>
    public double EarlyStoppingTolerance;

    /// <summary>With a validation set, return the parameters of the epoch with the best validation loss. Default true.</summary>
    public bool KeepBestModel = true;

    /// <summary>Called after every epoch with its report.</summary>
    public Action<EpochReport>? OnEpochEnd;

    /// <summary>Receives one progress line per epoch, e.g. <c>epoch 3/20: loss 0.123456, validation 0.134567, lr 0.001, 12 ms</c>.</summary>
    public Action<string>? Log;

    /// <summary>Checked once per mini-batch; cancellation throws <see cref="OperationCanceledException"/>.</summary>
    public CancellationToken CancellationToken;

    /// <summary>A shallow copy, so later edits to this object cannot bypass validation.</summary>
    internal TrainingOptions Clone() => (TrainingOptions)MemberwiseClone();
}
