namespace MLNet.Optimizers.Tests.Optimizers;

public class RmsPropTests
{
    [Fact]
    public void First_step_has_no_bias_correction()
    {
        // θ0 = 1, γ = 0.01, α = 0.99, g = 2: v = 0.01·4 = 0.04, a = √0.04 + 1e-8 = 0.2, θ = 1 − 0.01·2/0.2 = 0.9.
        // (With Adam-style bias correction the step would be γ·g/|g| = 0.01; RMSProp's is ten times that.)
        var rule = new RmsProp();
        float[] theta = [1f];
        var state = rule.CreateState(1);
        rule.Step(theta, [2f], state);

        Golden.AssertClose(0.9, theta[0], "θ");
        Golden.AssertClose(0.04, state.Vector("square_avg")[0], "square_avg");
    }

    public static TheoryData<string> Configurations => new(Rules.Keys);

    private static readonly Dictionary<string, (double LearningRate, double Alpha, double Epsilon, double WeightDecay, double Momentum, bool Centered)> Rules = new()
    {
        ["plain"] = (0.01, 0.99, 1e-8, 0, 0, false),
        ["centered"] = (0.01, 0.99, 1e-8, 0, 0, true),
        ["momentum"] = (0.01, 0.99, 1e-8, 0, 0.9, false),
        ["centered+momentum"] = (0.01, 0.99, 1e-8, 0, 0.9, true),
        ["weight decay"] = (0.01, 0.99, 1e-8, 0.1, 0, false),
        ["alpha below one half (other lerp branch)"] = (0.01, 0.3, 1e-4, 0.05, 0.5, true),
        ["alpha 0.9, large epsilon"] = (0.02, 0.9, 1e-2, 0, 0, false),
    };

    [Theory, MemberData(nameof(Configurations))]
    public void RmsProp_matches_a_double_precision_port_of_the_pytorch_loop(string configuration)
    {
        var (lr, alpha, eps, wd, mu, centered) = Rules[configuration];
        var (theta, state) = Golden.Run(new RmsProp(lr, alpha, eps, wd, mu, centered));

        var expected = TorchRmsProp(Golden.Theta0AsDouble(), Golden.GradientsAsDouble(), lr, alpha, eps, wd, mu, centered);
        Golden.AssertClose(expected.Theta, theta, "θ");
        Golden.AssertClose(expected.SquareAverage, state.Vector("square_avg"), "square_avg");
        Assert.Equal(centered ? ["grad_avg", "square_avg"] : ["square_avg"], state.VectorNames.Where(n => n != "momentum_buffer"));
        if (centered)
        {
            Golden.AssertClose(expected.GradientAverage, state.Vector("grad_avg"), "grad_avg");
        }

        Assert.Equal(mu > 0, state.VectorNames.Contains("momentum_buffer"));
        if (mu > 0)
        {
            Golden.AssertClose(expected.Buffer, state.Vector("momentum_buffer"), "momentum_buffer");
        }
    }

    /// <summary>The single-tensor loop of torch/optim/rmsprop.py in double precision, independent of the code under test.</summary>
    private static (double[] Theta, double[] SquareAverage, double[] GradientAverage, double[] Buffer) TorchRmsProp(double[] theta,
        double[][] gradients, double lr, double alpha, double eps, double weightDecay, double momentum, bool centered)
    {
        int n = theta.Length;
        double[] squareAvg = new double[n], gradAvg = new double[n], buffer = new double[n];
        foreach (double[] step in gradients)
        {
            for (int i = 0; i < n; i++)
            {
                double g = step[i] + weightDecay * theta[i];
                squareAvg[i] = alpha * squareAvg[i] + (1 - alpha) * g * g;
                double avg;
                if (centered)
                {
                    gradAvg[i] += (1 - alpha) * (g - gradAvg[i]);
                    avg = Math.Sqrt(squareAvg[i] - gradAvg[i] * gradAvg[i]) + eps;
                }
                else
                {
                    avg = Math.Sqrt(squareAvg[i]) + eps;
                }

                if (momentum > 0)
                {
                    buffer[i] = momentum * buffer[i] + g / avg;
                    theta[i] -= lr * buffer[i];
                }
                else
                {
                    theta[i] -= lr * g / avg;
                }
            }
        }

        return (theta, squareAvg, gradAvg, buffer);
    }

    [Fact]
    public void Centered_variance_that_rounds_below_zero_is_clamped_instead_of_giving_nan()
    {
        // A constant gradient makes the centered variance E[g²] − E[g]² = (1 − αᵗ)·αᵗ·g² vanish; once it is below
        // float rounding the difference can come out negative, and PyTorch's sqrt turns that into NaN.
        var rule = new RmsProp(learningRate: 0.01, alpha: 0.9, centered: true);
        float[] parameters = new float[11];
        float[] gradient = Enumerable.Range(0, 11).Select(i => 0.1f + 0.37f * i).ToArray();
        var state = rule.CreateState(parameters.Length);
        for (int step = 0; step < 2000; step++)
        {
            rule.Step(parameters, gradient, state);
        }

        Assert.All(parameters, value => Assert.True(float.IsFinite(value), $"parameter {value}"));
    }
}
