using MLNet.Optimizers.Internal;
using System.Numerics;
using System.Runtime.InteropServices;

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

    private readonly double _momentum;
    private readonly double _dampening;
    private readonly bool _nesterov;
    private readonly double _weightDecay;

    /// <summary>Creates the rule; every argument is checked here, before any state exists.</summary>
    /// <param name="learningRate">γ, finite and ≥ 0.</param>
    /// <param name="momentum">μ, in [0, 1).</param>
    /// <param name="dampening">τ, in [0, 1].</param>
    /// <param name="nesterov">Nesterov momentum; needs μ &gt; 0 and τ = 0.</param>
    /// <param name="weightDecay">λ (coupled L2), finite and ≥ 0.</param>
    public Sgd(double learningRate = 0.01, double momentum = 0, double dampening = 0, bool nesterov = false, double weightDecay = 0)
        : base(learningRate)
    {
        _momentum = Check.InRange(momentum, 0, 1, maxExclusive: true);
        _dampening = Check.InRange(dampening, 0, 1, maxExclusive: false);
        _weightDecay = Check.NonNegative(weightDecay);
        if (nesterov && (momentum <= 0 || dampening != 0))
        {
            throw new ArgumentOutOfRangeException(nameof(nesterov), nesterov,
                $"nesterov requires momentum > 0 and dampening = 0; got momentum = {momentum}, dampening = {dampening}.");
        }

        _nesterov = nesterov;
    }

    /// <inheritdoc />
    public override string Name => "Sgd";

    /// <summary>μ, the momentum factor.</summary>
    public double Momentum => _momentum;

    /// <summary>τ, the dampening of the gradient in the momentum buffer.</summary>
    public double Dampening => _dampening;

    /// <summary>Whether Nesterov momentum is used.</summary>
    public bool Nesterov => _nesterov;

    /// <summary>λ, the coupled L2 weight decay.</summary>
    public double WeightDecay => _weightDecay;

    /// <inheritdoc />
    public override OptimizerState CreateState(int parameterCount)
    {
        var state = new OptimizerState(this, parameterCount);
        if (_momentum != 0)
        {
            state.AddVector(MomentumBufferKey);
        }

        return state;
    }

    /// <inheritdoc />
    public override IOptimizer WithLearningRate(double learningRate) =>
        new Sgd(learningRate, _momentum, _dampening, _nesterov, _weightDecay);

    /// <inheritdoc />
    public override string ToString() =>
        $"Sgd(learningRate: {LearningRate}, momentum: {_momentum}, dampening: {_dampening}, nesterov: {_nesterov}, weightDecay: {_weightDecay})";

    /// <inheritdoc />
    protected override void StepCore(Span<float> parameters, ReadOnlySpan<float> gradient, OptimizerState state, double learningRate)
    {
        var scalars = new Scalars(this, state, learningRate);
        Span<float> buffer = _momentum != 0 ? state.Vector(MomentumBufferKey) : default;
        int i = 0;
        if (Vector.IsHardwareAccelerated && parameters.Length >= Vector<float>.Count)
        {
            var p = MemoryMarshal.Cast<float, Vector<float>>(parameters);
            var g = MemoryMarshal.Cast<float, Vector<float>>(gradient);
            var b = MemoryMarshal.Cast<float, Vector<float>>(buffer);
            var lr = new Vector<float>(scalars.LearningRate);
            var wd = new Vector<float>(scalars.WeightDecay);
            var mu = new Vector<float>(scalars.Momentum);
            var keep = new Vector<float>(scalars.GradientShare);
            for (int v = 0; v < p.Length; v++)
            {
                var d = g[v];
                if (scalars.HasWeightDecay)
                {
                    d += wd * p[v];
                }

                if (scalars.HasMomentum)
                {
                    var bv = scalars.FirstStep ? d : mu * b[v] + keep * d;
                    b[v] = bv;
                    d = _nesterov ? d + mu * bv : bv;
                }

                p[v] -= lr * d;
            }

            i = p.Length * Vector<float>.Count;
        }

        float unused = 0;
        for (; i < parameters.Length; i++)
        {
            UpdateElement(ref parameters[i], gradient[i], ref scalars.HasMomentum ? ref buffer[i] : ref unused, scalars, _nesterov);
        }
    }

    /// <summary>The scalar form of one step over every element: the formula line for line; the fused loop must match it bit for bit.</summary>
    internal void ReferenceStep(Span<float> parameters, ReadOnlySpan<float> gradient, OptimizerState state, double learningRate)
    {
        var scalars = new Scalars(this, state, learningRate);
        Span<float> buffer = _momentum != 0 ? state.Vector(MomentumBufferKey) : default;
        float unused = 0;
        for (int i = 0; i < parameters.Length; i++)
        {
            UpdateElement(ref parameters[i], gradient[i], ref scalars.HasMomentum ? ref buffer[i] : ref unused, scalars, _nesterov);
        }

        state.Step++;
    }

    private static void UpdateElement(ref float parameter, float gradient, ref float buffer, in Scalars s, bool nesterov)
    {
        float d = gradient;
        if (s.HasWeightDecay)
        {
            d += s.WeightDecay * parameter;
        }

        if (s.HasMomentum)
        {
            buffer = s.FirstStep ? d : s.Momentum * buffer + s.GradientShare * d;
            d = nesterov ? d + s.Momentum * buffer : buffer;
        }

        parameter -= s.LearningRate * d;
    }

    /// <summary>The per-step scalars, computed once in double and applied in float.</summary>
    private readonly struct Scalars(Sgd rule, OptimizerState state, double learningRate)
    {
        public readonly float LearningRate = (float)learningRate;
        public readonly float WeightDecay = (float)rule._weightDecay;
        public readonly float Momentum = (float)rule._momentum;
        public readonly float GradientShare = (float)(1 - rule._dampening);
        public readonly bool HasWeightDecay = rule._weightDecay != 0;
        public readonly bool HasMomentum = rule._momentum != 0;
        public readonly bool FirstStep = state.Step == 0;
    }
}
