namespace MLNet.Optimizers.Training;

/// <summary>What happened in one epoch (for L-BFGS: one iteration).</summary>
/// <param name="Epoch">The epoch number, from 1.</param>
/// <param name="Steps">Optimizer steps taken so far in the run (first-order: mini-batches; L-BFGS: iterations).</param>
/// <param name="TrainingLoss">
/// The weighted mean data loss (no penalty). First-order: over the epoch's batches, each taken at the point where its
/// gradient was computed, so with full batch it is the loss before the epoch's step. L-BFGS: at the iterate after the
/// iteration.
/// </param>
/// <param name="ValidationLoss">The weighted mean data loss on the validation set at the evaluation point after the epoch, if there is one.</param>
/// <param name="LearningRate">The learning rate of the epoch's last step (L-BFGS: the step length the line search chose).</param>
/// <param name="Elapsed">The wall-clock time of the epoch, validation included.</param>
public sealed record EpochReport(int Epoch, long Steps, double TrainingLoss, double? ValidationLoss, double LearningRate, TimeSpan Elapsed);
