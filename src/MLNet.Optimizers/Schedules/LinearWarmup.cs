using System.Globalization;
using MLNet.Optimizers.Internal;
namespace MLNet.Optimizers.Schedules;

/// <summary>
/// A linear warm-up in front of any schedule: the rate ramps from startFactor·γ₀ up to where the following schedule
/// begins, then that schedule runs with its steps counted from the end of the warm-up.
/// </summary>
/// <remarks>
/// <para>With W = warmupSteps, s₀ = startFactor, A = after (a <see cref="ConstantSchedule"/> when none is given) and t the
/// 0-based optimizer step:</para>
/// <code>
/// t &lt; W:   γ(t) = s₀·γ₀ + (A(0) − s₀·γ₀)·t / W
/// t ≥ W:   γ(t) = A(t − W)
/// </code>
/// <para>So step 0 uses s₀·γ₀, step W − 1 is (A(0) − s₀·γ₀)/W below A(0), and step W is exactly A's first value; A sees
/// the steps W, W + 1, … as 0, 1, …, which is why, e.g., a cosine period counts from the end of the warm-up.</para>
/// <para>PyTorch: <c>SequentialLR(opt, [LinearLR(opt, start_factor=s₀, end_factor=1, total_iters=W), A], milestones=[W])</c>
/// gives the same values when A starts at γ₀ (all of this library's schedules do except <see cref="OneCycle"/>). PyTorch's
/// LinearLR needs s₀ &gt; 0; s₀ = 0 (Optax's <c>linear_schedule</c> from 0, the usual warm-up) is allowed here and makes
/// the first step a no-op.</para>
/// <para>Goyal et al., "Accurate, Large Minibatch SGD: Training ImageNet in 1 Hour", arXiv:1706.02677, 2017.</para>
/// </remarks>
public sealed class LinearWarmup : LearningRateSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="warmupSteps">W, the number of warm-up steps, ≥ 1.</param>
    /// <param name="after">The schedule that follows the warm-up, its steps counted from 0 at step W; null means the constant γ₀.</param>
    /// <param name="startFactor">s₀, the first step's rate as a fraction of γ₀, in [0, 1].</param>
    public LinearWarmup(int warmupSteps, LearningRateSchedule? after = null, double startFactor = 0)
    {
        WarmupSteps = Check.AtLeast(warmupSteps, 1);
        StartFactor = Check.InRange(startFactor, 0, 1, maxExclusive: false);
        After = after ?? new ConstantSchedule();
    }

    /// <summary>W, the number of warm-up steps.</summary>
    public int WarmupSteps { get; }

    /// <summary>The schedule that runs after the warm-up.</summary>
    public LearningRateSchedule After { get; }

    /// <summary>s₀, the first step's rate as a fraction of γ₀.</summary>
    public double StartFactor { get; }

    /// <inheritdoc />
    public override double LearningRateAt(long step, double baseLearningRate)
    {
        if (step >= WarmupSteps)
        {
            return After.LearningRateAt(step - WarmupSteps, baseLearningRate);
        }

        double start = StartFactor * baseLearningRate;
        double end = After.LearningRateAt(0, baseLearningRate);
        return start + (end - start) * step / WarmupSteps;
    }

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"LinearWarmup(warmupSteps: {WarmupSteps}, after: {After}, startFactor: {StartFactor})");
}
