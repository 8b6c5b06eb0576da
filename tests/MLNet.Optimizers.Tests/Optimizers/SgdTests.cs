using MLNet.Optimizers;

namespace MLNet.Optimizers.Tests.Optimizers;

public class SgdTests
{
    [Fact]
    public void Sgd_momentum_buffer_starts_at_first_gradient_so_dampening_skips_step_one()
    {
        // θ0 = 1, γ = 0.1, μ = 0.9, τ = 0.5, gradients 1 then 2 then 3.
        // t=1: b = 1                 θ = 1 − 0.1·1      = 0.9
        // t=2: b = 0.9·1 + 0.5·2 = 1.9   θ = 0.9 − 0.19   = 0.71
        // t=3: b = 0.9·1.9 + 0.5·3 = 3.21 θ = 0.71 − 0.321 = 0.389
        var sgd = new Sgd(learningRate: 0.1, momentum: 0.9, dampening: 0.5);
        float[] theta = [1f];
        var state = sgd.CreateState(1);
        foreach (float g in new[] { 1f, 2f, 3f })
        {
            sgd.Step(theta, [g], state);
        }

        Assert.Equal(0.389, theta[0], 1e-6);
        Assert.Equal(3.21, state.Vector("momentum_buffer")[0], 1e-6);
    }

    [Fact]
    public void Plain_sgd_matches_hand_derivation()
    {
        // θ0 = 1.5 (first element of the golden fixture), γ = 0.1, gradients 0.5, 0.3, −0.2, 0.7:
        // θ4 = 1.5 − 0.1·(0.5 + 0.3 − 0.2 + 0.7) = 1.5 − 0.13 = 1.37
        var (theta, _) = Golden.Run(new Sgd(learningRate: 0.1));
        Golden.AssertClose(1.37, theta[0], "θ[0]");
    }

    public static TheoryData<string> Configurations => new(Rules.Keys);

    private static readonly Dictionary<string, (double LearningRate, double Momentum, double Dampening, bool Nesterov, double WeightDecay)> Rules = new()
    {
        ["plain"] = (0.1, 0, 0, false, 0),
        ["weight decay"] = (0.1, 0, 0, false, 0.05),
        ["momentum"] = (0.1, 0.9, 0, false, 0),
        ["momentum+dampening"] = (0.1, 0.9, 0.3, false, 0),
        ["nesterov"] = (0.1, 0.9, 0, true, 0),
        ["nesterov+weight decay"] = (0.05, 0.8, 0, true, 0.1),
    };

    [Theory, MemberData(nameof(Configurations))]
    public void Sgd_matches_a_double_precision_port_of_the_pytorch_loop(string configuration)
    {
        var (lr, mu, tau, nesterov, wd) = Rules[configuration];
        var (theta, state) = Golden.Run(new Sgd(lr, mu, tau, nesterov, wd));

        var (expectedTheta, expectedBuffer) = TorchSgd(Golden.Theta0AsDouble(), Golden.GradientsAsDouble(), lr, mu, tau, nesterov, wd);
        Golden.AssertClose(expectedTheta, theta, "θ");
        if (mu != 0)
        {
            Golden.AssertClose(expectedBuffer, state.Vector("momentum_buffer"), "momentum_buffer");
        }
    }

    /// <summary>The single-tensor loop of torch/optim/sgd.py in double precision, independent of the code under test.</summary>
    private static (double[] Theta, double[] Buffer) TorchSgd(double[] theta, double[][] gradients, double lr, double momentum,
        double dampening, bool nesterov, double weightDecay)
    {
        var buffer = new double[theta.Length];
        for (int t = 1; t <= gradients.Length; t++)
        {
            for (int i = 0; i < theta.Length; i++)
            {
                double g = gradients[t - 1][i];
                if (weightDecay != 0)
                {
                    g += weightDecay * theta[i];
                }

                if (momentum != 0)
                {
                    buffer[i] = t == 1 ? g : momentum * buffer[i] + (1 - dampening) * g;
                    g = nesterov ? g + momentum * buffer[i] : buffer[i];
                }

                theta[i] -= lr * g;
            }
        }

        return (theta, buffer);
    }
}
