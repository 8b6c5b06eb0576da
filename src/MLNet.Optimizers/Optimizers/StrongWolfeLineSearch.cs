using System.Diagnostics;

namespace MLNet.Optimizers;

/// <summary>
/// The strong-Wolfe line search of <see cref="Lbfgs"/>, step for step PyTorch's <c>_strong_wolfe</c> (itself a port of
/// <c>lswolfe.lua</c> from torch/optim, after minFunc): bracketing, then zoom with safeguarded cubic interpolation.
/// </summary>
/// <remarks>
/// It looks for t with f(x + t·d) ≤ f(x) + c1·t·g·d (Armijo) and |g(x + t·d)·d| ≤ −c2·g·d (strong curvature). The
/// constants are PyTorch's defaults, which <c>torch.optim.LBFGS</c> never overrides: c1 = 1e-4, c2 = 0.9, a bracket
/// tolerance of 1e-9 (independent of the optimizer's changeTolerance) and at most 25 line-search iterations, that is
/// up to 26 evaluations, whatever evaluation budget remains. Scalars are double; trial points x + t·d are float.
/// </remarks>
internal static class StrongWolfeLineSearch
{
    internal const double SufficientDecrease = 1e-4;
    internal const double Curvature = 0.9;
    internal const double BracketTolerance = 1e-9;
    internal const int MaxIterations = 25;

    /// <summary>
    /// Searches along <paramref name="direction"/> from <paramref name="x"/>, starting at step <paramref name="step"/>.
    /// On return <paramref name="gradient"/> holds the gradient at the accepted point x + t·d.
    /// </summary>
    /// <param name="objective">The objective.</param>
    /// <param name="x">The current point; not modified.</param>
    /// <param name="direction">d, a descent direction.</param>
    /// <param name="step">The first trial step.</param>
    /// <param name="loss">f(x).</param>
    /// <param name="gradient">g(x) on entry (read only while searching); g(x + t·d) on return.</param>
    /// <param name="slope">g·d (negative).</param>
    /// <param name="buffers">The trial point and the bracket's gradients.</param>
    internal static Outcome Search(ObjectiveFunction objective, ReadOnlySpan<float> x, ReadOnlySpan<float> direction, double step,
        double loss, float[] gradient, double slope, Buffers buffers)
    {
        double directionMaxAbs = LbfgsMath.MaxAbs(direction);
        double t = step;
        float[] gNew = buffers.FreeGradient(gradient, gradient);
        double fNew = Evaluate(objective, x, t, direction, buffers.Trial, gNew, out double slopeNew);
        int evaluations = 1;

        // Bracketing: walk out until [tPrevious, t] holds a point satisfying the strong Wolfe conditions.
        double tPrevious = 0, fPrevious = loss, slopePrevious = slope;
        float[] gPrevious = gradient;
        var bracket = buffers.Bracket;
        int bracketLength = 0;
        bool done = false;
        int iteration = 0;
        while (iteration < MaxIterations)
        {
            if (fNew > loss + SufficientDecrease * t * slope || (iteration > 1 && fNew >= fPrevious))
            {
                bracket[0] = new Point(tPrevious, fPrevious, slopePrevious, gPrevious);
                bracket[1] = new Point(t, fNew, slopeNew, gNew);
                bracketLength = 2;
                break;
            }

            if (Math.Abs(slopeNew) <= -Curvature * slope)
            {
                bracket[0] = new Point(t, fNew, slopeNew, gNew);
                bracketLength = 1;
                done = true;
                break;
            }

            if (slopeNew >= 0)
            {
                bracket[0] = new Point(tPrevious, fPrevious, slopePrevious, gPrevious);
                bracket[1] = new Point(t, fNew, slopeNew, gNew);
                bracketLength = 2;
                break;
            }

            // Extrapolate: the cubic's minimizer, kept within [t + 0.01·(t − tPrevious), 10·t].
            double minStep = t + 0.01 * (t - tPrevious);
            double maxStep = t * 10;
            double tCurrent = t;
            t = CubicInterpolate(tPrevious, fPrevious, slopePrevious, t, fNew, slopeNew, minStep, maxStep);
            tPrevious = tCurrent;
            fPrevious = fNew;
            gPrevious = gNew;
            slopePrevious = slopeNew;
            gNew = buffers.FreeGradient(gPrevious, gPrevious);
            fNew = Evaluate(objective, x, t, direction, buffers.Trial, gNew, out slopeNew);
            evaluations++;
            iteration++;
        }

        if (iteration == MaxIterations)
        {
            // Out of iterations: the result is the better of the start and the last trial (the zoom below does not run).
            bracket[0] = new Point(0, loss, slope, gradient);
            bracket[1] = new Point(t, fNew, slopeNew, gNew);
            bracketLength = 2;
        }

        // Zoom: shrink the bracket until its low end satisfies the strong Wolfe conditions.
        bool insufficientProgress = false;
        int low = bracket[0].Loss <= bracket[bracketLength - 1].Loss ? 0 : 1;
        int high = 1 - low;
        while (!done && iteration < MaxIterations)
        {
            if (Math.Abs(bracket[1].Step - bracket[0].Step) * directionMaxAbs < BracketTolerance)
            {
                break;
            }

            t = CubicInterpolate(bracket[0].Step, bracket[0].Loss, bracket[0].Slope, bracket[1].Step, bracket[1].Loss, bracket[1].Slope);

            // A trial within 10% of the bracket's length from an end makes little progress; after two such trials in a
            // row, or when it lands on or outside an end, move it to 10% from the nearest end.
            double bracketMax = Math.Max(bracket[0].Step, bracket[1].Step);
            double bracketMin = Math.Min(bracket[0].Step, bracket[1].Step);
            double margin = 0.1 * (bracketMax - bracketMin);
            if (Math.Min(bracketMax - t, t - bracketMin) < margin)
            {
                if (insufficientProgress || t >= bracketMax || t <= bracketMin)
                {
                    t = Math.Abs(t - bracketMax) < Math.Abs(t - bracketMin) ? bracketMax - margin : bracketMin + margin;
                    insufficientProgress = false;
                }
                else
                {
                    insufficientProgress = true;
                }
            }
            else
            {
                insufficientProgress = false;
            }

            gNew = buffers.FreeGradient(bracket[0].Gradient, bracket[1].Gradient);
            fNew = Evaluate(objective, x, t, direction, buffers.Trial, gNew, out slopeNew);
            evaluations++;
            iteration++;

            if (fNew > loss + SufficientDecrease * t * slope || fNew >= bracket[low].Loss)
            {
                // Armijo fails or no lower than the low end: the trial becomes the high end.
                bracket[high] = new Point(t, fNew, slopeNew, gNew);
                low = bracket[0].Loss <= bracket[1].Loss ? 0 : 1;
                high = 1 - low;
            }
            else
            {
                if (Math.Abs(slopeNew) <= -Curvature * slope)
                {
                    done = true;
                }
                else if (slopeNew * (bracket[high].Step - bracket[low].Step) >= 0)
                {
                    // The minimizer lies between the trial and the old low end: the old low becomes the high end.
                    bracket[high] = bracket[low];
                }

                bracket[low] = new Point(t, fNew, slopeNew, gNew);
            }
        }

        var result = bracket[low];
        if (!ReferenceEquals(result.Gradient, gradient))
        {
            result.Gradient.CopyTo(gradient, 0);
        }

        return new Outcome(result.Loss, result.Step, evaluations);
    }

