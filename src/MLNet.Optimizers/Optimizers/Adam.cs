using System.Numerics;
using System.Runtime.CompilerServices;

namespace MLNet.Optimizers;

/// <summary>Adam with bias correction, optional AMSGrad and coupled L2 weight decay; same results as <c>torch.optim.Adam</c>.</summary>
/// <remarks>
/// <para>Step t = 1, 2, … with gradient g (γ = learningRate, λ = weightDecay, coupled L2 as in PyTorch):</para>
/// <code>
/// g ← g + λ·θ                                   (when λ ≠ 0: into the gradient; AdamW instead: θ ← θ·(1 − γλ))
/// m ← lerp(m, g, 1 − β₁) = β₁·m + (1 − β₁)·g
/// v ← β₂·v + (1 − β₂)·g²
/// vMax ← max(vMax, v), then vMax replaces v     (when amsGrad: the max of the RAW v, bias-corrected afterwards)
/// θ ← θ − γ/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)   (ε outside the root, after bias correction)
/// </code>
/// <para>Defaults are PyTorch's: γ = 1e-3, β = (0.9, 0.999), ε = 1e-8, λ = 0. Per-run state: <c>exp_avg</c> (m),
/// <c>exp_avg_sq</c> (v) and, with AMSGrad, <c>max_exp_avg_sq</c> (vMax). For decoupled decay use <see cref="AdamW"/>,
/// which is this rule with the decay taken out of the gradient, as in PyTorch.</para>
/// <para>Element operations follow the order of PyTorch's single-tensor loop (<c>torch/optim/adam.py</c>), so float rounding
/// matches it as closely as a different compiler allows.</para>
/// <para>Kingma &amp; Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015 (arXiv:1412.6980); AMSGrad: Reddi, Kale
/// &amp; Kumar, "On the Convergence of Adam and Beyond", ICLR 2018.</para>
/// </remarks>
public partial class Adam : AdamFamilyOptimizer
{
    internal const string ExpAvgKey = "exp_avg";
    internal const string ExpAvgSqKey = "exp_avg_sq";
    internal const string MaxExpAvgSqKey = "max_exp_avg_sq";

    /// <summary>Creates the rule; every argument is checked here, before any state exists.</summary>
    /// <param name="learningRate">γ, finite and ≥ 0.</param>
    /// <param name="beta1">β₁, the decay of the first moment, in [0, 1).</param>
    /// <param name="beta2">β₂, the decay of the second moment, in [0, 1).</param>
    /// <param name="epsilon">ε, added to the bias-corrected root of the second moment; finite and &gt; 0.</param>
    /// <param name="weightDecay">λ (coupled L2, added to the gradient), finite and ≥ 0.</param>
    /// <param name="amsGrad">Use the running maximum of the second moment (AMSGrad).</param>
    public Adam(double learningRate = 0.001, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8,
        double weightDecay = 0, bool amsGrad = false)
        : this(learningRate, beta1, beta2, epsilon, weightDecay, amsGrad, decoupledWeightDecay: false)
    {
    }

    /// <summary>The constructor <see cref="AdamW"/> calls, as PyTorch's <c>AdamW</c> passes <c>decoupled_weight_decay=True</c>.</summary>
    private protected Adam(double learningRate, double beta1, double beta2, double epsilon, double weightDecay, bool amsGrad,
        bool decoupledWeightDecay)
        : base(learningRate, beta1, beta2, epsilon, weightDecay)
    {
        AmsGrad = amsGrad;
        DecoupledWeightDecay = decoupledWeightDecay;
    }

    /// <inheritdoc />
    public override string Name => "Adam";

    /// <summary>Whether AMSGrad's running maximum of the second moment is used.</summary>
    public bool AmsGrad { get; }

    /// <summary>True for <see cref="AdamW"/>: λ shrinks θ by the factor 1 − γλ before the step instead of entering the gradient.</summary>
    private protected bool DecoupledWeightDecay { get; }

    /// <inheritdoc />
    public override OptimizerState CreateState(int parameterCount)
    {
        var state = new OptimizerState(this, parameterCount);
        state.AddVector(ExpAvgKey);
        state.AddVector(ExpAvgSqKey);
        if (AmsGrad)
        {
            state.AddVector(MaxExpAvgSqKey);
        }

        return state;
    }

