using System.Numerics;
using System.Runtime.CompilerServices;

namespace MLNet.Optimizers;

/// <summary>Adamax, Adam with an infinity-norm second moment and coupled L2 weight decay; same results as <c>torch.optim.Adamax</c>.</summary>
/// <remarks>
/// <para>Step t = 1, 2, … with gradient g (γ = learningRate, λ = weightDecay):</para>
/// <code>
/// g ← g + λ·θ                                   (when λ ≠ 0: coupled L2)
/// m ← lerp(m, g, 1 − β₁)
/// u ← max(β₂·u, |g| + ε)                        (ε is added to |g|, inside the max)
/// θ ← θ − γ/(1 − β₁ᵗ) · m / u
/// </code>
/// <para>Defaults are PyTorch's: γ = 2e-3, β = (0.9, 0.999), ε = 1e-8, λ = 0. Per-run state: <c>exp_avg</c> (m) and
/// <c>exp_inf</c> (u).</para>
/// <para>Kingma &amp; Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015 (arXiv:1412.6980), section 7.1.</para>
/// </remarks>
public sealed class Adamax : AdamFamilyOptimizer
{
    internal const string ExpAvgKey = "exp_avg";
    internal const string ExpInfKey = "exp_inf";

    /// <summary>Creates the rule; every argument is checked here, before any state exists.</summary>
    /// <param name="learningRate">γ, finite and ≥ 0.</param>
    /// <param name="beta1">β₁, the decay of the first moment, in [0, 1).</param>
    /// <param name="beta2">β₂, the decay of the infinity norm, in [0, 1).</param>
    /// <param name="epsilon">ε, added to |g| before the max; finite and &gt; 0.</param>
    /// <param name="weightDecay">λ (coupled L2, added to the gradient), finite and ≥ 0.</param>
    public Adamax(double learningRate = 0.002, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8, double weightDecay = 0)
        : base(learningRate, beta1, beta2, epsilon, weightDecay)
    {
    }

    /// <inheritdoc />
    public override string Name => "Adamax";

    /// <inheritdoc />
    public override OptimizerState CreateState(int parameterCount)
    {
        var state = new OptimizerState(this, parameterCount);
        state.AddVector(ExpAvgKey);
        state.AddVector(ExpInfKey);
        return state;
    }

    /// <inheritdoc />
    protected override void StepCore(Span<float> parameters, ReadOnlySpan<float> gradient, OptimizerState state, double learningRate) =>
        ElementwiseLoop.Run(new Kernel(this, state, learningRate), parameters, gradient, state.Vector(ExpAvgKey), state.Vector(ExpInfKey));

    /// <summary>One step for one element and for one vector, with the step's scalars computed once in double and applied in float.</summary>
    private readonly struct Kernel(Adamax rule, OptimizerState state, double learningRate) : IElementwiseKernel
    {
        public readonly LerpWeight ExpAvgWeight = new(1 - rule.Beta1);
        public readonly StepConstant Beta2 = new(rule.Beta2);
        public readonly StepConstant Epsilon = new(rule.Epsilon);
        public readonly StepConstant StepSize = new(learningRate / (1 - Math.Pow(rule.Beta1, state.Step + 1)));
        public readonly StepConstant WeightDecay = new(rule.WeightDecay);
        public readonly bool HasWeightDecay = rule.WeightDecay != 0;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Apply(ref float parameter, float gradient, ref float expAvg, ref float expInf, ref float unused)
        {
            float p = parameter, g = gradient;
            if (HasWeightDecay)
            {
                g += WeightDecay.Scalar * p;
            }

            float m = ExpAvgWeight.Apply(expAvg, g);
            float u = MathF.Max(expInf * Beta2.Scalar, MathF.Abs(g) + Epsilon.Scalar);
            expAvg = m;
            expInf = u;
            parameter = p - StepSize.Scalar * m / u;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Apply(ref Vector<float> parameter, Vector<float> gradient, ref Vector<float> expAvg, ref Vector<float> expInf,
            ref Vector<float> unused)
        {
            Vector<float> p = parameter, g = gradient;
            if (HasWeightDecay)
            {
                g += WeightDecay.Vector * p;
            }

            var m = ExpAvgWeight.Apply(expAvg, g);
            var u = Vector.Max(expInf * Beta2.Vector, Vector.Abs(g) + Epsilon.Vector);
            expAvg = m;
            expInf = u;
            parameter = p - StepSize.Vector * m / u;
        }
    }
}
