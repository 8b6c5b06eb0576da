namespace MLNet.Optimizers.Tests.Optimizers;

/// <summary><see cref="Lbfgs"/> with an <see cref="LbfgsL1Penalty"/>: OWL-QN on problems whose solution is known.</summary>
public class LbfgsOrthantWiseTests
{
    // f(x) = ½·Σⱼ aⱼ·(xⱼ − cⱼ)²; with λ·Σ|xⱼ| the minimiser is the soft threshold xⱼ = sign(cⱼ)·max(|cⱼ| − λ/aⱼ, 0).
    private static readonly double[] Curvatures = [1, 2, 0.5, 4, 1, 3];
    private static readonly double[] Centres = [1.5, -0.2, 0.3, -2, 0.05, 1];

    private static double Separable(ReadOnlySpan<float> x, Span<float> gradient)
    {
        double f = 0;
        for (int j = 0; j < x.Length; j++)
        {
            double r = x[j] - Centres[j];
            f += 0.5 * Curvatures[j] * r * r;
            gradient[j] = (float)(Curvatures[j] * r);
        }

        return f;
    }

    [Theory]
    [InlineData(LineSearch.StrongWolfe)]
    [InlineData(LineSearch.None)]
    public void Separable_problem_reaches_the_soft_threshold_with_exact_zeros(LineSearch lineSearch)
    {
        const double lambda = 0.5;
        float[] x = new float[Centres.Length];

        var result = new Lbfgs(lineSearch: lineSearch, changeTolerance: 0).Minimize(x, Separable, maxIterations: 200, maxEvaluations: 1000,
            l1: new LbfgsL1Penalty(lambda, 0, x.Length));

        for (int j = 0; j < x.Length; j++)
        {
            double expected = Math.Sign(Centres[j]) * Math.Max(Math.Abs(Centres[j]) - (lambda / Curvatures[j]), 0);
            if (expected == 0)
            {
                Assert.Equal(0f, x[j]);
            }
            else
            {
                Assert.Equal(expected, x[j], 1e-6);
            }
        }

        Assert.Equal(LbfgsStopReason.GradientTolerance, result.StopReason);
        // The reported loss is F = f + λ·‖x‖₁ at the final point.
        double penalty = lambda * x.Sum(v => Math.Abs((double)v));
        Assert.Equal(Separable(x, new float[x.Length]) + penalty, result.Loss, 1e-12);
    }

    [Fact]
    public void Coupled_quadratic_meets_the_optimality_conditions()
    {
        // ½xᵀAx − bᵀx with A dense: coordinates interact, so the orthant projections and the curvature pairs all matter.
        var problem = LbfgsTests.MakeQuadratic(12, seed: 5);
        const double lambda = 0.3;
        float[] x = new float[problem.Length];

        var result = new Lbfgs(changeTolerance: 0).Minimize(x, problem.Evaluate, maxIterations: 500, maxEvaluations: 5000,
            l1: new LbfgsL1Penalty(lambda, 0, x.Length));

        var gradient = new float[x.Length];
        problem.Evaluate(x, gradient);
        for (int j = 0; j < x.Length; j++)
        {
            double residual = x[j] == 0 ? Math.Max(0, Math.Abs(gradient[j]) - lambda) : Math.Abs(gradient[j] + (lambda * Math.Sign(x[j])));
            Assert.True(residual <= 1e-6, $"x[{j}] = {x[j]}: residual {residual}");
        }

        Assert.Contains(0f, x);
        Assert.Equal(LbfgsStopReason.GradientTolerance, result.StopReason);
    }

    [Fact]
    public void Parameters_outside_the_penalised_range_are_not_shrunk()
    {
        // Only x[1..3) is penalised (both thresholded to 0): x[0] and x[3..] go to their unpenalised minimisers cⱼ.
        float[] x = new float[Centres.Length];

        new Lbfgs().Minimize(x, Separable, maxIterations: 200, l1: new LbfgsL1Penalty(0.5, 1, 2));

        Assert.Equal(Centres[0], x[0], 1e-6);
        Assert.Equal(0f, x[1]);
        Assert.Equal(0f, x[2]);
        for (int j = 3; j < x.Length; j++)
        {
            Assert.Equal(Centres[j], x[j], 1e-6);
        }
    }

    [Fact]
    public void Zero_strength_is_plain_Lbfgs_bit_for_bit()
    {
        var problem = LbfgsTests.MakeQuadratic(10, seed: 2);
        float[] plain = new float[problem.Length], withZero = new float[problem.Length];
        var lbfgs = new Lbfgs();

        var a = lbfgs.Minimize(plain, problem.Evaluate, maxIterations: 8, maxEvaluations: 100);
        var b = lbfgs.Minimize(withZero, problem.Evaluate, maxIterations: 8, maxEvaluations: 100, l1: new LbfgsL1Penalty(0, 0, problem.Length));

        Assert.Equal(plain, withZero);
        Assert.Equal(a.ToString(), b.ToString());
    }

