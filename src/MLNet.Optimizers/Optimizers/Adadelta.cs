using MLNet.Optimizers.Internal;
using System.Numerics;
using System.Runtime.InteropServices;

namespace MLNet.Optimizers;

/// <summary>Adadelta with coupled weight decay; same results as <c>torch.optim.Adadelta</c>.</summary>
/// <remarks>
/// <para>Step t = 1, 2, … with gradient g (γ = learningRate, ρ = rho, λ = weightDecay):</para>
/// <code>
/// g ← g + λ·θ                           (when λ ≠ 0: coupled L2, into the gradient)
/// v ← ρ·v + (1 − ρ)·g²                  (square_avg, starts at 0)
/// Δ ← √(u + ε) / √(v + ε) · g           (ε inside both square roots)
/// u ← ρ·u + (1 − ρ)·Δ²                  (acc_delta, starts at 0)
/// θ ← θ − γ·Δ
/// </code>
/// <para>Defaults are PyTorch's: γ = 1.0, ρ = 0.9, ε = 1e-6, λ = 0 (the paper's rule has no γ; γ = 1 reproduces it).
/// Per-run state: <c>square_avg</c> (v) and <c>acc_delta</c> (u).</para>
/// <para><b>Differs from PyTorch:</b> ε must be &gt; 0 (PyTorch accepts 0, which makes the first step √0/√v·g = 0 forever).</para>
/// <para>Zeiler, "ADADELTA: An Adaptive Learning Rate Method", arXiv:1212.5701, 2012.</para>
/// </remarks>
public sealed class Adadelta : FirstOrderOptimizer
{
    internal const string SquareAverageKey = "square_avg";
    internal const string AccumulatedDeltaKey = "acc_delta";

    private readonly double _rho;
    private readonly double _epsilon;
    private readonly double _weightDecay;

    /// <summary>Creates the rule; every argument is checked here, before any state exists.</summary>
    /// <param name="learningRate">γ, a factor on the update Δ, finite and ≥ 0.</param>
    /// <param name="rho">ρ, the smoothing constant of both averages, in [0, 1].</param>
    /// <param name="epsilon">ε, added inside both square roots, finite and &gt; 0.</param>
    /// <param name="weightDecay">λ (coupled L2), finite and ≥ 0.</param>
    public Adadelta(double learningRate = 1.0, double rho = 0.9, double epsilon = 1e-6, double weightDecay = 0)
        : base(learningRate)
    {
        _rho = Check.InRange(rho, 0, 1, maxExclusive: false);
        _epsilon = Check.Positive(epsilon);
        _weightDecay = Check.NonNegative(weightDecay);
    }

    /// <inheritdoc />
    public override string Name => "Adadelta";

    /// <summary>ρ, the smoothing constant of the averages.</summary>
    public double Rho => _rho;

    /// <summary>ε, added inside both square roots.</summary>
    public double Epsilon => _epsilon;

    /// <summary>λ, the coupled L2 weight decay.</summary>
    public double WeightDecay => _weightDecay;

    /// <inheritdoc />
    public override OptimizerState CreateState(int parameterCount)
    {
        var state = new OptimizerState(this, parameterCount);
        state.AddVector(SquareAverageKey);
        state.AddVector(AccumulatedDeltaKey);
        return state;
    }

    /// <inheritdoc />
    public override IOptimizer WithLearningRate(double learningRate) => new Adadelta(learningRate, _rho, _epsilon, _weightDecay);

    /// <inheritdoc />
    public override string ToString() =>
        $"Adadelta(learningRate: {LearningRate}, rho: {_rho}, epsilon: {_epsilon}, weightDecay: {_weightDecay})";

    /// <inheritdoc />
    protected override void StepCore(Span<float> parameters, ReadOnlySpan<float> gradient, OptimizerState state, double learningRate)
    {
        var scalars = new Scalars(this, learningRate);
        Span<float> squareAverage = state.Vector(SquareAverageKey);
        Span<float> accumulatedDelta = state.Vector(AccumulatedDeltaKey);
        int i = 0;
        if (Vector.IsHardwareAccelerated && parameters.Length >= Vector<float>.Count)
        {
            var p = MemoryMarshal.Cast<float, Vector<float>>(parameters);
            var g = MemoryMarshal.Cast<float, Vector<float>>(gradient);
            var sq = MemoryMarshal.Cast<float, Vector<float>>(squareAverage);
            var acc = MemoryMarshal.Cast<float, Vector<float>>(accumulatedDelta);
            var lr = new Vector<float>(scalars.LearningRate);
            var wd = new Vector<float>(scalars.WeightDecay);
            var rho = new Vector<float>(scalars.Rho);
            var oneMinusRho = new Vector<float>(scalars.OneMinusRho);
            var eps = new Vector<float>(scalars.Epsilon);
            for (int v = 0; v < p.Length; v++)
            {
                var d = g[v];
                if (scalars.HasWeightDecay)
                {
                    d += wd * p[v];
                }

                var sqv = sq[v] * rho + oneMinusRho * d * d;
                sq[v] = sqv;
                var accv = acc[v];
                var delta = Vector.SquareRoot(accv + eps) / Vector.SquareRoot(sqv + eps) * d;
                acc[v] = accv * rho + oneMinusRho * delta * delta;
                p[v] -= lr * delta;
            }

            i = p.Length * Vector<float>.Count;
        }

        for (; i < parameters.Length; i++)
        {
            UpdateElement(ref parameters[i], gradient[i], ref squareAverage[i], ref accumulatedDelta[i], scalars);
        }
    }

    /// <summary>The scalar form of one step over every element: the formula line for line; the fused loop must match it bit for bit.</summary>
    internal void ReferenceStep(Span<float> parameters, ReadOnlySpan<float> gradient, OptimizerState state, double learningRate)
    {
        var scalars = new Scalars(this, learningRate);
        Span<float> squareAverage = state.Vector(SquareAverageKey);
        Span<float> accumulatedDelta = state.Vector(AccumulatedDeltaKey);
        for (int i = 0; i < parameters.Length; i++)
        {
            UpdateElement(ref parameters[i], gradient[i], ref squareAverage[i], ref accumulatedDelta[i], scalars);
        }

        state.Step++;
    }

    private static void UpdateElement(ref float parameter, float gradient, ref float squareAverage, ref float accumulatedDelta, in Scalars s)
    {
        float d = gradient;
        if (s.HasWeightDecay)
        {
            d += s.WeightDecay * parameter;
        }

        squareAverage = squareAverage * s.Rho + s.OneMinusRho * d * d;
        float delta = MathF.Sqrt(accumulatedDelta + s.Epsilon) / MathF.Sqrt(squareAverage + s.Epsilon) * d;
        accumulatedDelta = accumulatedDelta * s.Rho + s.OneMinusRho * delta * delta;
        parameter -= s.LearningRate * delta;
    }

    /// <summary>The per-step scalars, computed once in double and applied in float.</summary>
    private readonly struct Scalars(Adadelta rule, double learningRate)
    {
        public readonly float LearningRate = (float)learningRate;
        public readonly float WeightDecay = (float)rule._weightDecay;
        public readonly float Rho = (float)rule._rho;
        public readonly float OneMinusRho = (float)(1 - rule._rho);
        public readonly float Epsilon = (float)rule._epsilon;
        public readonly bool HasWeightDecay = rule._weightDecay != 0;
    }
}
