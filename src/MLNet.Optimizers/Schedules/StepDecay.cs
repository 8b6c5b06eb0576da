using System.Globalization;
using MLNet.Optimizers.Internal;
namespace MLNet.Optimizers.Schedules;

/// <summary>Multiplies the learning rate by γ every <c>stepSize</c> steps; same values as <c>torch.optim.lr_scheduler.StepLR</c>.</summary>
/// <remarks>
/// <code>γ(t) = γ₀ · gamma^⌊t / stepSize⌋</code>
/// <para>t is the 0-based optimizer step. PyTorch's StepLR counts whatever <c>scheduler.step()</c> is called on (often
/// epochs); here t always counts optimizer steps, so to decay every k epochs pass stepSize = k × batches per epoch.</para>
/// </remarks>
public sealed class StepDecay : LearningRateSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="stepSize">The number of steps between decays, ≥ 1.</param>
    /// <param name="gamma">The factor applied at each decay, in [0, 1].</param>
    public StepDecay(int stepSize, double gamma = 0.1)
    {
        StepSize = Check.AtLeast(stepSize, 1);
        Gamma = Check.InRange(gamma, 0, 1, maxExclusive: false);
    }

    /// <summary>The number of steps between decays.</summary>
    public int StepSize { get; }

    /// <summary>The factor applied at each decay.</summary>
    public double Gamma { get; }

    /// <inheritdoc />
    public override double LearningRateAt(long step, double baseLearningRate) =>
        baseLearningRate * Math.Pow(Gamma, step / StepSize);

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"StepDecay(stepSize: {StepSize}, gamma: {Gamma})");
}
