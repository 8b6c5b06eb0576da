using System.Globalization;

namespace MLNet.Optimizers.Training;

/// <summary>The error for a run whose loss or parameters became NaN or infinite, with what usually fixes it.</summary>
internal static class Divergence
{
    /// <summary>
    /// How far the training loss may grow past its start: a run diverges when an epoch's mean training loss exceeds this
    /// many times the loss at the starting point (the first batch's, before any step), or that loss's absolute value when it
    /// is below 1e-3 is replaced by 1e-3 so a near-perfect start does not make every wobble fatal. A loss that explodes
    /// (too large a learning rate, unnormalised features) passes this long before it overflows, which a NaN check alone only
    /// sees once the model is already worthless.
    /// </summary>
    internal const double GrowthLimit = 1e3;

    /// <summary>
    /// Throws when L-BFGS claims convergence (a change tolerance, or no descent direction) without having lowered the loss
    /// at all: the run made no progress, which on a convex objective whose gradient does not vanish means the problem is
    /// badly scaled (features ~1e12 made the all-zero model look converged), not that the start is optimal.
    /// </summary>
    public static void EnsureProgress(LbfgsStopReason stopReason, long iterations, double initialLoss, double loss)
    {
        bool claimsConvergence = stopReason is LbfgsStopReason.ChangeTolerance or LbfgsStopReason.LossChangeTolerance
            or LbfgsStopReason.NotDescentDirection;
        if (claimsConvergence && !(loss < initialLoss))
        {
            throw new InvalidOperationException(string.Format(CultureInfo.InvariantCulture,
                "L-BFGS stopped ({0}) after {1} iteration(s) without lowering the training loss ({2:G6}) although its gradient is not zero: " +
                "the run made no progress and the model would be no better than its starting point. Normalise the features (e.g. " +
                "NormalizeMeanVariance, to mean 0 and variance 1) and, for regression, the labels: features of huge or very different " +
                "magnitudes (e.g. timestamps), or tiny labels, make the first steps vanish.", stopReason, iterations, initialLoss));
        }
    }

    /// <summary>
    /// Throws when L-BFGS, started from the all-zero model, stops there at once because the gradient is below its absolute
    /// <c>GradientTolerance</c> (PyTorch's rule, kept so the trajectories match) while not zero: on a tiny-scaled problem
    /// (labels of ~1e-6, so a gradient of ~1e-7) that returns the all-zero model as "converged". A genuine optimum at zero
    /// has a gradient that is exactly zero, or a problem scaled so that its gradient there is far above the tolerance.
    /// </summary>
    public static void EnsureNotStalledAtZero(LbfgsStopReason stopReason, long iterations, double startGradientMaxAbs,
        double gradientTolerance)
    {
        if (stopReason == LbfgsStopReason.GradientTolerance && iterations == 0 && startGradientMaxAbs > 0)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"L-BFGS stopped at the all-zero model before its first iteration: the gradient there (max |g| = {startGradientMaxAbs:G3}) is below GradientTolerance ({gradientTolerance:G3}) although it is not zero, so the problem's scale (tiny labels or features) makes the absolute tolerance meaningless and the model would predict nothing. Scale the labels (for regression) and the features to mean 0 and variance 1, or lower the Lbfgs gradientTolerance and changeTolerance far below the gradient's and the loss's magnitudes."));
        }
    }

    /// <summary>Throws when <paramref name="epochLoss"/> has grown past <see cref="GrowthLimit"/> times <paramref name="startLoss"/>.</summary>
    public static void EnsureBounded(int epoch, double startLoss, double epochLoss, double learningRate)
    {
        double limit = GrowthLimit * Math.Max(Math.Abs(startLoss), 1e-3);
        if (epochLoss > limit)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"Training diverged in epoch {epoch}: the training loss grew to {epochLoss:G6}, more than {GrowthLimit:G0} times its start ({startLoss:G6}). Use a smaller learning rate (the last was {learningRate:G6}), normalise the features (e.g. to mean 0 and variance 1), or clip gradients with GradientClipNorm."));
        }
    }

    /// <summary>The optimizer's state <paramref name="name"/> (e.g. <c>exp_avg_sq</c>) became NaN or infinite: the gradients are
    /// too large for the rule's float arithmetic, which froze or corrupted its steps.</summary>
    public static InvalidOperationException InState(int epoch, string name, double learningRate) =>
        new(string.Create(CultureInfo.InvariantCulture,
            $"Training failed in epoch {epoch}: the optimizer's state '{name}' became NaN or infinite (e.g. squared gradients beyond float's 3.4E+38: gradients of magnitude 1E+19 or more), so its steps are zero or meaningless and the parameters stop moving. Normalise the features and, for regression, the labels (e.g. to mean 0 and variance 1), or clip gradients with GradientClipNorm (the last learning rate was {learningRate:G6})."));

    /// <summary>"Training diverged in epoch <paramref name="epoch"/>: <paramref name="what"/> became NaN or infinite", and remedies.</summary>
    public static InvalidOperationException In(int epoch, string what, double learningRate) =>
        new(string.Create(CultureInfo.InvariantCulture,
            $"Training diverged in epoch {epoch}: {what} became NaN or infinite. Use a smaller learning rate (the last was {learningRate:G6}), normalise the features (e.g. to mean 0 and variance 1), or clip gradients with GradientClipNorm."));
}
