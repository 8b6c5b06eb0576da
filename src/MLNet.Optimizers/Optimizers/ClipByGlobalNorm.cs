using System.Globalization;
using MLNet.Optimizers.Internal;
using System.Numerics.Tensors;

namespace MLNet.Optimizers;

/// <summary>Rescales the whole gradient when its L2 norm exceeds a bound; same rule as <c>torch.nn.utils.clip_grad_norm_</c>.</summary>
/// <remarks>
/// <para>With n = ‖g‖₂ (the norm over every parameter, weights and biases together) and c = maxNorm:</para>
/// <code>
/// k ← c / (n + 1e-6)
/// g ← k·g          when k &lt; 1   (otherwise g is left as it is)
/// </code>
/// <para>The 1e-6 is PyTorch's; it makes the clipped norm a hair below c, and clipping starts once n &gt; c − 1e-6.
/// PyTorch multiplies by min(k, 1) unconditionally; skipping the multiplication by 1 changes nothing. As in PyTorch's
/// default (<c>error_if_nonfinite=False</c>), a non-finite norm is not an error here: an infinite norm gives k = 0 and a
/// NaN norm gives NaN, and the training loop reports the divergence.</para>
/// <para><b>Differs from PyTorch:</b> the norm is accumulated in double (PyTorch: in the gradient's dtype, float32), see
/// <see cref="GradientClipping.GlobalNorm"/>; k, computed in double, is applied in float.</para>
/// </remarks>
public sealed class ClipByGlobalNorm : GradientClipping
{
    /// <summary>The epsilon PyTorch adds to the norm before dividing.</summary>
    private const double NormEpsilon = 1e-6;

    /// <summary>Creates the clipping rule.</summary>
    /// <param name="maxNorm">c, the largest L2 norm let through, finite and &gt; 0.</param>
    public ClipByGlobalNorm(double maxNorm) => MaxNorm = Check.Positive(maxNorm);

    /// <summary>c, the largest global L2 norm let through.</summary>
    public double MaxNorm { get; }

    /// <inheritdoc />
    public override double Apply(Span<float> gradient)
    {
        double norm = GlobalNorm(gradient);
        double scale = MaxNorm / (norm + NormEpsilon);
        if (!(scale >= 1))
        {
            TensorPrimitives.Multiply(gradient, (float)scale, gradient);
        }

        return norm;
    }

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"ClipByGlobalNorm(maxNorm: {MaxNorm})");
}
