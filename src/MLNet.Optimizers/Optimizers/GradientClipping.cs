using System.Numerics;
using System.Runtime.InteropServices;

namespace MLNet.Optimizers;

/// <summary>
/// Gradient clipping, applied to the gradient before any rule sees it; composes with every <see cref="FirstOrderOptimizer"/>.
/// </summary>
/// <remarks>
/// Two kinds exist: <see cref="ByGlobalNorm"/> (<see cref="ClipByGlobalNorm"/>, as <c>torch.nn.utils.clip_grad_norm_</c>)
/// and <see cref="ByValue"/> (<see cref="ClipByValue"/>, as <c>torch.nn.utils.clip_grad_value_</c>). Both are immutable
/// and stateless, so one instance can serve many runs.
/// </remarks>
public abstract class GradientClipping
{
    /// <summary>Clips <paramref name="gradient"/> in place.</summary>
    /// <param name="gradient">The gradient, modified in place.</param>
    /// <returns>The global L2 norm of the gradient before clipping.</returns>
    public abstract double Apply(Span<float> gradient);

    /// <summary>Rescales the whole gradient so that its L2 norm is at most <paramref name="maxNorm"/>; see <see cref="ClipByGlobalNorm"/>.</summary>
    /// <param name="maxNorm">The largest L2 norm let through, finite and &gt; 0.</param>
    public static ClipByGlobalNorm ByGlobalNorm(double maxNorm) => new(maxNorm);

    /// <summary>Clamps every element to [−<paramref name="clipValue"/>, <paramref name="clipValue"/>]; see <see cref="ClipByValue"/>.</summary>
    /// <param name="clipValue">The largest magnitude let through, finite and &gt; 0.</param>
    public static ClipByValue ByValue(double clipValue) => new(clipValue);

    /// <summary>
    /// The L2 norm √(Σ gᵢ²) of <paramref name="gradient"/>, accumulated in double.
    /// </summary>
    /// <remarks>
    /// The squares are summed in double (float sums over many elements lose digits) in a fixed order, so the result
    /// repeats exactly on one machine; the vector width sets that order, so it can differ in the last bits across
    /// architectures. A NaN element gives NaN and an infinite one gives +∞.
    /// </remarks>
    /// <param name="gradient">The vector to measure.</param>
    public static double GlobalNorm(ReadOnlySpan<float> gradient)
    {
        double sumOfSquares = 0;
        int i = 0;
        if (Vector.IsHardwareAccelerated && gradient.Length >= Vector<float>.Count)
        {
            var vectors = MemoryMarshal.Cast<float, Vector<float>>(gradient);
            var lowerSum = Vector<double>.Zero;
            var upperSum = Vector<double>.Zero;
            foreach (var vector in vectors)
            {
                Vector.Widen(vector, out var lower, out var upper);
                lowerSum += lower * lower;
                upperSum += upper * upper;
            }

            sumOfSquares = Vector.Sum(lowerSum + upperSum);
            i = vectors.Length * Vector<float>.Count;
        }

        for (; i < gradient.Length; i++)
        {
            double element = gradient[i];
            sumOfSquares += element * element;
        }

        return Math.Sqrt(sumOfSquares);
    }
}
