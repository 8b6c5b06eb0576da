namespace MLNet.Optimizers;

/// <summary>How <see cref="Lbfgs"/> chooses the step length along each search direction.</summary>
public enum LineSearch
{
    /// <summary>
    /// A fixed step: t = learningRate (scaled by min(1, 1/‖g‖₁) on the very first iteration), one objective evaluation per
    /// iteration; PyTorch's <c>line_search_fn=None</c>.
    /// </summary>
    None,

    /// <summary>
    /// A line search for a step satisfying the strong Wolfe conditions (c1 = 1e-4, c2 = 0.9), by bracketing and zoom with
    /// cubic interpolation; PyTorch's <c>line_search_fn='strong_wolfe'</c>.
    /// </summary>
    StrongWolfe,
}
