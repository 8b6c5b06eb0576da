using MLNet.Optimizers.Internal;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace MLNet.Optimizers;

/// <summary>
/// Schedule-free AdamW: no learning-rate decay schedule is needed; same results as <c>AdamWScheduleFree</c> from
/// facebookresearch/schedule_free (its main, in-place implementation).
/// </summary>
/// <remarks>
/// <para><b>Contract.</b> Gradients are taken at y (the vector given to <c>Step</c>), the Adam-normalised step moves z
/// (kept in the state), and the point to evaluate, validate and export is the average x, which
/// <see cref="ScheduleFreeOptimizer.WriteEvaluationPoint"/> writes without touching y. Reading the training vector directly gives y, not the model.</para>
/// <para>Step k = 0, 1, … (β₁ = beta1 is an interpolation weight here, not a moment decay; λ = weightDecay):</para>
/// <code>
/// z ← y                                        (first step only)
/// γₖ ← γ·min(1, (k + 1)/warmupSteps) ;  lr_max ← max(lr_max, γₖ)
/// w ← (k + 1)^r · lr_max^weightLrPower ;  weight_sum ← weight_sum + w ;  c ← w / weight_sum
/// v ← β₂·v + (1 − β₂)·g²
/// ĝ ← g / (√(v / (1 − β₂^(k+1))) + ε) + λ·y      (only v is bias-corrected; decay is taken at y, after normalising)
/// y ← lerp(y, z, c) + γₖ·(β₁·(1 − c) − 1)·ĝ      (y moves in place; x is never stored)
/// z ← z − γₖ·ĝ
/// x  = (y − (1 − β₁)·z)/β₁ = lerp(y, z, 1 − 1/β₁)
/// </code>
/// <para>This equals the paper's form x ← (1 − c)·x + c·z, y ← β₁·x + (1 − β₁)·z after the z step. The learning rate given to
/// <c>Step</c> is the base rate; warm-up is applied on top of it here. Defaults are schedule_free's: γ = 0.0025,
/// β = (0.9, 0.999), ε = 1e-8, λ = 0, warmupSteps = 0, r = 0, weightLrPower = 2 (its optional <c>inner_momentum</c> is not
/// offered). Per-run state: vectors <c>z</c> and <c>exp_avg_sq</c> (v), scalars <c>weight_sum</c>, <c>lr_max</c> (starts
/// at −1) and <c>scheduled_lr</c> (γₖ of the last step, for logging).</para>
/// <para><b>Differs from schedule_free:</b> there are no <c>train()</c>/<c>eval()</c> modes; the vector always holds y and x
/// is read with <see cref="ScheduleFreeOptimizer.WriteEvaluationPoint"/>, so a forgotten mode switch cannot corrupt the model.</para>
/// <para>Defazio et al., "The Road Less Scheduled", NeurIPS 2024 (arXiv:2405.15682).</para>
/// </remarks>
public sealed class ScheduleFreeAdamW : ScheduleFreeOptimizer
{
    internal const string ExpAvgSqKey = "exp_avg_sq";

    /// <summary>Creates the rule; every argument is checked here, before any state exists.</summary>
    /// <param name="learningRate">γ, the base learning rate, finite and ≥ 0.</param>
    /// <param name="beta1">β₁, the interpolation weight between x and z that gives y, strictly in (0, 1) because x = (y − (1 − β₁)·z)/β₁.</param>
    /// <param name="beta2">β₂, the decay of the second moment, in [0, 1).</param>
    /// <param name="epsilon">ε, added to the bias-corrected root of the second moment; finite and &gt; 0.</param>
    /// <param name="weightDecay">λ, decoupled weight decay evaluated at y, finite and ≥ 0.</param>
    /// <param name="warmupSteps">Steps of linear learning-rate warm-up, ≥ 0.</param>
    /// <param name="r">The power of the polynomial weighting (k + 1)^r of the average, finite and ≥ 0.</param>
    /// <param name="weightLrPower">The power of lr_max in the averaging weight, finite and ≥ 0 (0: no learning-rate weighting).</param>
    public ScheduleFreeAdamW(double learningRate = 0.0025, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8,
        double weightDecay = 0, int warmupSteps = 0, double r = 0, double weightLrPower = 2)
        : base(learningRate, weightDecay, warmupSteps, r, weightLrPower)
    {
        Beta1 = Check.InOpenRange(beta1, 0, 1);
        Beta2 = Check.InRange(beta2, 0, 1, maxExclusive: true);
        Epsilon = Check.Positive(epsilon);
    }

