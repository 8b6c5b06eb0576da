using MLNet.Optimizers.Internal;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace MLNet.Optimizers;

/// <summary>NAdam, Adam with Nesterov momentum and a momentum schedule, coupled L2 weight decay; same results as <c>torch.optim.NAdam</c>.</summary>
/// <remarks>
/// <para>Step t = 1, 2, … with gradient g (γ = learningRate, λ = weightDecay, ψ = momentumDecay):</para>
/// <code>
/// g ← g + λ·θ                                   (when λ ≠ 0: coupled L2)
/// μₜ ← β₁·(1 − ½·0.96^(t·ψ)) ;  μₜ₊₁ ← β₁·(1 − ½·0.96^((t+1)·ψ))
/// Π ← Π·μₜ                                      (mu_product, starts at 1)
/// m ← lerp(m, g, 1 − β₁) ;  v ← β₂·v + (1 − β₂)·g²
/// d ← √(v / (1 − β₂ᵗ)) + ε
/// θ ← θ − γ·(1 − μₜ)/(1 − Π) · g / d
/// θ ← θ − γ·μₜ₊₁/(1 − Π·μₜ₊₁) · m / d
/// </code>
/// <para>Defaults are PyTorch's: γ = 2e-3, β = (0.9, 0.999), ε = 1e-8, λ = 0, ψ = 4e-3. Per-run state: <c>exp_avg</c> (m),
/// <c>exp_avg_sq</c> (v) and the scalar <c>mu_product</c> (Π). Π is rounded to float after each product because
/// PyTorch keeps it in a float32 tensor; the step sizes built from it are computed in double.</para>
/// <para>This is the PyTorch 2.x formula. PyTorch 1.13 and earlier counted μₜ twice in the second denominator
/// (1 − Π·μₜ·μₜ₊₁), so their results differ from these by about 1e-3 relative.</para>
/// <para>Dozat, "Incorporating Nesterov Momentum into Adam", ICLR 2016 workshop.</para>
/// </remarks>
public sealed class NAdam : AdamFamilyOptimizer
{
    internal const string ExpAvgKey = "exp_avg";
    internal const string ExpAvgSqKey = "exp_avg_sq";
    internal const string MuProductKey = "mu_product";

    /// <summary>Creates the rule; every argument is checked here, before any state exists.</summary>
    /// <param name="learningRate">γ, finite and ≥ 0.</param>
    /// <param name="beta1">β₁, the decay of the first moment, in [0, 1).</param>
    /// <param name="beta2">β₂, the decay of the second moment, in [0, 1).</param>
    /// <param name="epsilon">ε, added to the bias-corrected root of the second moment; finite and &gt; 0.</param>
    /// <param name="weightDecay">λ (coupled L2, added to the gradient), finite and ≥ 0.</param>
    /// <param name="momentumDecay">ψ, the momentum schedule's decay, finite and ≥ 0.</param>
    public NAdam(double learningRate = 0.002, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8,
        double weightDecay = 0, double momentumDecay = 0.004)
        : base(learningRate, beta1, beta2, epsilon, weightDecay)
    {
        MomentumDecay = Check.NonNegative(momentumDecay);
    }

    /// <inheritdoc />
    public override string Name => "NAdam";

    /// <summary>ψ, the decay of the momentum schedule μₜ = β₁·(1 − ½·0.96^(t·ψ)).</summary>
    public double MomentumDecay { get; }

    /// <inheritdoc />
    public override OptimizerState CreateState(int parameterCount)
    {
        var state = new OptimizerState(this, parameterCount);
        state.AddVector(ExpAvgKey);
        state.AddVector(ExpAvgSqKey);
        state.SetScalar(MuProductKey, 1.0);
        return state;
    }

    /// <inheritdoc />
    protected override void StepCore(Span<float> parameters, ReadOnlySpan<float> gradient, OptimizerState state, double learningRate)
    {
        var kernel = new Kernel(this, state, learningRate);
        state.SetScalar(MuProductKey, kernel.MuProduct);
        ElementwiseLoop.Run(kernel, parameters, gradient, state.Vector(ExpAvgKey), state.Vector(ExpAvgSqKey));
    }

    /// <summary>
    /// One step for one element and for one vector, with the step's scalars computed once in double and applied in float;
    /// also the advanced <c>mu_product</c>.
    /// </summary>
    private readonly struct Kernel : IElementwiseKernel
    {
        public readonly LerpWeight ExpAvgWeight;
        public readonly StepConstant Beta2;
        public readonly StepConstant SquareShare;
        public readonly StepConstant BiasCorrection2;
        public readonly StepConstant Epsilon;
        public readonly StepConstant WeightDecay;
        public readonly bool HasWeightDecay;
        public readonly StepConstant GradientStepSize;
        public readonly StepConstant MomentumStepSize;

        /// <summary>Π after this step: the product μ₁·…·μₜ, rounded to float like PyTorch's float32 state tensor.</summary>
        public readonly double MuProduct;

        public Kernel(NAdam rule, OptimizerState state, double learningRate)
        {
            long t = state.Step + 1;
            double mu = rule.Beta1 * (1 - 0.5 * Math.Pow(0.96, t * rule.MomentumDecay));
            double muNext = rule.Beta1 * (1 - 0.5 * Math.Pow(0.96, (t + 1) * rule.MomentumDecay));
            MuProduct = (float)state.Scalar(MuProductKey) * (float)mu;
            double muProductNext = MuProduct * muNext;
            ExpAvgWeight = new LerpWeight(1 - rule.Beta1);
            Beta2 = new StepConstant(rule.Beta2);
            SquareShare = new StepConstant(1 - rule.Beta2);
            BiasCorrection2 = new StepConstant(1 - Math.Pow(rule.Beta2, t));
            Epsilon = new StepConstant(rule.Epsilon);
            WeightDecay = new StepConstant(rule.WeightDecay);
            HasWeightDecay = rule.WeightDecay != 0;
            GradientStepSize = new StepConstant(learningRate * (1 - mu) / (1 - MuProduct));
            MomentumStepSize = new StepConstant(learningRate * muNext / (1 - muProductNext));
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
            float denominator = MathF.Sqrt(v / BiasCorrection2.Scalar) + Epsilon.Scalar;
            p -= GradientStepSize.Scalar * g / denominator;
            parameter = p - MomentumStepSize.Scalar * m / denominator;
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
            var denominator = Vector.SquareRoot(v / BiasCorrection2.Vector) + Epsilon.Vector;
            p -= GradientStepSize.Vector * g / denominator;
            parameter = p - MomentumStepSize.Vector * m / denominator;
        }
    }
}
