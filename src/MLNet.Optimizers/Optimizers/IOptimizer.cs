namespace MLNet.Optimizers;

/// <summary>
/// An optimizer strategy: an immutable configuration that the trainers accept and that can be reused across many fits
/// and cross-validation folds. Per-run state never lives here.
/// </summary>
/// <remarks>
/// Two kinds exist. <see cref="FirstOrderOptimizer"/> rules (SGD, Adam, ...) take one step per (mini-)batch gradient;
/// <c>Lbfgs</c> is a full-batch minimizer over an objective callback, like PyTorch's closure-driven
/// <c>torch.optim.LBFGS</c>.
/// </remarks>
public interface IOptimizer
{
    /// <summary>The rule's short name, e.g. <c>Adam</c>.</summary>
    string Name { get; }

    /// <summary>The base learning rate γ (a schedule, when one is used, scales from this value).</summary>
    double LearningRate { get; }

    /// <summary>Returns a copy of this configuration with another base learning rate; every other setting is kept.</summary>
    /// <param name="learningRate">The new learning rate; validated as in the constructor.</param>
    IOptimizer WithLearningRate(double learningRate);
}
