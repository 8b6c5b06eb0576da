namespace MLNet.Optimizers.Schedules;

/// <summary>
/// A learning-rate schedule: a pure function of the optimizer step that composes with every
/// <see cref="FirstOrderOptimizer"/> (as Optax schedules do). Steps count optimizer steps (mini-batches), from 0.
/// </summary>
/// <remarks>
/// Schedules are immutable and validated in their constructors. <see cref="LinearWarmup"/> puts a warm-up in front of
/// any other schedule. Unlike PyTorch's <c>lr_scheduler</c> objects, which mutate <c>group['lr']</c> and keep a
/// <c>last_epoch</c> counter, a schedule here holds no state: the step comes from the optimizer state, so a restored run
/// resumes its schedule exactly.
/// </remarks>
public abstract class LearningRateSchedule
{
    /// <summary>The learning rate for the step with 0-based index <paramref name="step"/>.</summary>
    /// <param name="step">The number of optimizer steps already taken (0 for the first step).</param>
    /// <param name="baseLearningRate">The optimizer's base learning rate γ₀.</param>
    public abstract double LearningRateAt(long step, double baseLearningRate);
}
