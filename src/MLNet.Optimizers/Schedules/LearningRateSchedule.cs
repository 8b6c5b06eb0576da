namespace MLNet.Optimizers.Schedules;

/// <summary>
/// A learning-rate schedule: a pure function of the optimizer step that composes with every
/// <see cref="FirstOrderOptimizer"/> (as Optax schedules do). Steps count optimizer steps (mini-batches), from 0.
/// </summary>
public abstract class LearningRateSchedule
{
    /// <summary>The learning rate for the step with 0-based index <paramref name="step"/>.</summary>
    /// <param name="step">The number of optimizer steps already taken (0 for the first step).</param>
    /// <param name="baseLearningRate">The optimizer's base learning rate γ₀.</param>
    public abstract double LearningRateAt(long step, double baseLearningRate);
}
