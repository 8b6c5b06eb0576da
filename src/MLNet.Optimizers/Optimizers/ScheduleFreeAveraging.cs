using MLNet.Optimizers.Internal;
using System.Numerics;
using System.Runtime.InteropServices;

namespace MLNet.Optimizers;

/// <summary>
/// The parts shared by <see cref="ScheduleFreeAdamW"/> and <see cref="ScheduleFreeSgd"/>, as in facebookresearch/schedule_free:
/// the linear warm-up, the averaging weight c (kept in the state scalars <c>weight_sum</c> and <c>lr_max</c>), the lazy
/// initialisation of z, and the evaluation point x = (y − (1 − β)·z)/β.
/// </summary>
internal static class ScheduleFreeAveraging
{
    internal const string ZKey = "z";
    internal const string WeightSumKey = "weight_sum";
    internal const string LearningRateMaxKey = "lr_max";
    internal const string ScheduledLearningRateKey = "scheduled_lr";

    /// <summary>Checks the warm-up and averaging-weight settings both rules take: warmupSteps ≥ 0; r and weightLrPower finite and ≥ 0.</summary>
    internal static (int WarmupSteps, double R, double WeightLrPower) ValidateWeighting(int warmupSteps, double r, double weightLrPower) =>
        (Check.AtLeast(warmupSteps, 0), Check.NonNegative(r), Check.NonNegative(weightLrPower));

    /// <summary>Adds z (filled from y at the first step) and the scalars at their starting values.</summary>
    internal static void AddState(OptimizerState state)
    {
        state.AddVector(ZKey);
        state.SetScalar(WeightSumKey, 0.0);
        state.SetScalar(LearningRateMaxKey, -1.0);
        state.SetScalar(ScheduledLearningRateKey, 0.0);
    }

    /// <summary>
    /// Starts step k = <c>state.Step</c> (0-based): copies y into z on the first step, advances <c>lr_max</c> and
    /// <c>weight_sum</c>, and returns the warmed-up learning rate γₖ and the averaging weight cₖ₊₁.
    /// </summary>
    /// <remarks>
    /// <code>
    /// γₖ ← γ·min(1, (k + 1)/warmupSteps) ;  lr_max ← max(lr_max, γₖ)
    /// w ← (k + 1)^r · lr_max^weightLrPower ;  weight_sum ← weight_sum + w ;  c ← w / weight_sum   (0 when weight_sum = 0)
    /// </code>
    /// </remarks>
    internal static (double ScheduledLearningRate, double AverageWeight) BeginStep(
        ReadOnlySpan<float> parameters, OptimizerState state, double learningRate, int warmupSteps, double r, double weightLrPower)
    {
        long k = state.Step;
        if (k == 0)
        {
            parameters.CopyTo(state.Vector(ZKey));
        }

        double schedule = k < warmupSteps ? (k + 1) / (double)warmupSteps : 1.0;
        double scheduledLearningRate = learningRate * schedule;
        double learningRateMax = Math.Max(scheduledLearningRate, state.Scalar(LearningRateMaxKey));
        double weight = Math.Pow(k + 1, r) * Math.Pow(learningRateMax, weightLrPower);
        double weightSum = state.Scalar(WeightSumKey) + weight;
        state.SetScalar(LearningRateMaxKey, learningRateMax);
        state.SetScalar(WeightSumKey, weightSum);
        state.SetScalar(ScheduledLearningRateKey, scheduledLearningRate);
        double averageWeight = weightSum == 0 ? 0 : weight / weightSum;
        return (scheduledLearningRate, averageWeight);
    }

    /// <summary>
    /// Writes x = lerp(y, z, 1 − 1/β) into <paramref name="destination"/>, or y itself before the first step (z unset).
    /// </summary>
    internal static void WriteEvaluationPoint(FirstOrderOptimizer rule, double beta, ReadOnlySpan<float> parameters,
        OptimizerState state, Span<float> destination)
    {
        rule.EnsureEvaluationArguments(parameters, state, destination);
        if (state.Step == 0)
        {
            parameters.CopyTo(destination);
            return;
        }

        ReadOnlySpan<float> z = state.Vector(ZKey);
        var toX = new LerpWeight(1 - 1 / beta);
        int i = 0;
        if (Vector.IsHardwareAccelerated && parameters.Length >= Vector<float>.Count)
        {
            var y = MemoryMarshal.Cast<float, Vector<float>>(parameters);
            var zv = MemoryMarshal.Cast<float, Vector<float>>(z);
            var x = MemoryMarshal.Cast<float, Vector<float>>(destination);
            for (int k = 0; k < y.Length; k++)
            {
                x[k] = toX.Apply(y[k], zv[k]);
            }

            i = y.Length * Vector<float>.Count;
        }

        for (; i < parameters.Length; i++)
        {
            destination[i] = toX.Apply(parameters[i], z[i]);
        }
    }
}
