using System.Globalization;
using MLNet.Optimizers.Internal;
namespace MLNet.Optimizers.Schedules;

/// <summary>Multiplies the learning rate by γ at every step; same values as <c>torch.optim.lr_scheduler.ExponentialLR</c>.</summary>
/// <remarks>
/// <code>γ(t) = γ₀ · gamma^t</code>
/// <para>t is the 0-based optimizer step (PyTorch's ExponentialLR decays once per <c>scheduler.step()</c> call, often per
/// epoch; here it is per optimizer step, so pick gamma accordingly).</para>
/// </remarks>
public sealed class ExponentialDecay : LearningRateSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="gamma">The factor per step, in [0, 1].</param>
    public ExponentialDecay(double gamma) => Gamma = Check.InRange(gamma, 0, 1, maxExclusive: false);

    /// <summary>The factor applied per step.</summary>
    public double Gamma { get; }

    /// <inheritdoc />
    public override double LearningRateAt(long step, double baseLearningRate) =>
        baseLearningRate * Math.Pow(Gamma, step);

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"ExponentialDecay(gamma: {Gamma})");
}
