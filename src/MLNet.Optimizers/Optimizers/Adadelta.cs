using MLNet.Optimizers.Internal;
using System.Numerics;
using System.Runtime.CompilerServices;

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

    /// <summary>Creates the rule; every argument is checked here, before any state exists.</summary>
    /// <param name="learningRate">γ, a factor on the update Δ, finite and ≥ 0.</param>
    /// <param name="rho">ρ, the smoothing constant of both averages, in [0, 1].</param>
    /// <param name="epsilon">ε, added inside both square roots, finite and &gt; 0.</param>
    /// <param name="weightDecay">λ (coupled L2), finite and ≥ 0.</param>
    public Adadelta(double learningRate = 1.0, double rho = 0.9, double epsilon = 1e-6, double weightDecay = 0)
        : base(learningRate)
    {
        Rho = Check.InRange(rho, 0, 1, maxExclusive: false);
        Epsilon = Check.Positive(epsilon);
        WeightDecay = Check.NonNegative(weightDecay);
    }

    /// <inheritdoc />
    public override string Name => "Adadelta";

    /// <summary>ρ, the smoothing constant of the averages.</summary>
    public double Rho { get; }

    /// <summary>ε, added inside both square roots.</summary>
    public double Epsilon { get; }

    /// <summary>λ, the coupled L2 weight decay.</summary>
    public double WeightDecay { get; }

    /// <inheritdoc />
    public override OptimizerState CreateState(int parameterCount)
    {
        var state = new OptimizerState(this, parameterCount);
        state.AddVector(SquareAverageKey);
        state.AddVector(AccumulatedDeltaKey);
        return state;
    }

    /// <inheritdoc />
    protected override void StepCore(Span<float> parameters, ReadOnlySpan<float> gradient, OptimizerState state, double learningRate) =>
        ElementwiseLoop.Run(new Kernel(this, learningRate), parameters, gradient, state.Vector(SquareAverageKey),
            state.Vector(AccumulatedDeltaKey));

    /// <summary>One step for one element and for one vector, with the step's scalars computed once in double and applied in float.</summary>
    private readonly struct Kernel(Adadelta rule, double learningRate) : IElementwiseKernel
    {
        public readonly StepConstant LearningRate = new(learningRate);
        public readonly StepConstant WeightDecay = new(rule.WeightDecay);
        public readonly StepConstant Rho = new(rule.Rho);
        public readonly StepConstant OneMinusRho = new(1 - rule.Rho);
        public readonly StepConstant Epsilon = new(rule.Epsilon);
        public readonly bool HasWeightDecay = rule.WeightDecay != 0;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Apply(ref float parameter, float gradient, ref float squareAverage, ref float accumulatedDelta, ref float unused)
        {
            float d = gradient;
            if (HasWeightDecay)
            {
                d += WeightDecay.Scalar * parameter;
            }

            float v = squareAverage * Rho.Scalar + OneMinusRho.Scalar * d * d;
            squareAverage = v;
            float u = accumulatedDelta;
            float delta = MathF.Sqrt(u + Epsilon.Scalar) / MathF.Sqrt(v + Epsilon.Scalar) * d;
            accumulatedDelta = u * Rho.Scalar + OneMinusRho.Scalar * delta * delta;
            parameter -= LearningRate.Scalar * delta;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Apply(ref Vector<float> parameter, Vector<float> gradient, ref Vector<float> squareAverage,
            ref Vector<float> accumulatedDelta, ref Vector<float> unused)
        {
            var d = gradient;
            if (HasWeightDecay)
            {
                d += WeightDecay.Vector * parameter;
            }

            var v = squareAverage * Rho.Vector + OneMinusRho.Vector * d * d;
            squareAverage = v;
            var u = accumulatedDelta;
            var delta = Vector.SquareRoot(u + Epsilon.Vector) / Vector.SquareRoot(v + Epsilon.Vector) * d;
            accumulatedDelta = u * Rho.Vector + OneMinusRho.Vector * delta * delta;
            parameter -= LearningRate.Vector * delta;
        }
    }
}
