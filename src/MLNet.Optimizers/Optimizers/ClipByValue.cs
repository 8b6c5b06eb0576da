using System.Globalization;
using MLNet.Optimizers.Internal;
using System.Numerics.Tensors;

namespace MLNet.Optimizers;

/// <summary>Clamps every gradient element to [−c, c]; same rule as <c>torch.nn.utils.clip_grad_value_</c>.</summary>
/// <remarks>
/// <para><c>gᵢ ← min(max(gᵢ, −c), c)</c> for every element; the direction of the gradient can change. NaN elements stay
/// NaN; ±∞ become ±c, as in PyTorch. <see cref="Apply"/> returns the global L2 norm before clamping (for logging), which
/// PyTorch's function does not compute.</para>
/// </remarks>
public sealed class ClipByValue : GradientClipping
{
    /// <summary>Creates the clipping rule.</summary>
    /// <param name="clipValue">c, the largest magnitude let through, finite and &gt; 0.</param>
    public ClipByValue(double clipValue) => ClipValue = Check.Positive(clipValue);

    /// <summary>c, the largest magnitude let through.</summary>
    public double ClipValue { get; }

    /// <inheritdoc />
    public override double Apply(Span<float> gradient)
    {
        double norm = GlobalNorm(gradient);
        float bound = (float)ClipValue;
        TensorPrimitives.Clamp(gradient, -bound, bound, gradient);
        return norm;
    }

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"ClipByValue(clipValue: {ClipValue})");
}
