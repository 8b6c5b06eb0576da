using System.Runtime.InteropServices;

namespace MLNet.Optimizers.Tests.Optimizers;

/// <summary>
/// Lazy sparse steps (<see cref="ISparseStepOptimizer"/>) against dense steps on the zero-filled gradients (exact rules), against
/// an independent double-precision port of PyTorch's SparseAdam loop (Adam/AdamW moments), and their argument checks.
/// </summary>
public class SparseStepTests
{
    private const int Length = 37; // not a multiple of any vector width: dense steps run both the fused body and the tail

    public static TheoryData<string> BitExactRules() => ["Sgd", "Adagrad"];

    private static FirstOrderOptimizer Make(string name) => name switch
    {
        "Sgd" => new Sgd(learningRate: 0.1),
        "Adagrad" => new Adagrad(learningRate: 0.1, learningRateDecay: 0.1, initialAccumulatorValue: 0.1),
        "Sgd momentum" => new Sgd(learningRate: 0.1, momentum: 0.9, dampening: 0.3),
        "Sgd nesterov" => new Sgd(learningRate: 0.1, momentum: 0.8, nesterov: true),
        "Adam amsgrad" => new Adam(learningRate: 0.01, amsGrad: true),
        "AdamW" => new AdamW(learningRate: 0.01, weightDecay: 0.05),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, null),
    };

    /// <summary>A zero gradient leaves plain SGD and Adagrad unchanged, so lazy and dense agree bit for bit, even as the rate changes.</summary>
    [Theory, MemberData(nameof(BitExactRules))]
    public void Lazy_steps_equal_dense_steps_bit_for_bit(string name)
    {
        var rule = Make(name);
        var run = LazyAndDense(rule, steps: 25, touchedShare: 0.2, learningRateAt: t => 0.1 / (1 + t / 7), seed: 1);

        AssertBitIdentical(run.Dense, run.Lazy, $"{name} parameters");
        foreach (string vector in run.DenseState.VectorNames)
        {
            AssertBitIdentical(run.DenseState.Vector(vector), run.LazyState.Vector(vector), $"{name} {vector}");
        }

        Assert.Equal(run.DenseState.Step, run.LazyState.Step);
    }

    /// <summary>
    /// Momentum catch-up is the closed form b·μᵏ, θ − γ·b·Σμʲ in double: equal to k dense float steps up to their rounding
    /// (relative 1e-6 over 40 steps of 150 coordinates, several gather blocks), with a constant rate and with a rate that changes every 10 steps (a full flush each time).
    /// </summary>
    [Theory]
    [InlineData("Sgd momentum", false)]
    [InlineData("Sgd momentum", true)]
    [InlineData("Sgd nesterov", false)]
    [InlineData("Sgd nesterov", true)]
    public void Momentum_catch_up_matches_dense_steps(string name, bool changingRate)
    {
        var rule = Make(name);
        var run = LazyAndDense(rule, steps: 40, touchedShare: 0.6, learningRateAt: t => changingRate ? 0.1 / (1 + t / 10) : 0.1, seed: 2, length: 150);

        AssertClose(run.Dense, run.Lazy, 1e-6, $"{name} parameters");
        AssertClose(run.DenseState.Vector(Sgd.MomentumBufferKey), run.LazyState.Vector(Sgd.MomentumBufferKey), 1e-6, $"{name} buffer");
    }

    /// <summary>
    /// A coordinate AdamW never touches has m = v = 0, so dense AdamW moves it by the decay alone: θ₀·Π(1 − γₜλ). The lazy
    /// catch-up (1 − γλ)ᵏ must give the same, with a rate that changes.
    /// </summary>
    [Fact]
    public void AdamW_decay_of_untouched_coordinates_is_exact()
    {
        var rule = (AdamW)Make("AdamW");
        Func<int, double> rate = t => t < 12 ? 0.01 : 0.02;
        var run = LazyAndDense(rule, steps: 30, touchedShare: 0.2, learningRateAt: rate, seed: 3, neverTouched: 5);

        for (int i = 0; i < 5; i++)
        {
            double expected = run.Initial[i];
            for (int t = 0; t < 30; t++)
            {
                expected *= 1 - rate(t) * rule.WeightDecay;
            }

            Assert.Equal(expected, run.Lazy[i], 1e-6);
            Assert.Equal(run.Dense[i], run.Lazy[i], 1e-6);
        }
    }

    /// <summary>When every step touches every coordinate, lazy and dense steps are the same computation, bit for bit.</summary>
    [Theory]
    [InlineData("Sgd momentum", Length)]
    [InlineData("Sgd nesterov", Length)]
    [InlineData("Adam amsgrad", Length)]
    [InlineData("AdamW", Length)]
    [InlineData("Sgd momentum", 150)] // more than two gather blocks (SparseSteps.GatherBlock = 64), the last one partial
    [InlineData("Adagrad", 150)]
    [InlineData("Adam amsgrad", 150)]
    [InlineData("AdamW", 150)]
    public void Touching_every_coordinate_equals_dense_steps_bit_for_bit(string name, int length)
    {
        var rule = Make(name);
        var run = LazyAndDense(rule, steps: 12, touchedShare: 1.0, learningRateAt: t => 0.01 * (1 + t % 3), seed: 4, length: length);

        AssertBitIdentical(run.Dense, run.Lazy, $"{name} parameters");
        foreach (string vector in run.DenseState.VectorNames)
        {
            AssertBitIdentical(run.DenseState.Vector(vector), run.LazyState.Vector(vector), $"{name} {vector}");
        }
    }

    /// <summary>
    /// Adam and AdamW moments follow PyTorch's SparseAdam: only touched coordinates update m, v and θ, with the global step's
    /// bias correction (AdamW: every coordinate also decays by (1 − γλ) each step). Checked against that loop written here in
    /// double precision (torch/optim/_functional.py sparse_adam, plus the AdamW decay).
    /// </summary>
    [Theory]
    [InlineData(0.0)]
    [InlineData(0.05)]
    public void Adam_moments_follow_sparse_adam(double weightDecay)
    {
        const double lr = 0.01, beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
        ISparseStepOptimizer rule = weightDecay == 0 ? new Adam(lr) : new AdamW(lr, weightDecay: weightDecay);
        var random = new Random(5);
        float[] parameters = RandomVector(random, Length);
        double[] p = parameters.Select(x => (double)x).ToArray(), m = new double[Length], v = new double[Length];
        var state = rule.CreateSparseState(Length);
        for (int t = 1; t <= 30; t++)
        {
            var (indices, values) = RandomSparseGradient(random, Length, 0.3, neverTouched: 0);
            rule.StepSparse(parameters, indices, values, state, lr);

            for (int i = 0; i < Length; i++)
            {
                p[i] *= 1 - lr * weightDecay;
            }

            for (int j = 0; j < indices.Length; j++)
            {
                int i = indices[j];
                double g = values[j];
                m[i] = beta1 * m[i] + (1 - beta1) * g;
                v[i] = beta2 * v[i] + (1 - beta2) * g * g;
                double stepSize = lr / (1 - Math.Pow(beta1, t));
                p[i] -= stepSize * m[i] / (Math.Sqrt(v[i]) / Math.Sqrt(1 - Math.Pow(beta2, t)) + eps);
            }
        }

        rule.Flush(parameters, state);
        AssertClose(p.Select(x => (float)x).ToArray(), parameters, 1e-5, "parameters");
        AssertClose(m.Select(x => (float)x).ToArray(), state.Vector("exp_avg"), 1e-5, "exp_avg");
    }

    /// <summary>Before a flush, a lazy step writes the touched coordinates only: that is what makes it O(non-zeros).</summary>
    [Fact]
    public void A_lazy_step_writes_only_touched_coordinates()
    {
        var rule = (Sgd)Make("Sgd momentum");
        var state = rule.CreateSparseState(Length);
        float[] parameters = RandomVector(new Random(6), Length);
        rule.StepSparse(parameters, [0, 1, 2], [1f, 1f, 1f], state, 0.1);
        float[] before = (float[])parameters.Clone();

        rule.StepSparse(parameters, [5], [1f], state, 0.1);

        for (int i = 0; i < Length; i++)
        {
            if (i != 5)
            {
                Assert.Equal(before[i], parameters[i]);
            }
        }

        rule.Flush(parameters, state);
        Assert.NotEqual(before[0], parameters[0]); // the pending momentum step of coordinate 0 lands at the flush
    }

    /// <summary>CatchUp brings just the given coordinates to where a full flush would put them, and leaves the others lazy.</summary>
    [Theory]
    [InlineData("Sgd momentum")]
    [InlineData("AdamW")]
    public void Catch_up_of_some_coordinates_equals_a_flush_there(string name)
    {
        var rule = (ISparseStepOptimizer)Make(name);
        var random = new Random(8);
        float[] parameters = RandomVector(random, Length);
        var state = rule.CreateSparseState(Length);
        for (int t = 0; t < 10; t++)
        {
            var (indices, values) = RandomSparseGradient(random, Length, 0.3, neverTouched: 0);
            rule.StepSparse(parameters, indices, values, state, 0.05);
        }

        float[] flushed = (float[])parameters.Clone();
        var flushedState = rule.CreateSparseState(Length);
        using (var snapshot = new MemoryStream())
        {
            state.Save(snapshot);
            snapshot.Position = 0;
            flushedState.Restore(snapshot);
        }

        rule.Flush(flushed, flushedState);
        float[] before = (float[])parameters.Clone();
        int[] some = [1, 4, 9, 30];
        rule.CatchUp(parameters, some, state);

        for (int i = 0; i < Length; i++)
        {
            Assert.Equal(some.Contains(i) ? flushed[i] : before[i], parameters[i]);
        }

        Assert.NotEqual(before, parameters); // something was pending
        Assert.Equal("indices", Assert.Throws<ArgumentException>(() => rule.CatchUp(parameters, [3, 2], state)).ParamName);
    }

    [Fact]
    public void Bad_arguments_are_rejected_with_the_argument_named()
    {
        var rule = new Sgd(momentum: 0.9);
        var state = rule.CreateSparseState(4);
        var parameters = new float[4];

        Assert.Equal("indices", Assert.Throws<ArgumentException>(() => rule.StepSparse(parameters, [2, 1], [1f, 1f], state, 0.1)).ParamName);
        Assert.Equal("indices", Assert.Throws<ArgumentException>(() => rule.StepSparse(parameters, [1, 1], [1f, 1f], state, 0.1)).ParamName);
        Assert.Equal("indices", Assert.Throws<ArgumentException>(() => rule.StepSparse(parameters, [4], [1f], state, 0.1)).ParamName);
        Assert.Equal("gradientValues", Assert.Throws<ArgumentException>(() => rule.StepSparse(parameters, [1], [1f, 2f], state, 0.1)).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => rule.StepSparse(parameters, [1], [1f], state, double.NaN));
        var dense = Assert.Throws<ArgumentException>(() => rule.StepSparse(parameters, [1], [1f], rule.CreateState(4), 0.1));
        Assert.Contains("CreateSparseState", dense.Message);
        Assert.Equal(0, state.Step);
    }

    [Fact]
    public void Coupled_weight_decay_cannot_step_lazily()
    {
        ISparseStepOptimizer[] coupled = [new Sgd(weightDecay: 0.01), new Adagrad(weightDecay: 0.01), new Adam(weightDecay: 0.01)];
        foreach (var rule in coupled)
        {
            Assert.False(rule.SupportsSparseSteps);
            var state = rule.CreateSparseState(3);
            var error = Assert.Throws<NotSupportedException>(() => rule.StepSparse(new float[3], [0], [1f], state, 0.1));
            Assert.Contains("weightDecay", error.Message);
        }

        Assert.True(new AdamW(weightDecay: 0.01).SupportsSparseSteps);
    }

    private sealed record Run(float[] Initial, float[] Lazy, float[] Dense, OptimizerState LazyState, OptimizerState DenseState);

    /// <summary>Steps a copy lazily and a copy densely on the zero-filled gradient, then flushes the lazy one.</summary>
    private static Run LazyAndDense(FirstOrderOptimizer rule, int steps, double touchedShare, Func<int, double> learningRateAt, int seed,
        int neverTouched = 0, int length = Length)
    {
        var sparse = (ISparseStepOptimizer)rule;
        var random = new Random(seed);
        float[] initial = RandomVector(random, length);
        float[] lazy = (float[])initial.Clone(), dense = (float[])initial.Clone();
        var lazyState = sparse.CreateSparseState(length);
        var denseState = rule.CreateState(length);
        var gradient = new float[length];
        for (int t = 0; t < steps; t++)
        {
            var (indices, values) = RandomSparseGradient(random, length, touchedShare, neverTouched);
            sparse.StepSparse(lazy, indices, values, lazyState, learningRateAt(t));
            Array.Clear(gradient);
            for (int j = 0; j < indices.Length; j++)
            {
                gradient[indices[j]] = values[j];
            }

            rule.Step(dense, gradient, denseState, learningRateAt(t));
        }

        sparse.Flush(lazy, lazyState);
        return new Run(initial, lazy, dense, lazyState, denseState);
    }

    /// <summary>Each coordinate from <paramref name="neverTouched"/> on is touched with probability <paramref name="share"/>.</summary>
    private static (int[] Indices, float[] Values) RandomSparseGradient(Random random, int length, double share, int neverTouched)
    {
        var indices = Enumerable.Range(neverTouched, length - neverTouched).Where(_ => random.NextDouble() < share).ToArray();
        return (indices, RandomVector(random, indices.Length));
    }

    private static float[] RandomVector(Random random, int length) =>
        Enumerable.Range(0, length).Select(_ => 2 * random.NextSingle() - 1).ToArray();

    private static void AssertBitIdentical(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        var e = MemoryMarshal.Cast<float, int>(expected);
        var a = MemoryMarshal.Cast<float, int>(actual);
        Assert.Equal(e.Length, a.Length);
        for (int i = 0; i < e.Length; i++)
        {
            Assert.True(e[i] == a[i], $"{what}[{i}]: dense {expected[i]:R}, lazy {actual[i]:R}");
        }
    }

    private static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double relative, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double tolerance = relative * Math.Max(1, Math.Abs(expected[i]));
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance,
                $"{what}[{i}]: expected {expected[i]:R}, lazy {actual[i]:R}, difference {Math.Abs(expected[i] - actual[i]):G3} > {tolerance:G3}");
        }
    }
}
