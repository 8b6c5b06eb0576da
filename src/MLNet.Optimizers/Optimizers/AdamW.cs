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
/// <para>As in PyTorch (whose <c>AdamW</c> subclasses <c>Adam</c> with <c>decoupled_weight_decay=True</c>), this is
/// <see cref="Adam"/> with the decay taken out of the gradient: the same update, state and sparse steps.
/// Defaults are PyTorch's: γ = 1e-3, β = (0.9, 0.999), ε = 1e-8, λ = 0.01 (Optax's <c>adamw</c> uses 1e-4). Like PyTorch
/// and Optax, the decay is multiplied by the (scheduled) learning rate; Loshchilov &amp; Hutter scale it by the schedule
/// multiplier only. Per-run state: <c>exp_avg</c>, <c>exp_avg_sq</c> and, with AMSGrad, <c>max_exp_avg_sq</c>.</para>
/// <para>Loshchilov &amp; Hutter, "Decoupled Weight Decay Regularization", ICLR 2019 (arXiv:1711.05101).</para>
/// </remarks>
public sealed class AdamW : Adam
{
    /// <summary>Creates the rule; every argument is checked here, before any state exists.</summary>
    /// <param name="learningRate">γ, finite and ≥ 0.</param>
    /// <param name="beta1">β₁, the decay of the first moment, in [0, 1).</param>
    /// <param name="beta2">β₂, the decay of the second moment, in [0, 1).</param>
    /// <param name="epsilon">ε, added to the bias-corrected root of the second moment; finite and &gt; 0.</param>
    /// <param name="weightDecay">λ (decoupled: θ shrinks by the factor 1 − γλ each step), finite and ≥ 0.</param>
    /// <param name="amsGrad">Use the running maximum of the second moment (AMSGrad).</param>
    public AdamW(double learningRate = 0.001, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8,
        double weightDecay = 0.01, bool amsGrad = false)
        : base(learningRate, beta1, beta2, epsilon, weightDecay, amsGrad, decoupledWeightDecay: true)
    {
    }

    /// <inheritdoc />
    public override string Name => "AdamW";
}
