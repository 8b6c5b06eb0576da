using System.Numerics;
using System.Runtime.InteropServices;

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
public sealed class Adamax : FirstOrderOptimizer
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
        : base(learningRate)
    {
        (Beta1, Beta2, Epsilon, WeightDecay) = AdamFamilyHyperparameters.Validate(beta1, beta2, epsilon, weightDecay);
    }

    /// <inheritdoc />
    public override string Name => "Adamax";

    /// <summary>β₁, the decay of the first moment (<c>exp_avg</c>).</summary>
    public double Beta1 { get; }

    /// <summary>β₂, the decay of the infinity norm (<c>exp_inf</c>).</summary>
    public double Beta2 { get; }

    /// <summary>ε, added to |g| inside the max.</summary>
    public double Epsilon { get; }

    /// <summary>λ, the coupled L2 weight decay (added to the gradient).</summary>
    public double WeightDecay { get; }

    /// <inheritdoc />
    public override OptimizerState CreateState(int parameterCount)
    {
        var state = new OptimizerState(this, parameterCount);
        state.AddVector(ExpAvgKey);
        state.AddVector(ExpInfKey);
        return state;
    }

    /// <inheritdoc />
    public override IOptimizer WithLearningRate(double learningRate) =>
        new Adamax(learningRate, Beta1, Beta2, Epsilon, WeightDecay);

    /// <inheritdoc />
    public override string ToString() =>
        $"Adamax(learningRate: {LearningRate}, beta1: {Beta1}, beta2: {Beta2}, epsilon: {Epsilon}, weightDecay: {WeightDecay})";

    /// <inheritdoc />
    protected override void StepCore(Span<float> parameters, ReadOnlySpan<float> gradient, OptimizerState state, double learningRate)
    {
        var s = new Scalars(this, state, learningRate);
        Span<float> expAvg = state.Vector(ExpAvgKey);
        Span<float> expInf = state.Vector(ExpInfKey);
        int i = 0;
        if (Vector.IsHardwareAccelerated && parameters.Length >= Vector<float>.Count)
        {
            var p = MemoryMarshal.Cast<float, Vector<float>>(parameters);
            var g = MemoryMarshal.Cast<float, Vector<float>>(gradient);
            var m = MemoryMarshal.Cast<float, Vector<float>>(expAvg);
            var u = MemoryMarshal.Cast<float, Vector<float>>(expInf);
            var weightDecay = new Vector<float>(s.WeightDecay);
            var beta2 = new Vector<float>(s.Beta2);
            var epsilon = new Vector<float>(s.Epsilon);
            var stepSize = new Vector<float>(s.StepSize);
            for (int k = 0; k < p.Length; k++)
            {
                var pk = p[k];
                var gk = g[k];
                if (s.HasWeightDecay)
                {
                    gk += weightDecay * pk;
                }

                var mk = s.ExpAvgWeight.Apply(m[k], gk);
                var uk = Vector.Max(u[k] * beta2, Vector.Abs(gk) + epsilon);
                m[k] = mk;
                u[k] = uk;
                p[k] = pk - stepSize * mk / uk;
            }

            i = p.Length * Vector<float>.Count;
        }

        for (; i < parameters.Length; i++)
        {
            UpdateElement(ref parameters[i], gradient[i], ref expAvg[i], ref expInf[i], s);
        }
    }

    /// <summary>The scalar form of one step over every element: the formula line for line; the fused loop must match it bit for bit.</summary>
    internal void ReferenceStep(Span<float> parameters, ReadOnlySpan<float> gradient, OptimizerState state, double learningRate)
    {
        var s = new Scalars(this, state, learningRate);
        Span<float> expAvg = state.Vector(ExpAvgKey);
        Span<float> expInf = state.Vector(ExpInfKey);
        for (int i = 0; i < parameters.Length; i++)
        {
            UpdateElement(ref parameters[i], gradient[i], ref expAvg[i], ref expInf[i], s);
        }

        state.Step++;
    }

    private static void UpdateElement(ref float parameter, float gradient, ref float expAvg, ref float expInf, in Scalars s)
    {
        float g = gradient;
        if (s.HasWeightDecay)
        {
            g += s.WeightDecay * parameter;
        }

        expAvg = s.ExpAvgWeight.Apply(expAvg, g);
        expInf = MathF.Max(expInf * s.Beta2, MathF.Abs(g) + s.Epsilon);
        parameter -= s.StepSize * expAvg / expInf;
    }

    /// <summary>The per-step scalars, computed once in double and applied in float.</summary>
    private readonly struct Scalars(Adamax rule, OptimizerState state, double learningRate)
    {
        public readonly LerpWeight ExpAvgWeight = new(1 - rule.Beta1);
        public readonly float Beta2 = (float)rule.Beta2;
        public readonly float Epsilon = (float)rule.Epsilon;
        public readonly float StepSize = (float)(learningRate / (1 - Math.Pow(rule.Beta1, state.Step + 1)));
        public readonly float WeightDecay = (float)rule.WeightDecay;
        public readonly bool HasWeightDecay = rule.WeightDecay != 0;
    }
}
