namespace MLNet.Optimizers;

/// <summary>
/// The objective a full-batch minimizer such as <see cref="Lbfgs"/> calls: it returns the loss at
/// <paramref name="parameters"/> and writes the gradient of that loss into <paramref name="gradient"/>.
/// </summary>
/// <param name="parameters">The point to evaluate; read only, and only valid during the call.</param>
/// <param name="gradient">
/// Receives ∂loss/∂parameters; same length as <paramref name="parameters"/>. It arrives filled with zeros, so the
/// objective may accumulate into it (for example row by row).
/// </param>
/// <returns>The loss, which must be finite.</returns>
public delegate double ObjectiveFunction(ReadOnlySpan<float> parameters, Span<float> gradient);
