using MLNet.Optimizers;

namespace MLNet.Optimizers.Tests.Optimizers;

public class AdamFamilyTests
{
    private static readonly double[] Theta0 = [1.0, -2.0, 0.5];

    // Eight steps of mixed signs and sizes: enough for RAdam's rectified branch (t ≥ 6) and its warm-up (t ≤ 5).
    private static readonly double[][] Gradients =
    [
        [0.5, -0.3, 0.2],
        [0.25, 0.4, -0.1],
        [-0.5, 0.1, 0.3],
        [0.1, -0.2, 0.05],
        [0.3, 0.3, -0.25],
        [-0.2, 0.15, 0.1],
        [0.4, -0.1, -0.05],
        [0.05, 0.2, 0.15],
    ];

    // A large first gradient followed by small ones: v shrinks, so AMSGrad's max(vMax, v) keeps the old, larger value.
    private static readonly double[][] ShrinkingGradients =
    [
        [2.0, -1.5, 0.2],
        [0.1, -0.05, 0.3],
        [0.05, 0.02, -0.1],
        [-0.02, 0.01, 0.05],
    ];

    // A schedule-like sequence of learning rates, so decoupled decay must use each step's γ.
    private static readonly double[] VaryingLearningRates = [0.1, 0.05, 0.1, 0.2, 0.15, 0.1, 0.05, 0.1];

    [Fact]
    public void Adam_three_steps_match_hand_derivation()
    {
        // θ0 = 1, γ = 0.1, β = (0.9, 0.999), ε = 1e-8, gradients 0.5, 0.25, −0.5.
        // t=1: m = 0.05,   v = 2.5e-4;       m̂ = 0.05/0.1 = 0.5,        v̂ = 2.5e-4/0.001 = 0.25,  √v̂ = 0.5
        //      θ1 = 1 − 0.1·0.5/(0.5 + 1e-8) = 0.900000002
        // t=2: m = 0.9·0.05 + 0.1·0.25 = 0.07,  v = 0.999·2.5e-4 + 0.001·0.0625 = 3.1225e-4
        //      m̂ = 0.07/0.19 = 0.368421053,  v̂ = 3.1225e-4/0.001999 = 0.156203102,  √v̂ = 0.395225381
        //      θ2 = 0.900000002 − 0.1·0.368421053/0.395225381 = 0.806782040
        // t=3: m = 0.9·0.07 − 0.1·0.5 = 0.013,  v = 0.999·3.1225e-4 + 0.001·0.25 = 5.6193775e-4
        //      m̂ = 0.013/0.271 = 0.047970480,  v̂ = 5.6193775e-4/0.002997001 = 0.187500021,  √v̂ = 0.433012726
        //      θ3 = 0.806782040 − 0.1·0.047970480/0.433012726 = 0.795703734
        var trajectory = Golden.Trajectory(new Adam(learningRate: 0.1), [1.0], [[0.5], [0.25], [-0.5]], Golden.Constant(0.1, 3));
        Golden.AssertClose([[0.900000002], [0.806782040], [0.795703734]], trajectory);
    }

    [Fact]
    public void Adam_default_matches_pytorch_loop()
    {
        var lr = Golden.Constant(0.1, Gradients.Length);
        Golden.AssertClose(
            TorchReference.Adam(Theta0, Gradients, lr, 0.9, 0.999, 1e-8, weightDecay: 0, amsGrad: false, decoupled: false),
            Golden.Trajectory(new Adam(), Theta0, Gradients, lr));
    }

    [Fact]
    public void Adam_weight_decay_is_coupled_into_the_gradient()
    {
        var rule = new Adam(beta1: 0.8, beta2: 0.99, epsilon: 1e-6, weightDecay: 0.3);
        Golden.AssertClose(
            TorchReference.Adam(Theta0, Gradients, VaryingLearningRates, 0.8, 0.99, 1e-6, weightDecay: 0.3, amsGrad: false, decoupled: false),
            Golden.Trajectory(rule, Theta0, Gradients, VaryingLearningRates));
    }

    [Fact]
    public void Adam_amsgrad_keeps_the_max_of_the_raw_second_moment()
    {
        var lr = Golden.Constant(0.1, ShrinkingGradients.Length);
        // β₂ = 0.9 so that v really falls after the first large gradient (with 0.999 it barely moves in four steps).
        var expected = TorchReference.Adam(Theta0, ShrinkingGradients, lr, 0.9, 0.9, 1e-8, weightDecay: 0, amsGrad: true, decoupled: false);
        var withoutAmsGrad = TorchReference.Adam(Theta0, ShrinkingGradients, lr, 0.9, 0.9, 1e-8, weightDecay: 0, amsGrad: false, decoupled: false);
        // The sequence must make AMSGrad matter, or this test could not tell the two apart.
        Assert.True(Math.Abs(expected[^1][0] - withoutAmsGrad[^1][0]) > 1e-3 * Math.Abs(expected[^1][0]));

        Golden.AssertClose(expected, Golden.Trajectory(new Adam(beta2: 0.9, amsGrad: true), Theta0, ShrinkingGradients, lr));
    }

