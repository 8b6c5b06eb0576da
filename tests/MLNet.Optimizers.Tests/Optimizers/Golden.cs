namespace MLNet.Optimizers.Tests.Optimizers;

/// <summary>
/// The shared golden-run fixture: a fixed start point and gradient sequence, run through a rule in float, to be compared
/// with an independent double-precision port of the PyTorch loop written in each rule's test file.
/// </summary>
internal static class Golden
{
    /// <summary>
    /// 1e-6 relative: the rules run in float32 (about 7 significant digits, unit round-off 6e-8) and each of the four
    /// steps adds a few roundings, so an exact port in double agrees to a few 1e-7; a wrong formula is off by far more.
    /// </summary>
    public const double RelativeTolerance = 1e-6;

    /// <summary>θ₀: elements of both signs and sizes, chosen so no element passes near 0 in the runs (relative checks).</summary>
    public static readonly float[] Theta0 = [1.5f, -2f, 2.5f, 3f];

    /// <summary>Four steps of gradients with sign changes, so momentum, averages and accumulators all matter.</summary>
    public static readonly float[][] Gradients =
    [
        [0.5f, -1.25f, 2f, 0.1f],
        [0.3f, -0.75f, -1.5f, 0.2f],
        [-0.2f, 0.4f, 1f, 0.3f],
        [0.7f, -0.1f, 0.25f, 0.4f],
    ];

    /// <summary>Runs <paramref name="rule"/> over <see cref="Gradients"/> from <see cref="Theta0"/>.</summary>
    /// <param name="rule">The rule under test.</param>
    /// <param name="learningRates">The learning rate per step; null uses the rule's base rate.</param>
    public static (float[] Theta, OptimizerState State) Run(FirstOrderOptimizer rule, double[]? learningRates = null)
    {
        float[] theta = (float[])Theta0.Clone();
        var state = rule.CreateState(theta.Length);
        for (int t = 0; t < Gradients.Length; t++)
        {
            rule.Step(theta, Gradients[t], state, learningRates?[t] ?? rule.LearningRate);
        }

        return (theta, state);
    }

    /// <summary>The start point as doubles (exactly the float values), for the ports.</summary>
    public static double[] Theta0AsDouble() => Array.ConvertAll(Theta0, x => (double)x);

    /// <summary>The gradients as doubles (exactly the float values), for the ports.</summary>
    public static double[][] GradientsAsDouble() => Array.ConvertAll(Gradients, g => Array.ConvertAll(g, x => (double)x));

    /// <summary>
    /// Runs <paramref name="rule"/> over any gradient sequence from <paramref name="theta0"/> (for sequences longer than
    /// <see cref="Gradients"/>, e.g. RAdam's rectified branch) and records the parameters after every step.
    /// </summary>
    /// <param name="rule">The rule under test.</param>
    /// <param name="theta0">The start point.</param>
    /// <param name="gradients">One gradient per step.</param>
    /// <param name="learningRates">The learning rate per step.</param>
    public static float[][] Trajectory(FirstOrderOptimizer rule, double[] theta0, double[][] gradients, double[] learningRates)
    {
        float[] theta = Array.ConvertAll(theta0, x => (float)x);
        var state = rule.CreateState(theta.Length);
        var trajectory = new float[gradients.Length][];
        for (int t = 0; t < gradients.Length; t++)
        {
            rule.Step(theta, Array.ConvertAll(gradients[t], x => (float)x), state, learningRates[t]);
            trajectory[t] = (float[])theta.Clone();
        }

        return trajectory;
    }

    /// <summary>The same learning rate for each of <paramref name="steps"/> steps.</summary>
    public static double[] Constant(double learningRate, int steps) => Enumerable.Repeat(learningRate, steps).ToArray();

    /// <summary>Asserts every element of every step agrees within <see cref="RelativeTolerance"/>.</summary>
    public static void AssertClose(double[][] expected, float[][] actual, string what = "θ")
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int t = 0; t < expected.Length; t++)
        {
            AssertClose(expected[t], actual[t], $"{what}, step {t + 1}");
        }
    }

    /// <summary>Asserts every element agrees within <paramref name="relativeTolerance"/> (default <see cref="RelativeTolerance"/>).</summary>
    public static void AssertClose(double[] expected, ReadOnlySpan<float> actual, string what, double relativeTolerance = RelativeTolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double error = Math.Abs(actual[i] - expected[i]);
            Assert.True(error <= relativeTolerance * Math.Abs(expected[i]),
                $"{what}[{i}]: expected {expected[i]:R}, got {actual[i]:R} (relative error {error / Math.Abs(expected[i]):E2}).");
        }
    }

    /// <summary>Asserts a single value agrees within <see cref="RelativeTolerance"/>.</summary>
    public static void AssertClose(double expected, double actual, string what)
    {
        double error = Math.Abs(actual - expected);
        Assert.True(error <= RelativeTolerance * Math.Abs(expected),
            $"{what}: expected {expected:R}, got {actual:R} (relative error {error / Math.Abs(expected):E2}).");
    }
}