    [Theory]
    [InlineData(LineSearch.StrongWolfe)]
    [InlineData(LineSearch.None)]
    public void Saved_and_restored_state_continues_bit_identically(LineSearch lineSearch)
    {
        var problem = LbfgsTests.MakeQuadratic(10, seed: 3);
        var lbfgs = new Lbfgs(historySize: 4, learningRate: lineSearch == LineSearch.None ? 0.05 : 1, lineSearch: lineSearch);
        var l1 = new LbfgsL1Penalty(0.2, 0, problem.Length);

        var uninterrupted = lbfgs.CreateState(problem.Length);
        float[] expected = new float[problem.Length];
        lbfgs.Minimize(expected, problem.Evaluate, uninterrupted, maxIterations: 3, maxEvaluations: 100, l1: l1);
        lbfgs.Minimize(expected, problem.Evaluate, uninterrupted, maxIterations: 4, maxEvaluations: 100, l1: l1);

        var before = lbfgs.CreateState(problem.Length);
        float[] actual = new float[problem.Length];
        lbfgs.Minimize(actual, problem.Evaluate, before, maxIterations: 3, maxEvaluations: 100, l1: l1);
        using var snapshot = new MemoryStream();
        before.Save(snapshot);
        snapshot.Position = 0;
        var restored = lbfgs.CreateState(problem.Length);
        restored.Restore(snapshot);
        lbfgs.Minimize(actual, problem.Evaluate, restored, maxIterations: 4, maxEvaluations: 100, l1: l1);

        Assert.Equal(expected, actual);
        Assert.Equal(7, restored.Iterations);
        Assert.Equal(uninterrupted.FunctionEvaluations, restored.FunctionEvaluations);
    }

    [Fact]
    public void Pseudo_gradient_follows_the_one_sided_derivatives()
    {
        // λ = 1, penalised range [0, 5); the last entry is unpenalised.
        var l1 = new LbfgsL1Penalty(1, 0, 5);
        float[] x = [2, -3, 0, 0, 0, 0];
        float[] g = [0.5f, 0.5f, -1.5f, 1.25f, 0.75f, 0.5f];
        var pg = new float[x.Length];

        LbfgsOrthantWise.PseudoGradient(l1, x, g, pg);

        Assert.Equal([1.5f, -0.5f, -0.5f, 0.25f, 0f, 0.5f], pg);
    }

    [Fact]
    public void Direction_and_step_stay_in_the_orthant()
    {
        // Only coordinates at 0 (the first four here; the last is unpenalised) are constrained to the orthant of −◇F.
        var l1 = new LbfgsL1Penalty(1, 0, 4);
        float[] pg = [1, -1, 0, 1, 1];
        float[] d = [-2, -1, 3, 0.5f, 0.5f];
        LbfgsOrthantWise.ProjectDirection(l1, new float[5], pg, d);
        Assert.Equal([-2f, 0f, 0f, 0f, 0.5f], d);
        float[] away = [-2, -1, 3, 0.5f, 0.5f];
        LbfgsOrthantWise.ProjectDirection(l1, [1, 0, -1, 2, 0], pg, away);
        Assert.Equal([-2f, 0f, 3f, 0.5f, 0.5f], away);

        float[] x = [1, -1, 0, 0.5f, -1];
        float[] destination = new float[x.Length];
        LbfgsOrthantWise.StepWithinOrthant(l1, x, 1, [-2f, 0.5f, 0, -0.25f, 3f], destination);
        // x[0] would cross to −1: clipped to 0; x[4] is unpenalised and may change sign.
        Assert.Equal([0f, -0.5f, 0f, 0.25f, 2f], destination);
    }

    [Fact]
    public void A_range_beyond_the_parameters_is_rejected()
    {
        float[] x = new float[3];
        var error = Assert.Throws<ArgumentException>(() => new Lbfgs().Minimize(x, Separable, 5, l1: new LbfgsL1Penalty(0.1, 2, 2)));
        Assert.Equal("l1", error.ParamName);
        Assert.Contains("[2, 4)", error.Message);
        Assert.Equal("strength", Assert.Throws<ArgumentOutOfRangeException>(() => new LbfgsL1Penalty(-1, 0, 1)).ParamName);
    }

    [Fact]
    public void Iterations_allocate_nothing_once_the_state_exists()
    {
        // (The separable objective allocates nothing; the first call warms up the JIT.)
        var lbfgs = new Lbfgs(changeTolerance: 0, gradientTolerance: 0);
        var l1 = new LbfgsL1Penalty(0.01, 0, 4);
        var state = lbfgs.CreateState(Centres.Length);
        float[] x = new float[Centres.Length];
        ObjectiveFunction objective = Separable;
        lbfgs.Minimize(x, objective, state, maxIterations: 2, maxEvaluations: 1000, l1: l1);

        long before = GC.GetAllocatedBytesForCurrentThread();
        lbfgs.Minimize(x, objective, state, maxIterations: 20, maxEvaluations: 1000, l1: l1);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(allocated <= 128, $"{allocated} bytes allocated over 20 iterations");
    }
}
