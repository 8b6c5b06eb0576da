using MLNet.Optimizers.Internal;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace MLNet.Optimizers;

/// <summary>RMSProp with optional centering, momentum and coupled weight decay; same results as <c>torch.optim.RMSprop</c>.</summary>
/// <remarks>
/// <para>Step t = 1, 2, … with gradient g (γ = learningRate, α = alpha, μ = momentum, λ = weightDecay):</para>
/// <code>
/// g ← g + λ·θ                           (when λ ≠ 0: coupled L2, into the gradient)
/// v ← α·v + (1 − α)·g²                  (square_avg, starts at 0)
/// ḡ ← lerp(ḡ, g, 1 − α)                 (centered only: grad_avg, starts at 0)
/// a ← √max(v − ḡ², 0) + ε   (centered)   or   a ← √v + ε     (ε outside the square root)
/// b ← μ·b + g/a ;  θ ← θ − γ·b          (when μ &gt; 0: momentum_buffer, starts at 0)
/// θ ← θ − γ·g/a                         (when μ = 0)
/// </code>
/// <para>There is no bias correction, so the first steps are large (v starts at 0). lerp(a, b, w) is PyTorch's:
/// a + w·(b − a) when w &lt; 0.5, otherwise b − (b − a)·(1 − w). Defaults are PyTorch's: γ = 0.01, α = 0.99, ε = 1e-8,
/// λ = 0, μ = 0, not centered. Per-run state: <c>square_avg</c>, plus <c>grad_avg</c> when centered and
/// <c>momentum_buffer</c> when μ &gt; 0.</para>
/// <para><b>Differs from PyTorch:</b> α must be in [0, 1] and ε &gt; 0 (PyTorch accepts any α ≥ 0 and ε = 0). The centered
/// variance v − ḡ² is clamped at 0: when it vanishes (a steady gradient) float rounding can make it negative, and PyTorch's
/// square root then writes NaN into the parameters; elsewhere the results are the same. Optax's
/// <c>rmsprop</c> differs from both: decay 0.9 and ε inside the square root by default.</para>
/// <para>Hinton, Srivastava &amp; Swersky, "Neural Networks for Machine Learning", lecture 6e (2012); centered form: Graves,
/// "Generating Sequences With Recurrent Neural Networks", arXiv:1308.0850.</para>
/// </remarks>
public sealed class RmsProp : FirstOrderOptimizer
{
    internal const string SquareAverageKey = "square_avg";
    internal const string GradientAverageKey = "grad_avg";
    internal const string MomentumBufferKey = "momentum_buffer";

    /// <summary>Creates the rule; every argument is checked here, before any state exists.</summary>
    /// <param name="learningRate">γ, finite and ≥ 0.</param>
    /// <param name="alpha">α, the smoothing constant of the averages, in [0, 1].</param>
    /// <param name="epsilon">ε, added to the root, finite and &gt; 0.</param>
    /// <param name="weightDecay">λ (coupled L2), finite and ≥ 0.</param>
    /// <param name="momentum">μ, in [0, 1).</param>
    /// <param name="centered">Divide by the centred root √(v − ḡ²), an estimate of the gradient's standard deviation.</param>
    public RmsProp(double learningRate = 0.01, double alpha = 0.99, double epsilon = 1e-8, double weightDecay = 0,
        double momentum = 0, bool centered = false)
        : base(learningRate)
    {
        Alpha = Check.InRange(alpha, 0, 1, maxExclusive: false);
        Epsilon = Check.Positive(epsilon);
        WeightDecay = Check.NonNegative(weightDecay);
        Momentum = Check.InRange(momentum, 0, 1, maxExclusive: true);
        Centered = centered;
    }

    /// <inheritdoc />
    public override string Name => "RmsProp";

    /// <summary>α, the smoothing constant of the averages.</summary>
    public double Alpha { get; }

    /// <summary>ε, added to the root for numerical stability.</summary>
    public double Epsilon { get; }

    /// <summary>λ, the coupled L2 weight decay.</summary>
    public double WeightDecay { get; }

