namespace MLNet.Optimizers.Tests.Optimizers;

public class AdagradTests
{
    [Fact]
    public void Adagrad_with_decay_and_initial_accumulator_matches_hand_derivation()
    {
        // θ0 = 1, γ = 0.1, η = 0.5, s0 = 1, ε = 1e-10 (negligible here), gradients 1, 2, 3:
        // t=1: γ̃ = 0.1/(1 + 0·0.5) = 0.1      s = 1 + 1 = 2    θ = 1 − 0.1·1/√2          = 0.929289322
        // t=2: γ̃ = 0.1/(1 + 1·0.5) = 0.0666…  s = 2 + 4 = 6    θ = 0.929289322 − 0.0666…·2/√6 = 0.874856216
        // t=3: γ̃ = 0.1/(1 + 2·0.5) = 0.05     s = 6 + 9 = 15   θ = 0.874856216 − 0.05·3/√15   = 0.836126383
        var adagrad = new Adagrad(learningRate: 0.1, learningRateDecay: 0.5, initialAccumulatorValue: 1);
        float[] theta = [1f];
        var state = adagrad.CreateState(1);
        Assert.Equal(1f, state.Vector("sum")[0]);
        foreach (float g in new[] { 1f, 2f, 3f })
        {
            adagrad.Step(theta, [g], state);
        }

        Golden.AssertClose(0.836126383, theta[0], "θ");
        Golden.AssertClose(15, state.Vector("sum")[0], "sum");
    }

    public static TheoryData<string> Configurations => new(Rules.Keys);

    private static readonly Dictionary<string, (double LearningRate, double Decay, double WeightDecay, double Initial, double Epsilon)> Rules = new()
    {
        ["default"] = (0.01, 0, 0, 0, 1e-10),
        ["large rate"] = (0.5, 0, 0, 0, 1e-10),
        ["learning-rate decay"] = (0.5, 0.3, 0, 0, 1e-10),
        ["initial accumulator"] = (0.5, 0, 0, 0.7, 1e-10),
        ["weight decay"] = (0.5, 0, 0.2, 0, 1e-10),
        ["everything"] = (0.4, 0.1, 0.05, 0.25, 1e-3),
    };

    [Theory, MemberData(nameof(Configurations))]
    public void Adagrad_matches_a_double_precision_port_of_the_pytorch_loop(string configuration)
    {
        var (lr, decay, wd, initial, eps) = Rules[configuration];
        var (theta, state) = Golden.Run(new Adagrad(lr, decay, wd, initial, eps));

        var (expectedTheta, expectedSum) = TorchAdagrad(Golden.Theta0AsDouble(), Golden.GradientsAsDouble(), [lr, lr, lr, lr], decay, wd, initial, eps);
        Golden.AssertClose(expectedTheta, theta, "θ");
        Golden.AssertClose(expectedSum, state.Vector("sum"), "sum");
        Assert.Equal(4, state.Step);
    }

    [Fact]
    public void Decay_multiplies_the_scheduled_learning_rate_of_each_step()
    {
        // PyTorch reads group['lr'] (what a scheduler wrote) and then applies lr_decay on top.
        double[] rates = [0.5, 0.4, 0.3, 0.2];
        var (theta, _) = Golden.Run(new Adagrad(learningRate: 0.5, learningRateDecay: 0.25), rates);

        var (expected, _) = TorchAdagrad(Golden.Theta0AsDouble(), Golden.GradientsAsDouble(), rates, 0.25, 0, 0, 1e-10);
        Golden.AssertClose(expected, theta, "θ");
    }

    /// <summary>The single-tensor loop of torch/optim/adagrad.py in double precision, independent of the code under test.</summary>
    private static (double[] Theta, double[] Sum) TorchAdagrad(double[] theta, double[][] gradients, double[] lrPerStep,
        double lrDecay, double weightDecay, double initialAccumulatorValue, double eps)
    {
        var sum = Enumerable.Repeat(initialAccumulatorValue, theta.Length).ToArray();
        for (int t = 1; t <= gradients.Length; t++)
        {
            double clr = lrPerStep[t - 1] / (1 + (t - 1) * lrDecay);
            for (int i = 0; i < theta.Length; i++)
            {
                double g = gradients[t - 1][i] + weightDecay * theta[i];
                sum[i] += g * g;
                theta[i] -= clr * g / (Math.Sqrt(sum[i]) + eps);
            }
        }

        return (theta, sum);
    }
}
