using System.Numerics;
using System.Runtime.InteropServices;

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
public sealed class RAdam : FirstOrderOptimizer
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
        : base(learningRate)
    {
        (Beta1, Beta2, Epsilon, WeightDecay) = AdamFamilyHyperparameters.Validate(beta1, beta2, epsilon, weightDecay);
    }

    /// <inheritdoc />
    public override string Name => "RAdam";

    /// <summary>β₁, the decay of the first moment (<c>exp_avg</c>).</summary>
    public double Beta1 { get; }

    /// <summary>β₂, the decay of the second moment (<c>exp_avg_sq</c>); it also sets ρ∞ and so when rectification starts.</summary>
    public double Beta2 { get; }

    /// <summary>ε, added to the square root of the raw second moment.</summary>
    public double Epsilon { get; }

    /// <summary>λ, the coupled L2 weight decay (added to the gradient).</summary>
    public double WeightDecay { get; }

    /// <inheritdoc />
    public override OptimizerState CreateState(int parameterCount)
    {
        var state = new OptimizerState(this, parameterCount);
        state.AddVector(ExpAvgKey);
        state.AddVector(ExpAvgSqKey);
        return state;
    }

    /// <inheritdoc />
    public override IOptimizer WithLearningRate(double learningRate) =>
        new RAdam(learningRate, Beta1, Beta2, Epsilon, WeightDecay);

    /// <inheritdoc />
    public override string ToString() =>
        $"RAdam(learningRate: {LearningRate}, beta1: {Beta1}, beta2: {Beta2}, epsilon: {Epsilon}, weightDecay: {WeightDecay})";

    /// <inheritdoc />
    protected override void StepCore(Span<float> parameters, ReadOnlySpan<float> gradient, OptimizerState state, double learningRate)
    {
        var s = new Scalars(this, state, learningRate);
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
            var biasCorrection1 = new Vector<float>(s.BiasCorrection1);
            var learningRateVector = new Vector<float>(s.LearningRate);
            var bias2Sqrt = new Vector<float>(s.BiasCorrection2Sqrt);
            var epsilon = new Vector<float>(s.Epsilon);
            var rectification = new Vector<float>(s.Rectification);
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
                var update = mk / biasCorrection1 * learningRateVector;
                if (s.IsRectified)
                {
                    var adaptive = Vector<float>.One / (Vector.SquareRoot(vk) + epsilon) * bias2Sqrt;
                    update = update * adaptive * rectification;
                }

                p[k] = pk - update;
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
        float update = expAvg / s.BiasCorrection1 * s.LearningRate;
        if (s.IsRectified)
        {
            // PyTorch evaluates √(1 − β₂ᵗ) / (√v + ε) as Tensor.__rtruediv__, i.e. reciprocal(√v + ε) · √(1 − β₂ᵗ).
            float adaptive = 1f / (MathF.Sqrt(expAvgSq) + s.Epsilon) * s.BiasCorrection2Sqrt;
            update = update * adaptive * s.Rectification;
        }

        parameter -= update;
    }

    /// <summary>The per-step scalars, computed once in double and applied in float.</summary>
    private readonly struct Scalars
    {
        public readonly LerpWeight ExpAvgWeight;
        public readonly float Beta2;
        public readonly float SquareShare;
        public readonly float BiasCorrection1;
        public readonly float BiasCorrection2Sqrt;
        public readonly float LearningRate;
        public readonly float Epsilon;
        public readonly float WeightDecay;
        public readonly bool HasWeightDecay;
        public readonly bool IsRectified;
        public readonly float Rectification;

        public Scalars(RAdam rule, OptimizerState state, double learningRate)
        {
            long t = state.Step + 1;
            double beta2Power = Math.Pow(rule.Beta2, t);
            double biasCorrection2 = 1 - beta2Power;
            double rhoInfinity = 2 / (1 - rule.Beta2) - 1;
            double rho = rhoInfinity - 2 * t * beta2Power / biasCorrection2;
            ExpAvgWeight = new LerpWeight(1 - rule.Beta1);
            Beta2 = (float)rule.Beta2;
            SquareShare = (float)(1 - rule.Beta2);
            BiasCorrection1 = (float)(1 - Math.Pow(rule.Beta1, t));
            BiasCorrection2Sqrt = (float)Math.Sqrt(biasCorrection2);
            LearningRate = (float)learningRate;
            Epsilon = (float)rule.Epsilon;
            WeightDecay = (float)rule.WeightDecay;
            HasWeightDecay = rule.WeightDecay != 0;
            IsRectified = rho > 5;
            Rectification = IsRectified
                ? (float)Math.Sqrt((rho - 4) * (rho - 2) * rhoInfinity / ((rhoInfinity - 4) * (rhoInfinity - 2) * rho))
                : 0f;
        }
    }
}