    /// <summary>μ, the momentum factor.</summary>
    public double Momentum { get; }

    /// <summary>Whether the centred variant is used.</summary>
    public bool Centered { get; }

    /// <inheritdoc />
    public override OptimizerState CreateState(int parameterCount)
    {
        var state = new OptimizerState(this, parameterCount);
        state.AddVector(SquareAverageKey);
        if (Centered)
        {
            state.AddVector(GradientAverageKey);
        }

        if (Momentum > 0)
        {
            state.AddVector(MomentumBufferKey);
        }

        return state;
    }

    /// <inheritdoc />
    protected override void StepCore(Span<float> parameters, ReadOnlySpan<float> gradient, OptimizerState state, double learningRate) =>
        ElementwiseLoop.Run(new Kernel(this, learningRate), parameters, gradient, state.Vector(SquareAverageKey),
            Centered ? state.Vector(GradientAverageKey) : default, Momentum > 0 ? state.Vector(MomentumBufferKey) : default);

    /// <summary>One step for one element and for one vector, with the step's scalars computed once in double and applied in float.</summary>
    private readonly struct Kernel(RmsProp rule, double learningRate) : IElementwiseKernel
    {
        public readonly StepConstant LearningRate = new(learningRate);
        public readonly StepConstant WeightDecay = new(rule.WeightDecay);
        public readonly StepConstant Alpha = new(rule.Alpha);
        public readonly StepConstant OneMinusAlpha = new(1 - rule.Alpha);
        public readonly LerpWeight GradientAverageWeight = new(1 - rule.Alpha);
        public readonly StepConstant Epsilon = new(rule.Epsilon);
        public readonly StepConstant Momentum = new(rule.Momentum);
        public readonly bool HasWeightDecay = rule.WeightDecay != 0;
        public readonly bool Centered = rule.Centered;
        public readonly bool HasMomentum = rule.Momentum > 0;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Apply(ref float parameter, float gradient, ref float squareAverage, ref float gradientAverage, ref float buffer)
        {
            float d = gradient;
            if (HasWeightDecay)
            {
                d += WeightDecay.Scalar * parameter;
            }

            float v = squareAverage * Alpha.Scalar + OneMinusAlpha.Scalar * d * d;
            squareAverage = v;
            float avg;
            if (Centered)
            {
                float mean = GradientAverageWeight.Apply(gradientAverage, d);
                gradientAverage = mean;
                avg = MathF.Sqrt(MathF.Max(v - mean * mean, 0f)) + Epsilon.Scalar;
            }
            else
            {
                avg = MathF.Sqrt(v) + Epsilon.Scalar;
            }

            if (HasMomentum)
            {
                float b = buffer * Momentum.Scalar + d / avg;
                buffer = b;
                parameter -= LearningRate.Scalar * b;
            }
            else
            {
                parameter -= LearningRate.Scalar * d / avg;
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Apply(ref Vector<float> parameter, Vector<float> gradient, ref Vector<float> squareAverage,
            ref Vector<float> gradientAverage, ref Vector<float> buffer)
        {
            var d = gradient;
            if (HasWeightDecay)
            {
                d += WeightDecay.Vector * parameter;
            }

            var v = squareAverage * Alpha.Vector + OneMinusAlpha.Vector * d * d;
            squareAverage = v;
            Vector<float> avg;
            if (Centered)
            {
                var mean = GradientAverageWeight.Apply(gradientAverage, d);
                gradientAverage = mean;
                avg = Vector.SquareRoot(Vector.Max(v - mean * mean, Vector<float>.Zero)) + Epsilon.Vector;
            }
            else
            {
                avg = Vector.SquareRoot(v) + Epsilon.Vector;
            }

            if (HasMomentum)
            {
                var b = buffer * Momentum.Vector + d / avg;
                buffer = b;
                parameter -= LearningRate.Vector * b;
            }
            else
            {
                parameter -= LearningRate.Vector * d / avg;
            }
        }
    }
}