    [Fact]
    public void AdamW_decays_the_weights_by_one_minus_lr_times_lambda_before_the_adam_step()
    {
        var rule = new AdamW(weightDecay: 0.5);
        var expected = TorchReference.Adam(Theta0, Gradients, VaryingLearningRates, 0.9, 0.999, 1e-8, weightDecay: 0.5, amsGrad: false, decoupled: true);
        var coupled = TorchReference.Adam(Theta0, Gradients, VaryingLearningRates, 0.9, 0.999, 1e-8, weightDecay: 0.5, amsGrad: false, decoupled: false);
        Assert.True(Math.Abs(expected[^1][1] - coupled[^1][1]) > 1e-3); // decoupled and coupled decay really differ here

        Golden.AssertClose(expected, Golden.Trajectory(rule, Theta0, Gradients, VaryingLearningRates));
    }

    [Fact]
    public void AdamW_with_amsgrad_matches_pytorch_loop()
    {
        var lr = Golden.Constant(0.1, ShrinkingGradients.Length);
        Golden.AssertClose(
            TorchReference.Adam(Theta0, ShrinkingGradients, lr, 0.9, 0.9, 1e-8, weightDecay: 0.01, amsGrad: true, decoupled: true),
            Golden.Trajectory(new AdamW(beta2: 0.9, amsGrad: true), Theta0, ShrinkingGradients, lr));
    }

    [Fact]
    public void AdamW_without_decay_is_bit_identical_to_adam()
    {
        var lr = Golden.Constant(0.1, Gradients.Length);
        var adam = Golden.Trajectory(new Adam(), Theta0, Gradients, lr);
        var adamW = Golden.Trajectory(new AdamW(weightDecay: 0), Theta0, Gradients, lr);
        Assert.Equal(adam, adamW);
    }

    [Fact]
    public void Adamax_default_matches_pytorch_loop()
    {
        var lr = Golden.Constant(0.1, Gradients.Length);
        Golden.AssertClose(
            TorchReference.Adamax(Theta0, Gradients, lr, 0.9, 0.999, 1e-8, weightDecay: 0),
            Golden.Trajectory(new Adamax(), Theta0, Gradients, lr));
    }

    [Fact]
    public void Adamax_with_coupled_weight_decay_matches_pytorch_loop()
    {
        var rule = new Adamax(beta1: 0.7, beta2: 0.95, epsilon: 1e-3, weightDecay: 0.2);
        Golden.AssertClose(
            TorchReference.Adamax(Theta0, Gradients, VaryingLearningRates, 0.7, 0.95, 1e-3, weightDecay: 0.2),
            Golden.Trajectory(rule, Theta0, Gradients, VaryingLearningRates));
    }

    [Fact]
    public void NAdam_default_matches_pytorch_loop()
    {
        var lr = Golden.Constant(0.1, Gradients.Length);
        Golden.AssertClose(
            TorchReference.NAdam(Theta0, Gradients, lr, 0.9, 0.999, 1e-8, weightDecay: 0, momentumDecay: 0.004),
            Golden.Trajectory(new NAdam(), Theta0, Gradients, lr));
    }

    [Fact]
    public void NAdam_with_weight_decay_and_fast_momentum_decay_matches_pytorch_loop()
    {
        var rule = new NAdam(beta1: 0.85, beta2: 0.99, weightDecay: 0.1, momentumDecay: 0.5);
        Golden.AssertClose(
            TorchReference.NAdam(Theta0, Gradients, VaryingLearningRates, 0.85, 0.99, 1e-8, weightDecay: 0.1, momentumDecay: 0.5),
            Golden.Trajectory(rule, Theta0, Gradients, VaryingLearningRates));
    }

    [Fact]
    public void NAdam_keeps_the_product_of_the_momentum_schedule_in_mu_product()
    {
        // μₜ = 0.9·(1 − ½·0.96^(0.004·t)): μ₁ = 0.450073474, μ₂ = 0.450146935, μ₃ = 0.450220385; Π = μ₁μ₂μ₃ = 0.091214287
        var rule = new NAdam();
        var state = rule.CreateState(1);
        Assert.Equal(1.0, state.Scalar("mu_product"));
        float[] theta = [1f];
        double product = 1;
        for (int t = 1; t <= 3; t++)
        {
            rule.Step(theta, [0.5f], state);
            product *= 0.9 * (1 - 0.5 * Math.Pow(0.96, 0.004 * t));
        }

        Assert.Equal(product, state.Scalar("mu_product"), product * 1e-6);
        double stored = state.Scalar("mu_product");
        Assert.Equal((float)stored, stored); // kept at float precision, like PyTorch's float32 mu_product tensor
    }

