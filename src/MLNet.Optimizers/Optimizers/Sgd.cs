using MLNet.Optimizers.Internal;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace MLNet.Optimizers;

/// <summary>Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and coupled weight decay; same results as <c>torch.optim.SGD</c>.</summary>
/// <remarks>
/// <para>Step t = 1, 2, … with gradient g (γ = learningRate, μ = momentum, τ = dampening, λ = weightDecay):</para>
/// <code>
/// g ← g + λ·θ                                   (when λ ≠ 0: coupled L2, into the gradient)
/// b ← g                        at t = 1         (when μ ≠ 0: the buffer starts at the first gradient)
/// b ← μ·b + (1 − τ)·g          at t &gt; 1
/// g ← g + μ·b  (nesterov)   or   g ← b
/// θ ← θ − γ·g
/// </code>
/// <para>As in PyTorch, the learning rate sits outside the buffer (Sutskever et al. put it inside; the two differ when γ
/// changes), and dampening first applies at step 2. Defaults are PyTorch's except γ = 0.01 (PyTorch: 1e-3).
/// Per-run state: <c>momentum_buffer</c> when μ ≠ 0.</para>
/// <para>Nesterov: Sutskever, Martens, Dahl &amp; Hinton, "On the importance of initialization and momentum in deep learning", ICML 2013.</para>
/// </remarks>
public sealed partial class Sgd : FirstOrderOptimizer
{
    internal const string MomentumBufferKey = "momentum_buffer";

    /// <summary>Creates the rule; every argument is checked here, before any state exists.</summary>
    /// <param name="learningRate">γ, finite and ≥ 0.</param>
    /// <param name="momentum">μ, in [0, 1).</param>
    /// <param name="dampening">τ, in [0, 1].</param>
    /// <param name="nesterov">Nesterov momentum; needs μ &gt; 0 and τ = 0.</param>
    /// <param name="weightDecay">λ (coupled L2), finite and ≥ 0.</param>
    public Sgd(double learningRate = 0.01, double momentum = 0, double dampening = 0, bool nesterov = false, double weightDecay = 0)
        : base(learningRate)
    {
        Momentum = Check.InRange(momentum, 0, 1, maxExclusive: true);
        Dampening = Check.InRange(dampening, 0, 1, maxExclusive: false);
        WeightDecay = Check.NonNegative(weightDecay);
        if (nesterov && (momentum <= 0 || dampening != 0))
        {
            throw new ArgumentOutOfRangeException(nameof(nesterov),
                $"nesterov requires momentum > 0 and dampening = 0; got momentum = {momentum}, dampening = {dampening}.");
        }

        Nesterov = nesterov;
    }

    /// <inheritdoc />
    public override string Name => "Sgd";

    /// <summary>μ, the momentum factor.</summary>
    public double Momentum { get; }

    /// <summary>τ, the dampening of the gradient in the momentum buffer.</summary>
    public double Dampening { get; }

    /// <summary>Whether Nesterov momentum is used.</summary>
    public bool Nesterov { get; }

    /// <summary>λ, the coupled L2 weight decay.</summary>
    public double WeightDecay { get; }

    /// <inheritdoc />
    public override OptimizerState CreateState(int parameterCount)
    {
        var state = new OptimizerState(this, parameterCount);
        if (Momentum != 0)
        {
            state.AddVector(MomentumBufferKey);
        }

        return state;
    }

    /// <inheritdoc />
    protected override void StepCore(Span<float> parameters, ReadOnlySpan<float> gradient, OptimizerState state, double learningRate) =>
        ElementwiseLoop.Run(new Kernel(this, state, learningRate), parameters, gradient,
            Momentum != 0 ? state.Vector(MomentumBufferKey) : default);

    /// <summary>One step for one element and for one vector, with the step's scalars computed once in double and applied in float.</summary>
    private readonly struct Kernel(Sgd rule, OptimizerState state, double learningRate) : IElementwiseKernel
    {
        public readonly StepConstant LearningRate = new(learningRate);
        public readonly StepConstant WeightDecay = new(rule.WeightDecay);
        public readonly StepConstant Momentum = new(rule.Momentum);
        public readonly StepConstant GradientShare = new(1 - rule.Dampening);
        public readonly bool HasWeightDecay = rule.WeightDecay != 0;
        public readonly bool HasMomentum = rule.Momentum != 0;
        public readonly bool Nesterov = rule.Nesterov;
        public readonly bool FirstStep = state.Step == 0;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Apply(ref float parameter, float gradient, ref float buffer, ref float unused1, ref float unused2)
        {
            float d = gradient;
            if (HasWeightDecay)
            {
                d += WeightDecay.Scalar * parameter;
            }

            if (HasMomentum)
            {
                float b = FirstStep ? d : Momentum.Scalar * buffer + GradientShare.Scalar * d;
                buffer = b;
                d = Nesterov ? d + Momentum.Scalar * b : b;
            }

            parameter -= LearningRate.Scalar * d;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Apply(ref Vector<float> parameter, Vector<float> gradient, ref Vector<float> buffer, ref Vector<float> unused1,
            ref Vector<float> unused2)
        {
            var d = gradient;
            if (HasWeightDecay)
            {
                d += WeightDecay.Vector * parameter;
            }

            if (HasMomentum)
            {
                var b = FirstStep ? d : Momentum.Vector * buffer + GradientShare.Vector * d;
                buffer = b;
                d = Nesterov ? d + Momentum.Vector * b : b;
            }

            parameter -= LearningRate.Vector * d;
        }
    }
}
