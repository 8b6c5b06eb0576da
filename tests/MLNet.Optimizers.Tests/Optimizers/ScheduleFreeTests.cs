using System.Numerics;
using System.Runtime.InteropServices;
using MLNet.Optimizers;

namespace MLNet.Optimizers.Tests.Optimizers;

public class ScheduleFreeTests
{
    private static readonly double[] Theta0 = [1.0, -2.0, 0.5];

    private static readonly double[][] Gradients =
    [
        [0.5, -0.3, 0.2],
        [0.25, 0.4, -0.1],
        [-0.5, 0.1, 0.3],
        [0.1, -0.2, 0.05],
        [0.3, 0.3, -0.25],
        [-0.2, 0.15, 0.1],
    ];

    [Fact]
    public void ScheduleFreeSgd_three_steps_match_hand_derivation_and_x_is_the_average_of_z()
    {
        // θ0 = 5, γ = 1, μ = 0.9, no warm-up, r = 0, weightLrPower = 2, gradient 1 every step. lr_max = 1, so every weight
        // w = 1 and c = 1/(k + 1): x is the plain average of z1…zk.
        // k=0: z ← 5;  c = 1:   y = lerp(5, 5, 1) + 1·(0.9·0 − 1)·1 = 4;     z = 4;  x = (4 − 0.1·4)/0.9 = 4
        // k=1: c = 1/2:         y = lerp(4, 4, ½) + (0.9·½ − 1)·1 = 3.45;    z = 3;  x = (3.45 − 0.3)/0.9 = 3.5 = (4 + 3)/2
        // k=2: c = 1/3:         y = lerp(3.45, 3, ⅓) + (0.9·⅔ − 1) = 3.3 − 0.4 = 2.9;  z = 2;  x = (2.9 − 0.2)/0.9 = 3 = (4 + 3 + 2)/3
        var rule = new ScheduleFreeSgd();
        var steps = Run(rule, [5.0], [[1.0], [1.0], [1.0]], Golden.Constant(1.0, 3));
        Golden.AssertClose([[4.0], [3.45], [2.9]], steps.Y, "y");
        Golden.AssertClose([[4.0], [3.0], [2.0]], steps.Z, "z");
        Golden.AssertClose([[4.0], [3.5], [3.0]], steps.X, "x");
    }

    public static TheoryData<string> GoldenCases => [.. GoldenRules.Keys];

    private static readonly Dictionary<string, (FirstOrderOptimizer Rule, InPlacePort Port, double LearningRate)> GoldenRules = new()
    {
        ["AdamW default"] = (new ScheduleFreeAdamW(), new InPlacePort(0.9, 0.999, 1e-8, 0, 0, 0, 2, adam: true), 0.1),
        ["AdamW warm-up, decay, r, weightLrPower"] =
            (new ScheduleFreeAdamW(beta1: 0.8, beta2: 0.99, epsilon: 1e-6, weightDecay: 0.2, warmupSteps: 4, r: 1, weightLrPower: 1),
             new InPlacePort(0.8, 0.99, 1e-6, 0.2, 4, 1, 1, adam: true), 0.1),
        ["Sgd default"] = (new ScheduleFreeSgd(), new InPlacePort(0.9, 0, 0, 0, 0, 0, 2, adam: false), 1.0),
        ["Sgd warm-up, decay, r, weightLrPower"] =
            (new ScheduleFreeSgd(momentum: 0.7, weightDecay: 0.3, warmupSteps: 3, r: 0.5, weightLrPower: 3),
             new InPlacePort(0.7, 0, 0, 0.3, 3, 0.5, 3, adam: false), 0.5),
    };

