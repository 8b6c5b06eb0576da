using MLNet.Optimizers.Internal;
using System.Numerics;
using System.Runtime.CompilerServices;

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
        LearningRateDecay = Check.NonNegative(learningRateDecay);
        WeightDecay = Check.NonNegative(weightDecay);
        InitialAccumulatorValue = Check.NonNegative(initialAccumulatorValue);
        Epsilon = Check.Positive(epsilon);
    }

    /// <inheritdoc />
    public override string Name => "Adagrad";

    /// <summary>η, the learning-rate decay per step.</summary>
    public double LearningRateDecay { get; }

    /// <summary>λ, the coupled L2 weight decay.</summary>
    public double WeightDecay { get; }

    /// <summary>s₀, the initial value of the sum of squared gradients.</summary>
    public double InitialAccumulatorValue { get; }

    /// <summary>ε, added to the square root of the sum for numerical stability.</summary>
    public double Epsilon { get; }

    /// <inheritdoc />
    public override OptimizerState CreateState(int parameterCount)
    {
        var state = new OptimizerState(this, parameterCount);
        state.AddVector(SumKey, (float)InitialAccumulatorValue);
        return state;
    }

    /// <inheritdoc />
    protected override void StepCore(Span<float> parameters, ReadOnlySpan<float> gradient, OptimizerState state, double learningRate) =>
        ElementwiseLoop.Run(new Kernel(this, state, learningRate), parameters, gradient, state.Vector(SumKey));

    /// <summary>One step for one element and for one vector, with the step's scalars computed once in double and applied in float.</summary>
    private readonly struct Kernel(Adagrad rule, OptimizerState state, double learningRate) : IElementwiseKernel
    {
        // γ̃ = γ / (1 + (t − 1)·η); state.Step is t − 1 here because the caller advances it after the step.
        public readonly StepConstant LearningRate = new(learningRate / (1 + state.Step * rule.LearningRateDecay));
        public readonly StepConstant WeightDecay = new(rule.WeightDecay);
        public readonly StepConstant Epsilon = new(rule.Epsilon);
        public readonly bool HasWeightDecay = rule.WeightDecay != 0;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Apply(ref float parameter, float gradient, ref float sum, ref float unused1, ref float unused2)
        {
            float d = gradient;
            if (HasWeightDecay)
            {
                d += WeightDecay.Scalar * parameter;
            }

            float s = sum + d * d;
            sum = s;
            parameter -= LearningRate.Scalar * d / (MathF.Sqrt(s) + Epsilon.Scalar);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Apply(ref Vector<float> parameter, Vector<float> gradient, ref Vector<float> sum, ref Vector<float> unused1,
            ref Vector<float> unused2)
        {
            var d = gradient;
            if (HasWeightDecay)
            {
                d += WeightDecay.Vector * parameter;
            }

            var s = sum + d * d;
            sum = s;
            parameter -= LearningRate.Vector * d / (Vector.SquareRoot(s) + Epsilon.Vector);
        }
    }
}