    [Fact]
    public void RAdam_default_runs_unrectified_then_rectified_and_matches_pytorch_loop()
    {
        // ρ∞ = 1999; ρₜ = 1, 2.0, 3.0, 4.0, 4.996, 5.994, 6.992, 7.989 for t = 1…8: momentum SGD for t ≤ 5, rectified from t = 6.
        var lr = Golden.Constant(0.1, Gradients.Length);
        var expected = TorchReference.RAdam(Theta0, Gradients, lr, 0.9, 0.999, 1e-8, weightDecay: 0);
        var trajectory = Golden.Trajectory(new RAdam(), Theta0, Gradients, lr);
        Golden.AssertClose(expected, trajectory);

        // Step 5 is plain momentum SGD: θ5 = θ4 − γ·m̂5, checkable without the reference's branch.
        double[] m = new double[3];
        for (int t = 0; t < 5; t++)
        {
            for (int i = 0; i < 3; i++)
            {
                m[i] = 0.9 * m[i] + 0.1 * Gradients[t][i];
            }
        }

        double[] sgdStep5 = [.. Enumerable.Range(0, 3).Select(i => trajectory[3][i] - 0.1 * m[i] / (1 - Math.Pow(0.9, 5)))];
        Golden.AssertClose(sgdStep5, trajectory[4], "RAdam step 5 (un-rectified)");
    }

    [Fact]
    public void RAdam_with_weight_decay_matches_pytorch_loop()
    {
        var rule = new RAdam(beta2: 0.99, weightDecay: 0.2);
        Golden.AssertClose(
            TorchReference.RAdam(Theta0, Gradients, VaryingLearningRates, 0.9, 0.99, 1e-8, weightDecay: 0.2),
            Golden.Trajectory(rule, Theta0, Gradients, VaryingLearningRates));
    }

    [Fact]
    public void State_uses_pytorch_key_names()
    {
        Assert.Equal(["exp_avg", "exp_avg_sq"], new Adam().CreateState(2).VectorNames);
        Assert.Equal(["exp_avg", "exp_avg_sq", "max_exp_avg_sq"], new Adam(amsGrad: true).CreateState(2).VectorNames);
        Assert.Equal(["exp_avg", "exp_avg_sq", "max_exp_avg_sq"], new AdamW(amsGrad: true).CreateState(2).VectorNames);
        Assert.Equal(["exp_avg", "exp_inf"], new Adamax().CreateState(2).VectorNames);
        Assert.Equal(["exp_avg", "exp_avg_sq"], new NAdam().CreateState(2).VectorNames);
        Assert.Equal(["mu_product"], new NAdam().CreateState(2).ScalarNames);
        Assert.Equal(["exp_avg", "exp_avg_sq"], new RAdam().CreateState(2).VectorNames);
    }

    [Fact]
    public void WithLearningRate_keeps_every_other_setting()
    {
        FirstOrderOptimizer[] rules =
        [
            new Adam(beta1: 0.8, beta2: 0.99, epsilon: 1e-6, weightDecay: 0.1, amsGrad: true),
            new AdamW(beta1: 0.8, beta2: 0.99, epsilon: 1e-6, weightDecay: 0.2, amsGrad: true),
            new Adamax(beta1: 0.8, beta2: 0.99, epsilon: 1e-6, weightDecay: 0.1),
            new NAdam(beta1: 0.8, beta2: 0.99, epsilon: 1e-6, weightDecay: 0.1, momentumDecay: 0.01),
            new RAdam(beta1: 0.8, beta2: 0.99, epsilon: 1e-6, weightDecay: 0.1),
        ];
        foreach (var rule in rules)
        {
            var copy = rule.WithLearningRate(0.125);
            Assert.IsType(rule.GetType(), copy);
            Assert.Equal(
                rule.ToString()!.Replace($"learningRate: {rule.LearningRate}", "learningRate: 0.125"),
                copy.ToString());
        }
    }

