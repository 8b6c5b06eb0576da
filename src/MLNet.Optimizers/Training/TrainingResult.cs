using MLNet.Optimizers.Objectives;

namespace MLNet.Optimizers.Training;

/// <summary>The outcome of <see cref="TrainingLoop.Train(Objectives.TrainingData, Objectives.TrainingData?, ReadOnlySpan{float})"/>.</summary>
public sealed class TrainingResult
{
    internal TrainingResult(LinearModelLayout layout, float[] parameters, IReadOnlyList<EpochReport> history, bool stoppedEarly, int bestEpoch,
        LbfgsStopReason? stopReason = null)
    {
        StopReason = stopReason;
        Layout = layout;
        Parameters = parameters;
        History = history;
        StoppedEarly = stoppedEarly;
        BestEpoch = bestEpoch;
    }

    /// <summary>How <see cref="Parameters"/> is laid out (weights per output, then biases).</summary>
    public LinearModelLayout Layout { get; }

    /// <summary>
    /// The trained parameters: the optimizer's evaluation point (schedule-free rules: x) after the last epoch, or after the
    /// best epoch when <see cref="TrainingOptions.KeepBestModel"/> is set and there is a validation set.
    /// </summary>
    public float[] Parameters { get; }

    /// <summary>One report per epoch run.</summary>
    public IReadOnlyList<EpochReport> History { get; }

    /// <summary>True when early stopping ended the run before <see cref="TrainingOptions.NumberOfEpochs"/>.</summary>
    public bool StoppedEarly { get; }

    /// <summary>The epoch (from 1) with the best monitored loss: validation loss when there is a validation set, else training loss.</summary>
    public int BestEpoch { get; }

    /// <summary>
    /// Why L-BFGS stopped; null for first-order optimizers. <see cref="LbfgsStopReason.MaxIterations"/> means it used all
    /// <see cref="TrainingOptions.NumberOfEpochs"/> iterations without meeting a tolerance, so the model may not have converged
    /// (more epochs would help); <see cref="LbfgsStopReason.StoppedByCallback"/> means early stopping ended the run.
    /// </summary>
    public LbfgsStopReason? StopReason { get; }

    /// <summary>True when L-BFGS stopped on one of its tolerances (gradient, step or loss change) or found no descent direction
    /// (no progress possible), rather than by running out of iterations or by early stopping; false for first-order optimizers,
    /// which have no convergence test.</summary>
    public bool Converged => StopReason is LbfgsStopReason.GradientTolerance or LbfgsStopReason.ChangeTolerance
        or LbfgsStopReason.LossChangeTolerance or LbfgsStopReason.NotDescentDirection;
}
