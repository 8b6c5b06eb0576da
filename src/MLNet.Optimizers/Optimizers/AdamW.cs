namespace MLNet.Optimizers;

/// <summary>Adam with decoupled weight decay; same results as <c>torch.optim.AdamW</c>.</summary>
/// <remarks>
/// <para>Step t = 1, 2, … with gradient g (γ = learningRate, λ = weightDecay):</para>
/// <code>
/// θ ← θ·(1 − γ·λ)                               (first; g is not modified, the decay is scaled by the current γ only)
/// m ← lerp(m, g, 1 − β₁) ;  v ← β₂·v + (1 − β₂)·g²
/// vMax ← max(vMax, v), then vMax replaces v     (when amsGrad)
/// θ ← θ − γ/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)
/// </code>
/// <para>As in PyTorch, this is <see cref="Adam"/> with the decay taken out of the gradient: both run the same update.
/// Defaults are PyTorch's: γ = 1e-3, β = (0.9, 0.999), ε = 1e-8, λ = 0.01 (Optax's <c>adamw</c> uses 1e-4). Like PyTorch
/// and Optax, the decay is multiplied by the (scheduled) learning rate; Loshchilov &amp; Hutter scale it by the schedule
/// multiplier only. Per-run state: <c>exp_avg</c>, <c>exp_avg_sq</c> and, with AMSGrad, <c>max_exp_avg_sq</c>.</para>
/// <para>Loshchilov &amp; Hutter, "Decoupled Weight Decay Regularization", ICLR 2019 (arXiv:1711.05101).</para>
/// </remarks>
public sealed partial class AdamW : FirstOrderOptimizer
{
    private readonly AdamKernel _kernel;

    /// <summary>Creates the rule; every argument is checked here, before any state exists.</summary>
    /// <param name="learningRate">γ, finite and ≥ 0.</param>
    /// <param name="beta1">β₁, the decay of the first moment, in [0, 1).</param>
    /// <param name="beta2">β₂, the decay of the second moment, in [0, 1).</param>
    /// <param name="epsilon">ε, added to the bias-corrected root of the second moment; finite and &gt; 0.</param>
    /// <param name="weightDecay">λ (decoupled: θ shrinks by the factor 1 − γλ each step), finite and ≥ 0.</param>
    /// <param name="amsGrad">Use the running maximum of the second moment (AMSGrad).</param>
    public AdamW(double learningRate = 0.001, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8,
        double weightDecay = 0.01, bool amsGrad = false)
        : base(learningRate)
    {
        (Beta1, Beta2, Epsilon, WeightDecay) = AdamFamilyHyperparameters.Validate(beta1, beta2, epsilon, weightDecay);
        AmsGrad = amsGrad;
        _kernel = new AdamKernel(beta1, beta2, epsilon, weightDecay, amsGrad, decoupledWeightDecay: true);
    }

    /// <inheritdoc />
    public override string Name => "AdamW";

    /// <summary>β₁, the decay of the first moment (<c>exp_avg</c>).</summary>
    public double Beta1 { get; }

    /// <summary>β₂, the decay of the second moment (<c>exp_avg_sq</c>).</summary>
    public double Beta2 { get; }

    /// <summary>ε, added to the denominator after the square root and the bias correction.</summary>
    public double Epsilon { get; }

    /// <summary>λ, the decoupled weight decay (θ ← θ·(1 − γλ) before the Adam step).</summary>
    public double WeightDecay { get; }

    /// <summary>Whether AMSGrad's running maximum of the second moment is used.</summary>
    public bool AmsGrad { get; }

    /// <inheritdoc />
    public override OptimizerState CreateState(int parameterCount) => _kernel.CreateState(this, parameterCount);

    /// <inheritdoc />
    public override IOptimizer WithLearningRate(double learningRate) =>
        new AdamW(learningRate, Beta1, Beta2, Epsilon, WeightDecay, AmsGrad);

    /// <inheritdoc />
    public override string ToString() =>
        $"AdamW(learningRate: {LearningRate}, beta1: {Beta1}, beta2: {Beta2}, epsilon: {Epsilon}, weightDecay: {WeightDecay}, amsGrad: {AmsGrad})";

    /// <inheritdoc />
    protected override void StepCore(Span<float> parameters, ReadOnlySpan<float> gradient, OptimizerState state, double learningRate) =>
        _kernel.Step(parameters, gradient, state, learningRate);

    /// <summary>The scalar form of one step over every element: the formula line for line; the fused loop must match it bit for bit.</summary>
    internal void ReferenceStep(Span<float> parameters, ReadOnlySpan<float> gradient, OptimizerState state, double learningRate)
    {
        _kernel.ReferenceStep(parameters, gradient, state, learningRate);
        state.Step++;
    }
}