    /// <summary>
    /// Plain double-precision ports of PyTorch's single-tensor loops (torch/optim/adam.py, adamax.py, nadam.py, radam.py),
    /// written from the documented formulas and independent of the code under test. Each returns θ after every step.
    /// </summary>
    private static class TorchReference
    {
        public static double[][] Adam(double[] theta0, double[][] gradients, double[] lr, double beta1, double beta2, double eps,
            double weightDecay, bool amsGrad, bool decoupled)
        {
            double[] p = (double[])theta0.Clone(), m = new double[p.Length], v = new double[p.Length], vMax = new double[p.Length];
            var trajectory = new double[gradients.Length][];
            for (int t = 1; t <= gradients.Length; t++)
            {
                double gamma = lr[t - 1];
                double bc1 = 1 - Math.Pow(beta1, t), bc2 = 1 - Math.Pow(beta2, t);
                for (int i = 0; i < p.Length; i++)
                {
                    double g = gradients[t - 1][i];
                    if (weightDecay != 0)
                    {
                        if (decoupled)
                        {
                            p[i] *= 1 - gamma * weightDecay;
                        }
                        else
                        {
                            g += weightDecay * p[i];
                        }
                    }

                    m[i] = beta1 * m[i] + (1 - beta1) * g;
                    v[i] = beta2 * v[i] + (1 - beta2) * g * g;
                    double second = v[i];
                    if (amsGrad)
                    {
                        vMax[i] = Math.Max(vMax[i], v[i]);
                        second = vMax[i];
                    }

                    p[i] -= gamma / bc1 * m[i] / (Math.Sqrt(second) / Math.Sqrt(bc2) + eps);
                }

                trajectory[t - 1] = (double[])p.Clone();
            }

            return trajectory;
        }

        public static double[][] Adamax(double[] theta0, double[][] gradients, double[] lr, double beta1, double beta2, double eps, double weightDecay)
        {
            double[] p = (double[])theta0.Clone(), m = new double[p.Length], u = new double[p.Length];
            var trajectory = new double[gradients.Length][];
            for (int t = 1; t <= gradients.Length; t++)
            {
                for (int i = 0; i < p.Length; i++)
                {
                    double g = gradients[t - 1][i] + weightDecay * p[i];
                    m[i] = beta1 * m[i] + (1 - beta1) * g;
                    u[i] = Math.Max(beta2 * u[i], Math.Abs(g) + eps);
                    p[i] -= lr[t - 1] / (1 - Math.Pow(beta1, t)) * m[i] / u[i];
                }

                trajectory[t - 1] = (double[])p.Clone();
            }

            return trajectory;
        }

        public static double[][] NAdam(double[] theta0, double[][] gradients, double[] lr, double beta1, double beta2, double eps,
            double weightDecay, double momentumDecay)
        {
            double[] p = (double[])theta0.Clone(), m = new double[p.Length], v = new double[p.Length];
            double muProduct = 1;
            var trajectory = new double[gradients.Length][];
            for (int t = 1; t <= gradients.Length; t++)
            {
                double gamma = lr[t - 1];
                double mu = beta1 * (1 - 0.5 * Math.Pow(0.96, t * momentumDecay));
                double muNext = beta1 * (1 - 0.5 * Math.Pow(0.96, (t + 1) * momentumDecay));
                muProduct *= mu;
                for (int i = 0; i < p.Length; i++)
                {
                    double g = gradients[t - 1][i] + weightDecay * p[i];
                    m[i] = beta1 * m[i] + (1 - beta1) * g;
                    v[i] = beta2 * v[i] + (1 - beta2) * g * g;
                    double denom = Math.Sqrt(v[i] / (1 - Math.Pow(beta2, t))) + eps;
                    p[i] -= gamma * (1 - mu) / (1 - muProduct) * g / denom;
                    p[i] -= gamma * muNext / (1 - muProduct * muNext) * m[i] / denom;
                }

                trajectory[t - 1] = (double[])p.Clone();
            }

            return trajectory;
        }

        public static double[][] RAdam(double[] theta0, double[][] gradients, double[] lr, double beta1, double beta2, double eps, double weightDecay)
        {
            double[] p = (double[])theta0.Clone(), m = new double[p.Length], v = new double[p.Length];
            double rhoInf = 2 / (1 - beta2) - 1;
            var trajectory = new double[gradients.Length][];
            for (int t = 1; t <= gradients.Length; t++)
            {
                double gamma = lr[t - 1];
                double bc2 = 1 - Math.Pow(beta2, t);
                double rho = rhoInf - 2 * t * Math.Pow(beta2, t) / bc2;
                for (int i = 0; i < p.Length; i++)
                {
                    double g = gradients[t - 1][i] + weightDecay * p[i];
                    m[i] = beta1 * m[i] + (1 - beta1) * g;
                    v[i] = beta2 * v[i] + (1 - beta2) * g * g;
                    double mHat = m[i] / (1 - Math.Pow(beta1, t));
                    if (rho > 5)
                    {
                        double adaptive = Math.Sqrt(bc2) / (Math.Sqrt(v[i]) + eps);
                        double rect = Math.Sqrt((rho - 4) * (rho - 2) * rhoInf / ((rhoInf - 4) * (rhoInf - 2) * rho));
                        p[i] -= gamma * mHat * adaptive * rect;
                    }
                    else
                    {
                        p[i] -= gamma * mHat;
                    }
                }

                trajectory[t - 1] = (double[])p.Clone();
            }

            return trajectory;
        }
    }
}