    /// <summary>
    /// The minimizer of the cubic through (x1, f1) and (x2, f2) with slopes g1 and g2, clamped to [lower, upper]
    /// (by default the interval between x1 and x2); the interval's midpoint when the cubic has no real minimizer.
    /// PyTorch's <c>_cubic_interpolate</c>, after minFunc's polyinterp.
    /// </summary>
    internal static double CubicInterpolate(double x1, double f1, double g1, double x2, double f2, double g2,
        double? lower = null, double? upper = null)
    {
        double lowerBound = lower ?? Math.Min(x1, x2);
        double upperBound = upper ?? Math.Max(x1, x2);
        double d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2);
        double d2Square = d1 * d1 - g1 * g2;
        if (d2Square < 0)
        {
            return (lowerBound + upperBound) / 2.0;
        }

        double d2 = Math.Sqrt(d2Square);
        double minimizer = x1 <= x2
            ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
            : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
        return Math.Min(Math.Max(minimizer, lowerBound), upperBound);
    }

    private static double Evaluate(ObjectiveFunction objective, ReadOnlySpan<float> x, double t, ReadOnlySpan<float> direction,
        float[] trial, float[] gradient, out double slope)
    {
        LbfgsMath.AddScaled(x, t, direction, trial);
        double loss = Lbfgs.Evaluate(objective, trial, gradient);
        slope = LbfgsMath.Dot(gradient, direction);
        if (!double.IsFinite(slope))
        {
            throw new InvalidOperationException(
                $"The objective's gradient at line-search step {t} is not finite (g·d = {slope}); L-BFGS needs finite gradients.");
        }

        return loss;
    }

    /// <summary>The accepted point: its loss, its step length t and the evaluations the search made.</summary>
    internal readonly record struct Outcome(double Loss, double Step, int Evaluations);

    /// <summary>One end of the bracket: step, loss, slope g·d and the gradient vector there.</summary>
    internal readonly record struct Point(double Step, double Loss, double Slope, float[] Gradient);

    /// <summary>The line search's work vectors, allocated once per <see cref="LbfgsState"/>.</summary>
    internal sealed class Buffers(int parameterCount)
    {
        private readonly float[][] _gradients = [new float[parameterCount], new float[parameterCount], new float[parameterCount]];

        /// <summary>The trial point x + t·d handed to the objective.</summary>
        public float[] Trial { get; } = new float[parameterCount];

        /// <summary>The two ends of the bracket.</summary>
        public Point[] Bracket { get; } = new Point[2];

        /// <summary>A gradient buffer that neither <paramref name="inUse"/> nor <paramref name="alsoInUse"/> refers to.</summary>
        public float[] FreeGradient(float[] inUse, float[] alsoInUse)
        {
            foreach (float[] candidate in _gradients)
            {
                if (!ReferenceEquals(candidate, inUse) && !ReferenceEquals(candidate, alsoInUse))
                {
                    return candidate;
                }
            }

            throw new UnreachableException("A two-point bracket holds at most two of the three gradient buffers.");
        }
    }
}