    [Theory]
    [MemberData(nameof(GoldenCases))]
    public void Matches_a_double_precision_port_of_schedule_free_main_loop(string golden)
    {
        var (rule, port, learningRate) = GoldenRules[golden];
        var lr = Golden.Constant(learningRate, Gradients.Length);
        var expected = port.Run(Theta0, Gradients, lr);
        var actual = Run(rule, Theta0, Gradients, lr);
        Golden.AssertClose(expected.Y, actual.Y, $"{golden}, y");
        Golden.AssertClose(expected.Z, actual.Z, $"{golden}, z");
        Golden.AssertClose(expected.X, actual.X, $"{golden}, x");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void In_place_form_equals_the_x_y_z_reference_form(bool adam)
    {
        // The setup of schedule_free's test_schedulefree_adam/sgd: lr 0.3, warm-up 5, weight decay 0.5, 10 steps.
        const double learningRate = 0.3;
        FirstOrderOptimizer rule = adam
            ? new ScheduleFreeAdamW(learningRate, warmupSteps: 5, weightDecay: 0.5)
            : new ScheduleFreeSgd(learningRate, warmupSteps: 5, weightDecay: 0.5);
        var reference = new XyzReference(Theta0, beta: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.5, warmupSteps: 5, adam);
        float[] y = [.. Theta0.Select(value => (float)value)];
        var state = rule.CreateState(y.Length);
        float[] x = new float[y.Length];
        double[] target = [3.0, -2.5, 4.0], curvature = [1.0, 0.5, 2.0];
        for (int step = 1; step <= 10; step++)
        {
            // A quadratic's gradient at the reference's y, rounded to float and fed to both forms.
            float[] gradient = [.. reference.Y.Select((yi, i) => (float)(curvature[i] * (yi - target[i])))];
            reference.Step([.. gradient.Select(g => (double)g)], learningRate);
            rule.Step(y, gradient, state, learningRate);
            rule.WriteEvaluationPoint(y, state, x);

            // 1e-5: the float in-place form re-derives x from y and z, which loses a few more bits than a direct step.
            Golden.AssertClose(reference.Z, state.Vector("z"), $"z after step {step}", 1e-5);
            Golden.AssertClose(reference.Y, y, $"y after step {step}", 1e-5);
            Golden.AssertClose(reference.X, x, $"x after step {step}", 1e-5);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Writing_the_evaluation_point_mid_run_changes_nothing(bool adam)
    {
        FirstOrderOptimizer rule = adam
            ? new ScheduleFreeAdamW(0.3, warmupSteps: 5, weightDecay: 0.5)
            : new ScheduleFreeSgd(0.3, warmupSteps: 5, weightDecay: 0.5);
        var random = new Random(7);
        float[][] gradients = [.. Enumerable.Range(0, 10).Select(_ => Enumerable.Range(0, 19).Select(_ => 2 * random.NextSingle() - 1).ToArray())];
        float[] initial = [.. Enumerable.Range(0, 19).Select(_ => 2 * random.NextSingle() - 1)];

        float[] plain = (float[])initial.Clone();
        var plainState = rule.CreateState(plain.Length);
        float[] observed = (float[])initial.Clone();
        var observedState = rule.CreateState(observed.Length);
        float[] x = new float[observed.Length];
        foreach (float[] gradient in gradients)
        {
            rule.Step(plain, gradient, plainState);
            rule.Step(observed, gradient, observedState);
            float[] before = (float[])observed.Clone();
            rule.WriteEvaluationPoint(observed, observedState, x);
            Assert.Equal(Bits(before), Bits(observed)); // y untouched
        }

        Assert.Equal(Bits(plain), Bits(observed));
        foreach (string name in plainState.VectorNames)
        {
            Assert.Equal(Bits(plainState.Vector(name)), Bits(observedState.Vector(name)));
        }

        foreach (string name in plainState.ScalarNames)
        {
            Assert.Equal(plainState.Scalar(name), observedState.Scalar(name));
        }
    }

    [Fact]
    public void Before_the_first_step_the_evaluation_point_is_the_parameters()
    {
        var rule = new ScheduleFreeAdamW();
        float[] y = [1.5f, -2f, 3f];
        float[] x = new float[3];
        rule.WriteEvaluationPoint(y, rule.CreateState(3), x);
        Assert.Equal(y, x);
        Assert.True(rule.HasSeparateEvaluationPoint);
        Assert.True(new ScheduleFreeSgd().HasSeparateEvaluationPoint);
    }

    [Theory]
    [InlineData(0.9)]
    [InlineData(0.4)] // 1 − 1/β = −1.5: PyTorch's other lerp branch
    public void Evaluation_point_is_y_minus_one_minus_beta_z_over_beta_at_every_length(double momentum)
    {
        var rule = new ScheduleFreeSgd(learningRate: 0.5, momentum: momentum);
        foreach (int length in Enumerable.Range(0, 3 * Vector<float>.Count + 2))
        {
            var random = new Random(length);
            float[] y = [.. Enumerable.Range(0, length).Select(_ => 2 * random.NextSingle() - 1)];
            var state = rule.CreateState(length);
            for (int step = 0; step < 3; step++)
            {
                rule.Step(y, [.. Enumerable.Range(0, length).Select(_ => 2 * random.NextSingle() - 1)], state);
            }

            float[] x = new float[length];
            rule.WriteEvaluationPoint(y, state, x);
            float[] z = state.Vector("z");
            for (int i = 0; i < length; i++)
            {
                double expected = (y[i] - (1 - momentum) * z[i]) / momentum;
                // Relative to the inputs' size: x is a difference of y and z, so its own size can be arbitrarily small.
                double scale = (Math.Abs(y[i]) + Math.Abs(z[i])) / momentum;
                Assert.True(Math.Abs(x[i] - expected) <= 1e-6 * scale, $"length {length}, element {i}: expected {expected}, got {x[i]}");
            }
        }
    }

    [Fact]
    public void WriteEvaluationPoint_rejects_a_destination_of_another_length_and_a_foreign_state()
    {
        var rule = new ScheduleFreeSgd();
        var state = rule.CreateState(3);
        var error = Assert.Throws<ArgumentException>(() => rule.WriteEvaluationPoint(new float[3], state, new float[2]));
        Assert.Equal("destination", error.ParamName);
        Assert.Throws<ArgumentException>(() => rule.WriteEvaluationPoint(new float[3], new ScheduleFreeAdamW().CreateState(3), new float[3]));
    }

    [Fact]
    public void State_uses_schedule_free_key_names_and_starting_values()
    {
        var state = new ScheduleFreeAdamW().CreateState(2);
        Assert.Equal(["exp_avg_sq", "z"], state.VectorNames);
        Assert.Equal(["lr_max", "scheduled_lr", "weight_sum"], state.ScalarNames);
        Assert.Equal(-1.0, state.Scalar("lr_max"));
        Assert.Equal(0.0, state.Scalar("weight_sum"));
        Assert.Equal(["z"], new ScheduleFreeSgd().CreateState(2).VectorNames);
    }

    [Fact]
    public void WithLearningRate_keeps_every_other_setting()
    {
        FirstOrderOptimizer[] rules =
        [
            new ScheduleFreeAdamW(beta1: 0.8, beta2: 0.99, epsilon: 1e-6, weightDecay: 0.1, warmupSteps: 7, r: 0.5, weightLrPower: 1),
            new ScheduleFreeSgd(momentum: 0.8, weightDecay: 0.1, warmupSteps: 7, r: 0.5, weightLrPower: 1),
        ];
        foreach (var rule in rules)
        {
            var copy = rule.WithLearningRate(0.125);
            Assert.IsType(rule.GetType(), copy);
            Assert.Equal(rule.ToString()!.Replace($"learningRate: {rule.LearningRate}", "learningRate: 0.125"), copy.ToString());
        }
    }

    private static int[] Bits(float[] values) => MemoryMarshal.Cast<float, int>(values.AsSpan()).ToArray();

    /// <summary>Runs the rule and records y (the training vector), z (state) and x (evaluation point) after every step.</summary>
    private static (float[][] Y, float[][] Z, float[][] X) Run(FirstOrderOptimizer rule, double[] theta0, double[][] gradients, double[] lr)
    {
        float[] y = [.. theta0.Select(value => (float)value)];
        var state = rule.CreateState(y.Length);
        var (ys, zs, xs) = (new float[gradients.Length][], new float[gradients.Length][], new float[gradients.Length][]);
        for (int step = 0; step < gradients.Length; step++)
        {
            rule.Step(y, [.. gradients[step].Select(g => (float)g)], state, lr[step]);
            ys[step] = (float[])y.Clone();
            zs[step] = (float[])state.Vector("z").Clone();
            xs[step] = new float[y.Length];
            rule.WriteEvaluationPoint(y, state, xs[step]);
        }

        return (ys, zs, xs);
    }

    /// <summary>
    /// A plain double-precision port of schedule_free's main in-place step (schedulefree/adamw_schedulefree.py and
    /// sgd_schedulefree.py, non-foreach branch): y in the parameters, z in state, x = (y − (1 − β)·z)/β only when asked.
    /// </summary>
    private sealed class InPlacePort(double beta, double beta2, double epsilon, double weightDecay, int warmupSteps, double r,
        double weightLrPower, bool adam)
    {
        public (double[][] Y, double[][] Z, double[][] X) Run(double[] theta0, double[][] gradients, double[] lr)
        {
            double[] y = (double[])theta0.Clone(), z = (double[])theta0.Clone(), v = new double[y.Length];
            double lrMax = -1, weightSum = 0;
            var (ys, zs, xs) = (new double[gradients.Length][], new double[gradients.Length][], new double[gradients.Length][]);
            for (int k = 0; k < gradients.Length; k++)
            {
                double sched = k < warmupSteps ? (k + 1) / (double)warmupSteps : 1.0;
                double gamma = lr[k] * sched;
                lrMax = Math.Max(gamma, lrMax);
                double weight = Math.Pow(k + 1, r) * Math.Pow(lrMax, weightLrPower);
                weightSum += weight;
                double c = weightSum == 0 ? 0 : weight / weightSum;
                double biasCorrection2 = 1 - Math.Pow(beta2, k + 1);
                for (int i = 0; i < y.Length; i++)
                {
                    double g = gradients[k][i];
                    if (adam)
                    {
                        v[i] = beta2 * v[i] + (1 - beta2) * g * g;
                        g /= Math.Sqrt(v[i] / biasCorrection2) + epsilon;
                    }

                    g += weightDecay * y[i];
                    y[i] = (1 - c) * y[i] + c * z[i];
                    y[i] += gamma * (beta * (1 - c) - 1) * g;
                    z[i] -= gamma * g;
                }

                ys[k] = (double[])y.Clone();
                zs[k] = (double[])z.Clone();
                xs[k] = [.. y.Select((yi, i) => (yi - (1 - beta) * z[i]) / beta)];
            }

            return (ys, zs, xs);
        }
    }

    /// <summary>
    /// The x/y/z reference form in double (schedulefree/adamw_schedulefree_reference.py and sgd_schedulefree_reference.py):
    /// z takes the step, x ← (1 − c)·x + c·z, y ← β·x + (1 − β)·z, all three stored.
    /// </summary>
    private sealed class XyzReference(double[] theta0, double beta, double beta2, double epsilon, double weightDecay, int warmupSteps, bool adam)
    {
        private readonly double[] _v = new double[theta0.Length];
        private double _lrMax = -1;
        private double _weightSum;
        private int _k;

        public double[] X { get; } = (double[])theta0.Clone();

        public double[] Y { get; } = (double[])theta0.Clone();

        public double[] Z { get; } = (double[])theta0.Clone();

        public void Step(double[] gradient, double learningRate)
        {
            double sched = _k < warmupSteps ? (_k + 1) / (double)warmupSteps : 1.0;
            double gamma = learningRate * sched;
            _lrMax = Math.Max(gamma, _lrMax);
            double weight = Math.Pow(_lrMax, 2); // r = 0, weightLrPower = 2
            _weightSum += weight;
            double c = weight / _weightSum;
            double biasCorrection2 = 1 - Math.Pow(beta2, _k + 1);
            for (int i = 0; i < Z.Length; i++)
            {
                double g = gradient[i];
                if (adam)
                {
                    Z[i] -= gamma * weightDecay * Y[i];
                    _v[i] = beta2 * _v[i] + (1 - beta2) * g * g;
                    Z[i] -= gamma * g / (Math.Sqrt(_v[i] / biasCorrection2) + epsilon);
                }
                else
                {
                    Z[i] -= gamma * (g + weightDecay * Y[i]);
                }

                X[i] = (1 - c) * X[i] + c * Z[i];
                Y[i] = beta * X[i] + (1 - beta) * Z[i];
            }

            _k++;
        }
    }
}
