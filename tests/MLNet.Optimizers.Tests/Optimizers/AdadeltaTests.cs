namespace MLNet.Optimizers.Tests.Optimizers;

public class AdadeltaTests
{
    [Fact]
    public void First_step_is_the_square_root_of_epsilon_over_the_rms_gradient()
    {
        // θ0 = 1, defaults (γ = 1, ρ = 0.9, ε = 1e-6), g = 2:
        // v = 0.1·4 = 0.4;  Δ = √(0 + 1e-6)/√(0.4 + 1e-6)·2 = 1e-3·2/0.632456384 = 3.16227371e-3
        // u = 0.1·Δ² = 9.999975e-7;  θ = 1 − Δ = 0.996837726
        var rule = new Adadelta();
        float[] theta = [1f];
        var state = rule.CreateState(1);
        rule.Step(theta, [2f], state);

        Golden.AssertClose(0.996837726, theta[0], "θ");
        Golden.AssertClose(0.4, state.Vector("square_avg")[0], "square_avg");
        Golden.AssertClose(9.999975e-7, state.Vector("acc_delta")[0], "acc_delta");
    }

    public static TheoryData<string> Configurations => new(Rules.Keys);

    private static readonly Dictionary<string, (double LearningRate, double Rho, double Epsilon, double WeightDecay)> Rules = new()
    {
        ["default"] = (1.0, 0.9, 1e-6, 0),
        ["weight decay"] = (1.0, 0.9, 1e-6, 0.1),
        ["rate, rho and epsilon"] = (0.5, 0.95, 1e-3, 0),
    };

    [Theory, MemberData(nameof(Configurations))]
    public void Adadelta_matches_a_double_precision_port_of_the_pytorch_loop(string configuration)
    {
        var (lr, rho, eps, wd) = Rules[configuration];
        var (theta, state) = Golden.Run(new Adadelta(lr, rho, eps, wd));

        var (expectedTheta, expectedSquareAverage, expectedAccDelta) =
            TorchAdadelta(Golden.Theta0AsDouble(), Golden.GradientsAsDouble(), lr, rho, eps, wd);
        Golden.AssertClose(expectedTheta, theta, "θ");
        Golden.AssertClose(expectedSquareAverage, state.Vector("square_avg"), "square_avg");

        // Δ is small next to θ, so acc_delta (a running mean of Δ²) is the sharp check of the ε-inside-both-roots rule.
        Golden.AssertClose(expectedAccDelta, state.Vector("acc_delta"), "acc_delta");
    }

    /// <summary>The single-tensor loop of torch/optim/adadelta.py in double precision, independent of the code under test.</summary>
    private static (double[] Theta, double[] SquareAverage, double[] AccDelta) TorchAdadelta(double[] theta, double[][] gradients,
        double lr, double rho, double eps, double weightDecay)
    {
        int n = theta.Length;
        double[] squareAvg = new double[n], accDelta = new double[n];
        foreach (double[] step in gradients)
        {
            for (int i = 0; i < n; i++)
            {
                double g = step[i] + weightDecay * theta[i];
                squareAvg[i] = rho * squareAvg[i] + (1 - rho) * g * g;
                double delta = Math.Sqrt(accDelta[i] + eps) / Math.Sqrt(squareAvg[i] + eps) * g;
                accDelta[i] = rho * accDelta[i] + (1 - rho) * delta * delta;
                theta[i] -= lr * delta;
            }
        }

        return (theta, squareAvg, accDelta);
    }
}
