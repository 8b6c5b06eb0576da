namespace MLNet.Optimizers.Schedules;

/// <summary>The base learning rate at every step: <c>γ(t) = γ₀</c>; PyTorch: no scheduler.</summary>
/// <remarks>Useful as the explicit "after" part of a <see cref="LinearWarmup"/>, and for configurations that always name a schedule.</remarks>
public sealed class ConstantSchedule : LearningRateSchedule
{
    /// <inheritdoc />
    public override double LearningRateAt(long step, double baseLearningRate) => baseLearningRate;

    /// <inheritdoc />
    public override string ToString() => "ConstantSchedule()";
}
