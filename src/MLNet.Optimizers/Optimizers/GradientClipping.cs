namespace MLNet.Optimizers;

/// <summary>
/// Gradient clipping, applied to the gradient before any rule sees it; composes with every <see cref="FirstOrderOptimizer"/>.
/// </summary>
public abstract class GradientClipping
{
    /// <summary>Clips <paramref name="gradient"/> in place.</summary>
    /// <param name="gradient">The gradient, modified in place.</param>
    /// <returns>The global L2 norm of the gradient before clipping.</returns>
    public abstract double Apply(Span<float> gradient);
}
