using MLNet.Optimizers.Internal;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace MLNet.Optimizers;

/// <summary>
/// Schedule-free SGD: no learning-rate decay schedule is needed; same results as <c>SGDScheduleFree</c> from
/// facebookresearch/schedule_free (its main, in-place implementation).
/// </summary>
/// <remarks>
/// <para><b>Contract.</b> Gradients are taken at y (the vector given to <c>Step</c>), the SGD step moves z (kept in the
/// state), and the point to evaluate, validate and export is the average x, which <see cref="ScheduleFreeOptimizer.WriteEvaluationPoint"/>
/// writes without touching y. Reading the training vector directly gives y, not the model.</para>
/// <para>Step k = 0, 1, … (μ = momentum is an interpolation weight here, not a gradient buffer; λ = weightDecay):</para>
/// <code>
/// z ← y                                        (first step only)
/// γₖ ← γ·min(1, (k + 1)/warmupSteps) ;  lr_max ← max(lr_max, γₖ)
/// w ← (k + 1)^r · lr_max^weightLrPower ;  weight_sum ← weight_sum + w ;  c ← w / weight_sum
/// g ← g + λ·y                                   (when λ ≠ 0: L2 at y)
/// y ← lerp(y, z, c) + γₖ·(μ·(1 − c) − 1)·g       (y moves in place; x is never stored)
/// z ← z − γₖ·g
/// x  = (y − (1 − μ)·z)/μ = lerp(y, z, 1 − 1/μ)
/// </code>
/// <para>The learning rate given to <c>Step</c> is the base rate; warm-up is applied on top of it here. Defaults are
/// schedule_free's: γ = 1.0 (schedule-free SGD wants rates 10–50× a classical one), μ = 0.9, λ = 0, warmupSteps = 0, r = 0,
/// weightLrPower = 2. Per-run state: vector <c>z</c>, scalars <c>weight_sum</c>, <c>lr_max</c> (starts at −1) and
/// <c>scheduled_lr</c> (γₖ of the last step, for logging).</para>
/// <para><b>Differs from schedule_free:</b> there are no <c>train()</c>/<c>eval()</c> modes; the vector always holds y and x
/// is read with <see cref="ScheduleFreeOptimizer.WriteEvaluationPoint"/>, so a forgotten mode switch cannot corrupt the model.</para>
/// <para>Defazio et al., "The Road Less Scheduled", NeurIPS 2024 (arXiv:2405.15682).</para>
/// </remarks>
public sealed class ScheduleFreeSgd : ScheduleFreeOptimizer
{
    /// <summary>Creates the rule; every argument is checked here, before any state exists.</summary>
    /// <param name="learningRate">γ, the base learning rate, finite and ≥ 0.</param>
    /// <param name="momentum">μ, the interpolation weight between x and z that gives y, strictly in (0, 1).</param>
    /// <param name="weightDecay">λ, L2 weight decay evaluated at y and added to the gradient, finite and ≥ 0.</param>
    /// <param name="warmupSteps">Steps of linear learning-rate warm-up, ≥ 0.</param>
    /// <param name="r">The power of the polynomial weighting (k + 1)^r of the average, finite and ≥ 0.</param>
    /// <param name="weightLrPower">The power of lr_max in the averaging weight, finite and ≥ 0 (0: no learning-rate weighting).</param>
    public ScheduleFreeSgd(double learningRate = 1.0, double momentum = 0.9, double weightDecay = 0, int warmupSteps = 0,
        double r = 0, double weightLrPower = 2)
        : base(learningRate, weightDecay, warmupSteps, r, weightLrPower)
    {
        Momentum = Check.InOpenRange(momentum, 0, 1);
    }

    /// <inheritdoc />
    public override string Name => "ScheduleFreeSgd";

    /// <summary>μ, the interpolation weight: y = μ·x + (1 − μ)·z.</summary>
    public double Momentum { get; }

    /// <inheritdoc />
    private protected override double Interpolation => Momentum;

    /// <inheritdoc />
    protected override void StepCore(Span<float> parameters, ReadOnlySpan<float> gradient, OptimizerState state, double learningRate)
    {
        var (scheduledLearningRate, averageWeight) = BeginStep(parameters, state, learningRate);
        ElementwiseLoop.Run(new Kernel(this, scheduledLearningRate, averageWeight), parameters, gradient, state.Vector(ZKey));
    }

    /// <summary>One step for one element of y and z and for one vector, with the step's scalars computed once in double and applied in float.</summary>
    private readonly struct Kernel(ScheduleFreeSgd rule, double scheduledLearningRate, double averageWeight) : IElementwiseKernel
    {
        public readonly StepConstant WeightDecay = new(rule.WeightDecay);
        public readonly bool HasWeightDecay = rule.WeightDecay != 0;
        public readonly LerpWeight AverageWeight = new(averageWeight);
        public readonly StepConstant YStepSize = new(scheduledLearningRate * (rule.Momentum * (1 - averageWeight) - 1));
        public readonly StepConstant ZStepSize = new(scheduledLearningRate);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Apply(ref float y, float gradient, ref float z, ref float unused1, ref float unused2)
        {
            float g = gradient, yk = y, zk = z;
            if (HasWeightDecay)
            {
                g += WeightDecay.Scalar * yk;
            }

            y = AverageWeight.Apply(yk, zk) + YStepSize.Scalar * g;
            z = zk - ZStepSize.Scalar * g;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Apply(ref Vector<float> y, Vector<float> gradient, ref Vector<float> z, ref Vector<float> unused1,
            ref Vector<float> unused2)
        {
            Vector<float> g = gradient, yk = y, zk = z;
            if (HasWeightDecay)
            {
                g += WeightDecay.Vector * yk;
            }

            y = AverageWeight.Apply(yk, zk) + YStepSize.Vector * g;
            z = zk - ZStepSize.Vector * g;
        }
    }
}