    /// <inheritdoc />
    protected override void StepCore(Span<float> parameters, ReadOnlySpan<float> gradient, OptimizerState state, double learningRate) =>
        ElementwiseLoop.Run(new Kernel(this, state, learningRate), parameters, gradient, state.Vector(ExpAvgKey),
            state.Vector(ExpAvgSqKey), AmsGrad ? state.Vector(MaxExpAvgSqKey) : default);

    /// <summary>One step for one element and for one vector, with the step's scalars computed once in double and applied in float.</summary>
    private readonly struct Kernel : IElementwiseKernel
    {
        public readonly LerpWeight ExpAvgWeight;
        public readonly StepConstant Beta2;
        public readonly StepConstant SquareShare;
        public readonly StepConstant BiasCorrection2Sqrt;
        public readonly StepConstant Epsilon;
        public readonly StepConstant StepSize;
        public readonly StepConstant WeightDecay;
        public readonly StepConstant DecayFactor;
        public readonly bool CoupledDecay;
        public readonly bool DecoupledDecay;
        public readonly bool AmsGrad;

        public Kernel(Adam rule, OptimizerState state, double learningRate)
        {
            long t = state.Step + 1;
            double biasCorrection1 = 1 - Math.Pow(rule.Beta1, t);
            double biasCorrection2 = 1 - Math.Pow(rule.Beta2, t);
            ExpAvgWeight = new LerpWeight(1 - rule.Beta1);
            Beta2 = new StepConstant(rule.Beta2);
            SquareShare = new StepConstant(1 - rule.Beta2);
            BiasCorrection2Sqrt = new StepConstant(Math.Sqrt(biasCorrection2));
            Epsilon = new StepConstant(rule.Epsilon);
            StepSize = new StepConstant(learningRate / biasCorrection1);
            WeightDecay = new StepConstant(rule.WeightDecay);
            DecayFactor = new StepConstant(1 - learningRate * rule.WeightDecay);
            CoupledDecay = rule.WeightDecay != 0 && !rule.DecoupledWeightDecay;
            DecoupledDecay = rule.WeightDecay != 0 && rule.DecoupledWeightDecay;
            AmsGrad = rule.AmsGrad;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Apply(ref float parameter, float gradient, ref float expAvg, ref float expAvgSq, ref float maxExpAvgSq)
        {
            float p = parameter, g = gradient;
            if (DecoupledDecay)
            {
                p *= DecayFactor.Scalar;
            }
            else if (CoupledDecay)
            {
                g += WeightDecay.Scalar * p;
            }

            float m = ExpAvgWeight.Apply(expAvg, g);
            float v = expAvgSq * Beta2.Scalar + SquareShare.Scalar * g * g;
            expAvg = m;
            expAvgSq = v;
            if (AmsGrad)
            {
                v = MathF.Max(maxExpAvgSq, v);
                maxExpAvgSq = v;
            }

            float denominator = MathF.Sqrt(v) / BiasCorrection2Sqrt.Scalar + Epsilon.Scalar;
            parameter = p - StepSize.Scalar * m / denominator;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Apply(ref Vector<float> parameter, Vector<float> gradient, ref Vector<float> expAvg, ref Vector<float> expAvgSq,
            ref Vector<float> maxExpAvgSq)
        {
            Vector<float> p = parameter, g = gradient;
            if (DecoupledDecay)
            {
                p *= DecayFactor.Vector;
            }
            else if (CoupledDecay)
            {
                g += WeightDecay.Vector * p;
            }

            var m = ExpAvgWeight.Apply(expAvg, g);
            var v = expAvgSq * Beta2.Vector + SquareShare.Vector * g * g;
            expAvg = m;
            expAvgSq = v;
            if (AmsGrad)
            {
                v = Vector.Max(maxExpAvgSq, v);
                maxExpAvgSq = v;
            }

            var denominator = Vector.SquareRoot(v) / BiasCorrection2Sqrt.Vector + Epsilon.Vector;
            parameter = p - StepSize.Vector * m / denominator;
        }
    }
}
