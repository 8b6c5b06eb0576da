using MLNet.Optimizers.Internal;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

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

    private readonly double _alpha;
    private readonly double _epsilon;
    private readonly double _weightDecay;
    private readonly double _momentum;
    private readonly bool _centered;

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
        _alpha = Check.InRange(alpha, 0, 1, maxExclusive: false);
        _epsilon = Check.Positive(epsilon);
        _weightDecay = Check.NonNegative(weightDecay);
        _momentum = Check.InRange(momentum, 0, 1, maxExclusive: true);
        _centered = centered;
    }

    /// <inheritdoc />
    public override string Name => "RmsProp";

    /// <summary>α, the smoothing constant of the averages.</summary>
    public double Alpha => _alpha;

    /// <summary>ε, added to the root for numerical stability.</summary>
    public double Epsilon => _epsilon;

    /// <summary>λ, the coupled L2 weight decay.</summary>
    public double WeightDecay => _weightDecay;

    /// <summary>μ, the momentum factor.</summary>
    public double Momentum => _momentum;

    /// <summary>Whether the centred variant is used.</summary>
    public bool Centered => _centered;

    /// <inheritdoc />
    public override OptimizerState CreateState(int parameterCount)
    {
        var state = new OptimizerState(this, parameterCount);
        state.AddVector(SquareAverageKey);
        if (_centered)
        {
            state.AddVector(GradientAverageKey);
        }

        if (_momentum > 0)
        {
            state.AddVector(MomentumBufferKey);
        }

        return state;
    }

    /// <inheritdoc />
    public override IOptimizer WithLearningRate(double learningRate) =>
        new RmsProp(learningRate, _alpha, _epsilon, _weightDecay, _momentum, _centered);

    /// <inheritdoc />
    public override string ToString() =>
        $"RmsProp(learningRate: {LearningRate}, alpha: {_alpha}, epsilon: {_epsilon}, weightDecay: {_weightDecay}, momentum: {_momentum}, centered: {_centered})";

    /// <inheritdoc />
    /// <remarks>Compiled straight to optimized code: tiered PGO code of this loop kept its scalars on the stack and ran slower.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void StepCore(Span<float> parameters, ReadOnlySpan<float> gradient, OptimizerState state, double learningRate)
    {
        var scalars = new Scalars(this, learningRate);
        Span<float> squareAverage = state.Vector(SquareAverageKey);
        Span<float> gradientAverage = _centered ? state.Vector(GradientAverageKey) : default;
        Span<float> buffer = _momentum > 0 ? state.Vector(MomentumBufferKey) : default;
        int i = 0;
        if (Vector.IsHardwareAccelerated && parameters.Length >= Vector<float>.Count)
        {
            var p = MemoryMarshal.Cast<float, Vector<float>>(parameters);
            var g = MemoryMarshal.Cast<float, Vector<float>>(gradient);
            var sq = MemoryMarshal.Cast<float, Vector<float>>(squareAverage);
            var ga = MemoryMarshal.Cast<float, Vector<float>>(gradientAverage);
            var b = MemoryMarshal.Cast<float, Vector<float>>(buffer);
            var lr = new Vector<float>(scalars.LearningRate);
            var wd = new Vector<float>(scalars.WeightDecay);
            var alpha = new Vector<float>(scalars.Alpha);
            var oneMinusAlpha = new Vector<float>(scalars.OneMinusAlpha);
            var eps = new Vector<float>(scalars.Epsilon);
            var mu = new Vector<float>(scalars.Momentum);
            for (int v = 0; v < p.Length; v++)
            {
                var d = g[v];
                if (scalars.HasWeightDecay)
                {
                    d += wd * p[v];
                }

                var sqv = sq[v] * alpha + oneMinusAlpha * d * d;
                sq[v] = sqv;
                Vector<float> avg;
                if (scalars.Centered)
                {
                    var gav = scalars.GradientAverageWeight.Apply(ga[v], d);
                    ga[v] = gav;
                    avg = Vector.SquareRoot(Vector.Max(sqv - gav * gav, Vector<float>.Zero)) + eps;
                }
                else
                {
                    avg = Vector.SquareRoot(sqv) + eps;
                }

                if (scalars.HasMomentum)
                {
                    var bv = b[v] * mu + d / avg;
                    b[v] = bv;
                    p[v] -= lr * bv;
                }
                else
                {
                    p[v] -= lr * d / avg;
                }
            }

            i = p.Length * Vector<float>.Count;
        }

        float unused = 0;
        for (; i < parameters.Length; i++)
        {
            UpdateElement(ref parameters[i], gradient[i], ref squareAverage[i],
                ref scalars.Centered ? ref gradientAverage[i] : ref unused,
                ref scalars.HasMomentum ? ref buffer[i] : ref unused, scalars);
        }
    }

    /// <summary>The scalar form of one step over every element: the formula line for line; the fused loop must match it bit for bit.</summary>
    internal void ReferenceStep(Span<float> parameters, ReadOnlySpan<float> gradient, OptimizerState state, double learningRate)
    {
        var scalars = new Scalars(this, learningRate);
        Span<float> squareAverage = state.Vector(SquareAverageKey);
        Span<float> gradientAverage = _centered ? state.Vector(GradientAverageKey) : default;
        Span<float> buffer = _momentum > 0 ? state.Vector(MomentumBufferKey) : default;
        float unused = 0;
        for (int i = 0; i < parameters.Length; i++)
        {
            UpdateElement(ref parameters[i], gradient[i], ref squareAverage[i],
                ref scalars.Centered ? ref gradientAverage[i] : ref unused,
                ref scalars.HasMomentum ? ref buffer[i] : ref unused, scalars);
        }

        state.Step++;
    }

    private static void UpdateElement(ref float parameter, float gradient, ref float squareAverage, ref float gradientAverage,
        ref float buffer, in Scalars s)
    {
        float d = gradient;
        if (s.HasWeightDecay)
        {
            d += s.WeightDecay * parameter;
        }

        squareAverage = squareAverage * s.Alpha + s.OneMinusAlpha * d * d;
        float avg;
        if (s.Centered)
        {
            gradientAverage = s.GradientAverageWeight.Apply(gradientAverage, d);
            avg = MathF.Sqrt(MathF.Max(squareAverage - gradientAverage * gradientAverage, 0f)) + s.Epsilon;
        }
        else
        {
            avg = MathF.Sqrt(squareAverage) + s.Epsilon;
        }

        if (s.HasMomentum)
        {
            buffer = buffer * s.Momentum + d / avg;
            parameter -= s.LearningRate * buffer;
        }
        else
        {
            parameter -= s.LearningRate * d / avg;
        }
    }

    /// <summary>The per-step scalars, computed once in double and applied in float.</summary>
    private readonly struct Scalars(RmsProp rule, double learningRate)
    {
        public readonly float LearningRate = (float)learningRate;
        public readonly float WeightDecay = (float)rule._weightDecay;
        public readonly float Alpha = (float)rule._alpha;
        public readonly float OneMinusAlpha = (float)(1 - rule._alpha);
        public readonly LerpWeight GradientAverageWeight = new(1 - rule._alpha);
        public readonly float Epsilon = (float)rule._epsilon;
        public readonly float Momentum = (float)rule._momentum;
        public readonly bool HasWeightDecay = rule._weightDecay != 0;
        public readonly bool Centered = rule._centered;
        public readonly bool HasMomentum = rule._momentum > 0;
    }
}
