namespace MLNet.Optimizers;

/// <summary>Adam with bias correction, optional AMSGrad and coupled L2 weight decay; same results as <c>torch.optim.Adam</c>.</summary>
/// <remarks>
/// <para>Step t = 1, 2, … with gradient g (γ = learningRate, λ = weightDecay, coupled L2 as in PyTorch):</para>
/// <code>
/// g ← g + λ·θ                                   (when λ ≠ 0: into the gradient)
/// m ← lerp(m, g, 1 − β₁) = β₁·m + (1 − β₁)·g
/// v ← β₂·v + (1 − β₂)·g²
/// vMax ← max(vMax, v), then vMax replaces v     (when amsGrad: the max of the RAW v, bias-corrected afterwards)
/// θ ← θ − γ/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)   (ε outside the root, after bias correction)
/// </code>
/// <para>Defaults are PyTorch's: γ = 1e-3, β = (0.9, 0.999), ε = 1e-8, λ = 0. Per-run state: <c>exp_avg</c> (m),
/// <c>exp_avg_sq</c> (v) and, with AMSGrad, <c>max_exp_avg_sq</c> (vMax). For decoupled decay use <see cref="AdamW"/>,
/// which shares this update.</para>
/// <para>Kingma &amp; Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015 (arXiv:1412.6980); AMSGrad: Reddi, Kale
/// &amp; Kumar, "On the Convergence of Adam and Beyond", ICLR 2018.</para>
/// </remarks>
public sealed partial class Adam : FirstOrderOptimizer
{
    private readonly AdamKernel _kernel;

    /// <summary>Creates the rule; every argument is checked here, before any state exists.</summary>
    /// <param name="learningRate">γ, finite and ≥ 0.</param>
    /// <param name="beta1">β₁, the decay of the first moment, in [0, 1).</param>
    /// <param name="beta2">β₂, the decay of the second moment, in [0, 1).</param>
    /// <param name="epsilon">ε, added to the bias-corrected root of the second moment; finite and &gt; 0.</param>
    /// <param name="weightDecay">λ (coupled L2, added to the gradient), finite and ≥ 0.</param>
    /// <param name="amsGrad">Use the running maximum of the second moment (AMSGrad).</param>
    public Adam(double learningRate = 0.001, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8,
        double weightDecay = 0, bool amsGrad = false)
        : base(learningRate)
    {
        (Beta1, Beta2, Epsilon, WeightDecay) = AdamFamilyHyperparameters.Validate(beta1, beta2, epsilon, weightDecay);
        AmsGrad = amsGrad;
        _kernel = new AdamKernel(beta1, beta2, epsilon, weightDecay, amsGrad, decoupledWeightDecay: false);
    }

    /// <inheritdoc />
    public override string Name => "Adam";

    /// <summary>β₁, the decay of the first moment (<c>exp_avg</c>).</summary>
    public double Beta1 { get; }

    /// <summary>β₂, the decay of the second moment (<c>exp_avg_sq</c>).</summary>
    public double Beta2 { get; }

    /// <summary>ε, added to the denominator after the square root and the bias correction.</summary>
    public double Epsilon { get; }

    /// <summary>λ, the coupled L2 weight decay (added to the gradient).</summary>
    public double WeightDecay { get; }

    /// <summary>Whether AMSGrad's running maximum of the second moment is used.</summary>
    public bool AmsGrad { get; }

    /// <inheritdoc />
    public override OptimizerState CreateState(int parameterCount) => _kernel.CreateState(this, parameterCount);

    /// <inheritdoc />
    public override IOptimizer WithLearningRate(double learningRate) =>
        new Adam(learningRate, Beta1, Beta2, Epsilon, WeightDecay, AmsGrad);

    /// <inheritdoc />
    public override string ToString() =>
        $"Adam(learningRate: {LearningRate}, beta1: {Beta1}, beta2: {Beta2}, epsilon: {Epsilon}, weightDecay: {WeightDecay}, amsGrad: {AmsGrad})";

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
