using MLNet.Optimizers.Internal;
using System.Numerics;
using System.Runtime.InteropServices;

namespace MLNet.Optimizers;

/// <summary>Adagrad with learning-rate decay and an initial accumulator; same results as <c>torch.optim.Adagrad</c>.</summary>
/// <remarks>
/// <para>Step t = 1, 2, … with gradient g (γ = learningRate, η = learningRateDecay, λ = weightDecay, s₀ = initialAccumulatorValue):</para>
/// <code>
/// s ← s₀                                  (at CreateState, before any step)
/// g ← g + λ·θ                             (when λ ≠ 0: coupled L2, into the gradient)
/// γ̃ ← γ / (1 + (t − 1)·η)
/// s ← s + g²
/// θ ← θ − γ̃·g / (√s + ε)                  (ε outside the square root)
/// </code>
/// <para>Defaults are PyTorch's: γ = 0.01, η = 0, λ = 0, s₀ = 0, ε = 1e-10. Per-run state: <c>sum</c> (s), created
/// filled with s₀ as PyTorch does in its constructor. γ is the current (possibly scheduled) learning rate; the decay
/// η multiplies on top of it.</para>
/// <para><b>Differs from PyTorch:</b> ε must be &gt; 0 (PyTorch accepts 0, which turns a zero gradient with s₀ = 0 into
/// 0/0 = NaN). Optax's <c>adagrad</c> differs from both (s₀ = 0.1, ε inside the square root).</para>
/// <para>Duchi, Hazan &amp; Singer, "Adaptive Subgradient Methods for Online Learning and Stochastic Optimization", JMLR 2011.</para>
/// </remarks>
public sealed partial class Adagrad : FirstOrderOptimizer
{
    internal const string SumKey = "sum";

    private readonly double _learningRateDecay;
    private readonly double _weightDecay;
    private readonly double _initialAccumulatorValue;
    private readonly double _epsilon;

    /// <summary>Creates the rule; every argument is checked here, before any state exists.</summary>
    /// <param name="learningRate">γ, finite and ≥ 0.</param>
    /// <param name="learningRateDecay">η, finite and ≥ 0: step t uses γ / (1 + (t − 1)·η).</param>
    /// <param name="weightDecay">λ (coupled L2), finite and ≥ 0.</param>
    /// <param name="initialAccumulatorValue">s₀, the starting value of every sum of squares, finite and ≥ 0.</param>
    /// <param name="epsilon">ε, added to √s, finite and &gt; 0.</param>
    public Adagrad(double learningRate = 0.01, double learningRateDecay = 0, double weightDecay = 0,
        double initialAccumulatorValue = 0, double epsilon = 1e-10)
        : base(learningRate)
    {
        _learningRateDecay = Check.NonNegative(learningRateDecay);
        _weightDecay = Check.NonNegative(weightDecay);
        _initialAccumulatorValue = Check.NonNegative(initialAccumulatorValue);
        _epsilon = Check.Positive(epsilon);
    }

    /// <inheritdoc />
    public override string Name => "Adagrad";

    /// <summary>η, the learning-rate decay per step.</summary>
    public double LearningRateDecay => _learningRateDecay;

    /// <summary>λ, the coupled L2 weight decay.</summary>
    public double WeightDecay => _weightDecay;

    /// <summary>s₀, the initial value of the sum of squared gradients.</summary>
    public double InitialAccumulatorValue => _initialAccumulatorValue;

    /// <summary>ε, added to the square root of the sum for numerical stability.</summary>
    public double Epsilon => _epsilon;

    /// <inheritdoc />
    public override OptimizerState CreateState(int parameterCount)
    {
        var state = new OptimizerState(this, parameterCount);
        state.AddVector(SumKey, (float)_initialAccumulatorValue);
        return state;
    }

    /// <inheritdoc />
    public override IOptimizer WithLearningRate(double learningRate) =>
        new Adagrad(learningRate, _learningRateDecay, _weightDecay, _initialAccumulatorValue, _epsilon);

    /// <inheritdoc />
    public override string ToString() =>
        $"Adagrad(learningRate: {LearningRate}, learningRateDecay: {_learningRateDecay}, weightDecay: {_weightDecay}, initialAccumulatorValue: {_initialAccumulatorValue}, epsilon: {_epsilon})";

    /// <inheritdoc />
    protected override void StepCore(Span<float> parameters, ReadOnlySpan<float> gradient, OptimizerState state, double learningRate)
    {
        var scalars = new Scalars(this, state, learningRate);
        Span<float> sum = state.Vector(SumKey);
        int i = 0;
        if (Vector.IsHardwareAccelerated && parameters.Length >= Vector<float>.Count)
        {
            var p = MemoryMarshal.Cast<float, Vector<float>>(parameters);
            var g = MemoryMarshal.Cast<float, Vector<float>>(gradient);
            var s = MemoryMarshal.Cast<float, Vector<float>>(sum);
            var lr = new Vector<float>(scalars.LearningRate);
            var wd = new Vector<float>(scalars.WeightDecay);
            var eps = new Vector<float>(scalars.Epsilon);
            for (int v = 0; v < p.Length; v++)
            {
                var d = g[v];
                if (scalars.HasWeightDecay)
                {
                    d += wd * p[v];
                }

                var sv = s[v] + d * d;
                s[v] = sv;
                p[v] -= lr * d / (Vector.SquareRoot(sv) + eps);
            }

            i = p.Length * Vector<float>.Count;
        }

        for (; i < parameters.Length; i++)
        {
            UpdateElement(ref parameters[i], gradient[i], ref sum[i], scalars);
        }
    }

    /// <summary>The scalar form of one step over every element: the formula line for line; the fused loop must match it bit for bit.</summary>
    internal void ReferenceStep(Span<float> parameters, ReadOnlySpan<float> gradient, OptimizerState state, double learningRate)
    {
        var scalars = new Scalars(this, state, learningRate);
        Span<float> sum = state.Vector(SumKey);
        for (int i = 0; i < parameters.Length; i++)
        {
            UpdateElement(ref parameters[i], gradient[i], ref sum[i], scalars);
        }

        state.Step++;
    }

    private static void UpdateElement(ref float parameter, float gradient, ref float sum, in Scalars s)
    {
        float d = gradient;
        if (s.HasWeightDecay)
        {
            d += s.WeightDecay * parameter;
        }

        sum += d * d;
        parameter -= s.LearningRate * d / (MathF.Sqrt(sum) + s.Epsilon);
    }

    /// <summary>The per-step scalars, computed once in double and applied in float.</summary>
    private readonly struct Scalars(Adagrad rule, OptimizerState state, double learningRate)
    {
        // γ̃ = γ / (1 + (t − 1)·η); state.Step is t − 1 here because the caller advances it after the step.
        public readonly float LearningRate = (float)(learningRate / (1 + state.Step * rule._learningRateDecay));
        public readonly float WeightDecay = (float)rule._weightDecay;
        public readonly float Epsilon = (float)rule._epsilon;
        public readonly bool HasWeightDecay = rule._weightDecay != 0;
    }
}
