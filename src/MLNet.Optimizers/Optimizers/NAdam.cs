using MLNet.Optimizers.Internal;
using System.Numerics;
using System.Runtime.InteropServices;

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
public sealed class NAdam : FirstOrderOptimizer
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
        : base(learningRate)
    {
        (Beta1, Beta2, Epsilon, WeightDecay) = AdamFamilyHyperparameters.Validate(beta1, beta2, epsilon, weightDecay);
        MomentumDecay = Check.NonNegative(momentumDecay);
    }

    /// <inheritdoc />
    public override string Name => "NAdam";

    /// <summary>β₁, the decay of the first moment (<c>exp_avg</c>) and the scale of the momentum schedule μₜ.</summary>
    public double Beta1 { get; }

    /// <summary>β₂, the decay of the second moment (<c>exp_avg_sq</c>).</summary>
    public double Beta2 { get; }

    /// <summary>ε, added to the denominator after the square root and the bias correction.</summary>
    public double Epsilon { get; }

    /// <summary>λ, the coupled L2 weight decay (added to the gradient).</summary>
    public double WeightDecay { get; }

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
    public override IOptimizer WithLearningRate(double learningRate) =>
        new NAdam(learningRate, Beta1, Beta2, Epsilon, WeightDecay, MomentumDecay);

    /// <inheritdoc />
    public override string ToString() =>
        $"NAdam(learningRate: {LearningRate}, beta1: {Beta1}, beta2: {Beta2}, epsilon: {Epsilon}, weightDecay: {WeightDecay}, momentumDecay: {MomentumDecay})";

    /// <inheritdoc />
    protected override void StepCore(Span<float> parameters, ReadOnlySpan<float> gradient, OptimizerState state, double learningRate)
    {
        var s = new Scalars(this, state, learningRate);
        state.SetScalar(MuProductKey, s.MuProduct);
        Span<float> expAvg = state.Vector(ExpAvgKey);
        Span<float> expAvgSq = state.Vector(ExpAvgSqKey);
        int i = 0;
        if (Vector.IsHardwareAccelerated && parameters.Length >= Vector<float>.Count)
        {
            var p = MemoryMarshal.Cast<float, Vector<float>>(parameters);
            var g = MemoryMarshal.Cast<float, Vector<float>>(gradient);
            var m = MemoryMarshal.Cast<float, Vector<float>>(expAvg);
            var v = MemoryMarshal.Cast<float, Vector<float>>(expAvgSq);
            var weightDecay = new Vector<float>(s.WeightDecay);
            var beta2 = new Vector<float>(s.Beta2);
            var squareShare = new Vector<float>(s.SquareShare);
            var biasCorrection2 = new Vector<float>(s.BiasCorrection2);
            var epsilon = new Vector<float>(s.Epsilon);
            var gradientStep = new Vector<float>(s.GradientStepSize);
            var momentumStep = new Vector<float>(s.MomentumStepSize);
            for (int k = 0; k < p.Length; k++)
            {
                var pk = p[k];
                var gk = g[k];
                if (s.HasWeightDecay)
                {
                    gk += weightDecay * pk;
                }

                var mk = s.ExpAvgWeight.Apply(m[k], gk);
                var vk = v[k] * beta2 + squareShare * gk * gk;
                m[k] = mk;
                v[k] = vk;
                var denominator = Vector.SquareRoot(vk / biasCorrection2) + epsilon;
                pk -= gradientStep * gk / denominator;
                p[k] = pk - momentumStep * mk / denominator;
            }

            i = p.Length * Vector<float>.Count;
        }

        for (; i < parameters.Length; i++)
        {
            UpdateElement(ref parameters[i], gradient[i], ref expAvg[i], ref expAvgSq[i], s);
        }
    }

    /// <summary>The scalar form of one step over every element: the formula line for line; the fused loop must match it bit for bit.</summary>
    internal void ReferenceStep(Span<float> parameters, ReadOnlySpan<float> gradient, OptimizerState state, double learningRate)
    {
        var s = new Scalars(this, state, learningRate);
        state.SetScalar(MuProductKey, s.MuProduct);
        Span<float> expAvg = state.Vector(ExpAvgKey);
        Span<float> expAvgSq = state.Vector(ExpAvgSqKey);
        for (int i = 0; i < parameters.Length; i++)
        {
            UpdateElement(ref parameters[i], gradient[i], ref expAvg[i], ref expAvgSq[i], s);
        }

        state.Step++;
    }

    private static void UpdateElement(ref float parameter, float gradient, ref float expAvg, ref float expAvgSq, in Scalars s)
    {
        float g = gradient;
        if (s.HasWeightDecay)
        {
            g += s.WeightDecay * parameter;
        }

        expAvg = s.ExpAvgWeight.Apply(expAvg, g);
        expAvgSq = expAvgSq * s.Beta2 + s.SquareShare * g * g;
        float denominator = MathF.Sqrt(expAvgSq / s.BiasCorrection2) + s.Epsilon;
        parameter -= s.GradientStepSize * g / denominator;
        parameter -= s.MomentumStepSize * expAvg / denominator;
    }

    /// <summary>The per-step scalars, computed once in double and applied in float; also the advanced <c>mu_product</c>.</summary>
    private readonly struct Scalars
    {
        public readonly LerpWeight ExpAvgWeight;
        public readonly float Beta2;
        public readonly float SquareShare;
        public readonly float BiasCorrection2;
        public readonly float Epsilon;
        public readonly float WeightDecay;
        public readonly bool HasWeightDecay;
        public readonly float GradientStepSize;
        public readonly float MomentumStepSize;

        /// <summary>Π after this step: the product μ₁·…·μₜ, rounded to float like PyTorch's float32 state tensor.</summary>
        public readonly double MuProduct;

        public Scalars(NAdam rule, OptimizerState state, double learningRate)
        {
            long t = state.Step + 1;
            double mu = rule.Beta1 * (1 - 0.5 * Math.Pow(0.96, t * rule.MomentumDecay));
            double muNext = rule.Beta1 * (1 - 0.5 * Math.Pow(0.96, (t + 1) * rule.MomentumDecay));
            MuProduct = (float)state.Scalar(MuProductKey) * (float)mu;
            double muProductNext = MuProduct * muNext;
            ExpAvgWeight = new LerpWeight(1 - rule.Beta1);
            Beta2 = (float)rule.Beta2;
            SquareShare = (float)(1 - rule.Beta2);
            BiasCorrection2 = (float)(1 - Math.Pow(rule.Beta2, t));
            Epsilon = (float)rule.Epsilon;
            WeightDecay = (float)rule.WeightDecay;
            HasWeightDecay = rule.WeightDecay != 0;
            GradientStepSize = (float)(learningRate * (1 - mu) / (1 - MuProduct));
            MomentumStepSize = (float)(learningRate * muNext / (1 - muProductNext));
        }
    }
}
