using System.Numerics;
using System.Runtime.CompilerServices;

namespace MLNet.Optimizers;

/// <summary>RAdam, Adam with a rectified adaptive learning rate and coupled L2 weight decay; same results as <c>torch.optim.RAdam</c>.</summary>
/// <remarks>
/// <para>Step t = 1, 2, … with gradient g (γ = learningRate, λ = weightDecay):</para>
/// <code>
/// g ← g + λ·θ                                   (when λ ≠ 0: coupled L2)
/// m ← lerp(m, g, 1 − β₁) ;  v ← β₂·v + (1 − β₂)·g² ;  m̂ ← m / (1 − β₁ᵗ)
/// ρ∞ ← 2/(1 − β₂) − 1 ;  ρₜ ← ρ∞ − 2t·β₂ᵗ/(1 − β₂ᵗ)
/// when ρₜ &gt; 5:  l ← √(1 − β₂ᵗ) / (√v + ε)   (ε is added to the root of the RAW v, unlike Adam)
///                r ← √((ρₜ − 4)(ρₜ − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρₜ))
///                θ ← θ − γ·m̂·l·r
/// otherwise:     θ ← θ − γ·m̂                  (un-adapted momentum SGD while the variance estimate is unreliable)
/// </code>
/// <para>With β₂ = 0.999 the rectified branch starts at t = 6. Defaults are PyTorch's: γ = 1e-3, β = (0.9, 0.999),
/// ε = 1e-8, λ = 0. Per-run state: <c>exp_avg</c> (m) and <c>exp_avg_sq</c> (v).</para>
/// <para>Liu et al., "On the Variance of the Adaptive Learning Rate and Beyond", ICLR 2020 (arXiv:1908.03265).</para>
/// </remarks>
public sealed class RAdam : AdamFamilyOptimizer
{
    internal const string ExpAvgKey = "exp_avg";
    internal const string ExpAvgSqKey = "exp_avg_sq";

    /// <summary>Creates the rule; every argument is checked here, before any state exists.</summary>
    /// <param name="learningRate">γ, finite and ≥ 0.</param>
    /// <param name="beta1">β₁, the decay of the first moment, in [0, 1).</param>
    /// <param name="beta2">β₂, the decay of the second moment, in [0, 1).</param>
    /// <param name="epsilon">ε, added to the root of the second moment; finite and &gt; 0.</param>
    /// <param name="weightDecay">λ (coupled L2, added to the gradient), finite and ≥ 0.</param>
    public RAdam(double learningRate = 0.001, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8, double weightDecay = 0)
        : base(learningRate, beta1, beta2, epsilon, weightDecay)
    {
    }

    /// <inheritdoc />
    public override string Name => "RAdam";

    /// <inheritdoc />
    public override OptimizerState CreateState(int parameterCount)
    {
        var state = new OptimizerState(this, parameterCount);
        state.AddVector(ExpAvgKey);
        state.AddVector(ExpAvgSqKey);
        return state;
    }

    /// <inheritdoc />
    protected override void StepCore(Span<float> parameters, ReadOnlySpan<float> gradient, OptimizerState state, double learningRate) =>
        ElementwiseLoop.Run(new Kernel(this, state, learningRate), parameters, gradient, state.Vector(ExpAvgKey), state.Vector(ExpAvgSqKey));

    /// <summary>One step for one element and for one vector, with the step's scalars computed once in double and applied in float.</summary>
    private readonly struct Kernel : IElementwiseKernel
    {
        public readonly LerpWeight ExpAvgWeight;
        public readonly StepConstant Beta2;
        public readonly StepConstant SquareShare;
        public readonly StepConstant BiasCorrection1;
        public readonly StepConstant BiasCorrection2Sqrt;
        public readonly StepConstant LearningRate;
        public readonly StepConstant Epsilon;
        public readonly StepConstant WeightDecay;
        public readonly bool HasWeightDecay;
        public readonly bool IsRectified;
        public readonly StepConstant Rectification;

        public Kernel(RAdam rule, OptimizerState state, double learningRate)
        {
            long t = state.Step + 1;
            double beta2Power = Math.Pow(rule.Beta2, t);
            double biasCorrection2 = 1 - beta2Power;
            double rhoInfinity = 2 / (1 - rule.Beta2) - 1;
            double rho = rhoInfinity - 2 * t * beta2Power / biasCorrection2;
            ExpAvgWeight = new LerpWeight(1 - rule.Beta1);
            Beta2 = new StepConstant(rule.Beta2);
            SquareShare = new StepConstant(1 - rule.Beta2);
            BiasCorrection1 = new StepConstant(1 - Math.Pow(rule.Beta1, t));
            BiasCorrection2Sqrt = new StepConstant(Math.Sqrt(biasCorrection2));
            LearningRate = new StepConstant(learningRate);
            Epsilon = new StepConstant(rule.Epsilon);
            WeightDecay = new StepConstant(rule.WeightDecay);
            HasWeightDecay = rule.WeightDecay != 0;
            IsRectified = rho > 5;
            Rectification = new StepConstant(IsRectified
                ? Math.Sqrt((rho - 4) * (rho - 2) * rhoInfinity / ((rhoInfinity - 4) * (rhoInfinity - 2) * rho))
                : 0);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Apply(ref float parameter, float gradient, ref float expAvg, ref float expAvgSq, ref float unused)
        {
            float p = parameter, g = gradient;
            if (HasWeightDecay)
            {
                g += WeightDecay.Scalar * p;
            }

            float m = ExpAvgWeight.Apply(expAvg, g);
            float v = expAvgSq * Beta2.Scalar + SquareShare.Scalar * g * g;
            expAvg = m;
            expAvgSq = v;
            float update = m / BiasCorrection1.Scalar * LearningRate.Scalar;
            if (IsRectified)
            {
                // PyTorch evaluates √(1 − β₂ᵗ) / (√v + ε) as Tensor.__rtruediv__, i.e. reciprocal(√v + ε) · √(1 − β₂ᵗ).
                float adaptive = 1f / (MathF.Sqrt(v) + Epsilon.Scalar) * BiasCorrection2Sqrt.Scalar;
                update = update * adaptive * Rectification.Scalar;
            }

            parameter = p - update;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Apply(ref Vector<float> parameter, Vector<float> gradient, ref Vector<float> expAvg, ref Vector<float> expAvgSq,
            ref Vector<float> unused)
        {
            Vector<float> p = parameter, g = gradient;
            if (HasWeightDecay)
            {
                g += WeightDecay.Vector * p;
            }

            var m = ExpAvgWeight.Apply(expAvg, g);
            var v = expAvgSq * Beta2.Vector + SquareShare.Vector * g * g;
            expAvg = m;
            expAvgSq = v;
            var update = m / BiasCorrection1.Vector * LearningRate.Vector;
            if (IsRectified)
            {
                var adaptive = Vector<float>.One / (Vector.SquareRoot(v) + Epsilon.Vector) * BiasCorrection2Sqrt.Vector;
                update = update * adaptive * Rectification.Vector;
            }

            parameter = p - update;
        }
    }
}
