using MLNet.Optimizers;

namespace MLNet.Optimizers.Tests;

/// <summary>Runs a rule over a fixed gradient sequence and compares its trajectory with an independent double-precision one.</summary>
internal static class GoldenRun
{
    /// <summary>
    /// 1e-6 relative: each step rounds to float a handful of times (≈ 6e-8 each), so a correct float implementation stays
    /// within a few 1e-7 of the double reference over these short runs, while a wrong formula (a missing bias correction,
    /// coupled instead of decoupled decay, the wrong RAdam branch) is off by far more.
    /// </summary>
    public const double Tolerance = 1e-6;

    /// <summary>Takes one step per gradient row at the matching learning rate and records the parameters after each step.</summary>
    public static float[][] Trajectory(FirstOrderOptimizer rule, double[] theta0, double[][] gradients, double[] learningRates)
    {
        float[] theta = theta0.Select(value => (float)value).ToArray();
        var state = rule.CreateState(theta.Length);
        var trajectory = new float[gradients.Length][];
        for (int step = 0; step < gradients.Length; step++)
        {
            float[] gradient = gradients[step].Select(value => (float)value).ToArray();
            rule.Step(theta, gradient, state, learningRates[step]);
            trajectory[step] = (float[])theta.Clone();
        }

        return trajectory;
    }

    /// <summary>Asserts every element of every step is within <paramref name="relative"/> of the expected value, relative to it.</summary>
    public static void AssertClose(double[][] expected, float[][] actual, double relative = Tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int step = 0; step < expected.Length; step++)
        {
            AssertClose(expected[step], actual[step], relative, $"step {step + 1}");
        }
    }

    /// <summary>Asserts each element of <paramref name="actual"/> is within <paramref name="relative"/> of <paramref name="expected"/>, relative to it.</summary>
    public static void AssertClose(double[] expected, ReadOnlySpan<float> actual, double relative, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double error = Math.Abs(actual[i] - expected[i]);
            Assert.True(error <= relative * Math.Abs(expected[i]),
                $"{what}, element {i}: expected {expected[i]:R}, got {actual[i]:R} (relative error {error / Math.Abs(expected[i]):E2} > {relative:E0})");
        }
    }

    /// <summary>The same learning rate for every step.</summary>
    public static double[] Constant(double learningRate, int steps) => Enumerable.Repeat(learningRate, steps).ToArray();
}
