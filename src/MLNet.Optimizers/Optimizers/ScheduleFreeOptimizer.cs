using MLNet.Optimizers.Internal;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace MLNet.Optimizers;

/// <summary>
/// What <see cref="ScheduleFreeAdamW"/> and <see cref="ScheduleFreeSgd"/> share, as in facebookresearch/schedule_free: the
/// linear warm-up, the averaging weight c (kept in the state scalars <c>weight_sum</c> and <c>lr_max</c>), the lazy
/// initialisation of z, and the evaluation point x = (y − (1 − β)·z)/β, where β is the rule's interpolation weight.
/// </summary>
/// <remarks>
/// Gradients are taken at y (the vector given to <c>Step</c>), the step moves z (kept in the state), and the point to
/// evaluate, validate and export is the average x, which <see cref="WriteEvaluationPoint"/> writes without touching y.
/// </remarks>
public abstract class ScheduleFreeOptimizer : FirstOrderOptimizer
{
    internal const string ZKey = "z";
    internal const string WeightSumKey = "weight_sum";
    internal const string LearningRateMaxKey = "lr_max";
    internal const string ScheduledLearningRateKey = "scheduled_lr";

    /// <summary>Checks the settings both rules take: λ finite and ≥ 0, warmupSteps ≥ 0, r and weightLrPower finite and ≥ 0.</summary>
    private protected ScheduleFreeOptimizer(double learningRate, double weightDecay, int warmupSteps, double r, double weightLrPower)
        : base(learningRate)
    {
        WeightDecay = Check.NonNegative(weightDecay);
        WarmupSteps = Check.AtLeast(warmupSteps, 0);
        R = Check.NonNegative(r);
        WeightLrPower = Check.NonNegative(weightLrPower);
    }

    /// <summary>λ, the weight decay, evaluated at y (each rule says where it enters the step).</summary>
    public double WeightDecay { get; }

    /// <summary>The number of steps of linear learning-rate warm-up.</summary>
    public int WarmupSteps { get; }

    /// <summary>r, the power of the polynomial weighting (k + 1)^r in the average.</summary>
    public double R { get; }

    /// <summary>The power of lr_max in the averaging weight.</summary>
    public double WeightLrPower { get; }

    /// <summary>True: the vector given to <c>Step</c> holds y; evaluate and export x from <see cref="WriteEvaluationPoint"/>.</summary>
    public override bool HasSeparateEvaluationPoint => true;

    /// <summary>β, the interpolation weight in y = β·x + (1 − β)·z (<see cref="ScheduleFreeSgd.Momentum"/>, <see cref="ScheduleFreeAdamW.Beta1"/>).</summary>
    private protected abstract double Interpolation { get; }

    /// <inheritdoc />
    /// <remarks>z (filled from y at the first step) and the scalars <c>weight_sum</c> = 0, <c>lr_max</c> = −1 and <c>scheduled_lr</c> = 0.</remarks>
    public override OptimizerState CreateState(int parameterCount)
    {
        var state = new OptimizerState(this, parameterCount);
        state.AddVector(ZKey);
        state.SetScalar(WeightSumKey, 0.0);
        state.SetScalar(LearningRateMaxKey, -1.0);
        state.SetScalar(ScheduledLearningRateKey, 0.0);
        return state;
    }

    /// <summary>Writes x = (y − (1 − β)·z)/β = lerp(y, z, 1 − 1/β), the averaged point to evaluate and export; before the first step, y itself.</summary>
    /// <param name="parameters">y, the training point (the vector given to <c>Step</c>); not modified.</param>
    /// <param name="state">The run's state.</param>
    /// <param name="destination">Receives x; same length as <paramref name="parameters"/>.</param>
    public override void WriteEvaluationPoint(ReadOnlySpan<float> parameters, OptimizerState state, Span<float> destination)
    {
        EnsureEvaluationArguments(parameters, state, destination);
        if (state.Step == 0)
        {
            parameters.CopyTo(destination);
            return;
        }

        // The loop's updated vector is x and its read-only input y.
        ElementwiseLoop.Run(new EvaluationPointKernel(new LerpWeight(1 - 1 / Interpolation)), destination, parameters, state.Vector(ZKey));
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
    private protected (double ScheduledLearningRate, double AverageWeight) BeginStep(
        ReadOnlySpan<float> parameters, OptimizerState state, double learningRate)
    {
        long k = state.Step;
        if (k == 0)
        {
            parameters.CopyTo(state.Vector(ZKey));
        }

        double schedule = k < WarmupSteps ? (k + 1) / (double)WarmupSteps : 1.0;
        double scheduledLearningRate = learningRate * schedule;
        double learningRateMax = Math.Max(scheduledLearningRate, state.Scalar(LearningRateMaxKey));
        double weight = Math.Pow(k + 1, R) * Math.Pow(learningRateMax, WeightLrPower);
        double weightSum = state.Scalar(WeightSumKey) + weight;
        state.SetScalar(LearningRateMaxKey, learningRateMax);
        state.SetScalar(WeightSumKey, weightSum);
        state.SetScalar(ScheduledLearningRateKey, scheduledLearningRate);
        double averageWeight = weightSum == 0 ? 0 : weight / weightSum;
        return (scheduledLearningRate, averageWeight);
    }

    /// <summary>x = lerp(y, z, 1 − 1/β) for one element and for one vector.</summary>
    private readonly struct EvaluationPointKernel(LerpWeight toX) : IElementwiseKernel
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Apply(ref float x, float y, ref float z, ref float unused1, ref float unused2) => x = toX.Apply(y, z);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Apply(ref Vector<float> x, Vector<float> y, ref Vector<float> z, ref Vector<float> unused1, ref Vector<float> unused2) =>
            x = toX.Apply(y, z);
    }
}