    /// <inheritdoc />
    public override string Name => "ScheduleFreeAdamW";

    /// <summary>β₁, the interpolation weight: y = β₁·x + (1 − β₁)·z.</summary>
    public double Beta1 { get; }

    /// <summary>β₂, the decay of the second moment (<c>exp_avg_sq</c>).</summary>
    public double Beta2 { get; }

    /// <summary>ε, added to the denominator after the square root and the bias correction.</summary>
    public double Epsilon { get; }

    /// <inheritdoc />
    private protected override double Interpolation => Beta1;

    /// <inheritdoc />
    /// <remarks>z and the averaging scalars, then <c>exp_avg_sq</c> (v).</remarks>
    public override OptimizerState CreateState(int parameterCount)
    {
        var state = base.CreateState(parameterCount);
        state.AddVector(ExpAvgSqKey);
        return state;
    }

    /// <inheritdoc />
    protected override void StepCore(Span<float> parameters, ReadOnlySpan<float> gradient, OptimizerState state, double learningRate)
    {
        var (scheduledLearningRate, averageWeight) = BeginStep(parameters, state, learningRate);
        ElementwiseLoop.Run(new Kernel(this, state, scheduledLearningRate, averageWeight), parameters, gradient, state.Vector(ZKey),
            state.Vector(ExpAvgSqKey));
    }

    /// <summary>One step for one element of y, z and v and for one vector, with the step's scalars computed once in double and applied in float.</summary>
    private readonly struct Kernel(ScheduleFreeAdamW rule, OptimizerState state, double scheduledLearningRate, double averageWeight)
        : IElementwiseKernel
    {
        public readonly StepConstant Beta2 = new(rule.Beta2);
        public readonly StepConstant SquareShare = new(1 - rule.Beta2);
        public readonly StepConstant BiasCorrection2 = new(1 - Math.Pow(rule.Beta2, state.Step + 1));
        public readonly StepConstant Epsilon = new(rule.Epsilon);
        public readonly StepConstant WeightDecay = new(rule.WeightDecay);
        public readonly bool HasWeightDecay = rule.WeightDecay != 0;
        public readonly LerpWeight AverageWeight = new(averageWeight);
        public readonly StepConstant YStepSize = new(scheduledLearningRate * (rule.Beta1 * (1 - averageWeight) - 1));
        public readonly StepConstant ZStepSize = new(scheduledLearningRate);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Apply(ref float y, float gradient, ref float z, ref float expAvgSq, ref float unused)
        {
            float g = gradient, yk = y, zk = z;
            float v = expAvgSq * Beta2.Scalar + SquareShare.Scalar * g * g;
            expAvgSq = v;
            float normalized = g / (MathF.Sqrt(v / BiasCorrection2.Scalar) + Epsilon.Scalar);
            if (HasWeightDecay)
            {
                normalized += WeightDecay.Scalar * yk;
            }

            y = AverageWeight.Apply(yk, zk) + YStepSize.Scalar * normalized;
            z = zk - ZStepSize.Scalar * normalized;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Apply(ref Vector<float> y, Vector<float> gradient, ref Vector<float> z, ref Vector<float> expAvgSq,
            ref Vector<float> unused)
        {
            Vector<float> g = gradient, yk = y, zk = z;
            var v = expAvgSq * Beta2.Vector + SquareShare.Vector * g * g;
            expAvgSq = v;
            var normalized = g / (Vector.SquareRoot(v / BiasCorrection2.Vector) + Epsilon.Vector);
            if (HasWeightDecay)
            {
                normalized += WeightDecay.Vector * yk;
            }

            y = AverageWeight.Apply(yk, zk) + YStepSize.Vector * normalized;
            z = zk - ZStepSize.Vector * normalized;
        }
    }
}
