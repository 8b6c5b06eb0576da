using System.Numerics.Tensors;
using MLNet.Optimizers;

namespace MLNet.Optimizers.Tests.Optimizers;

public class LbfgsTests
{
    /// <summary>f(x) = ½ xᵀAx − bᵀx with A = MᵀM + I (M seeded, uniform in [−1, 1]) and b seeded; evaluated in double.</summary>
    internal static Quadratic MakeQuadratic(int n, int seed) => new(n, seed);

    internal sealed class Quadratic
    {
        public Quadratic(int n, int seed)
        {
            var random = new Random(seed);
            var m = new double[n, n];
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    m[i, j] = random.NextDouble() * 2 - 1;
                }
            }

            A = new double[n, n];
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    double sum = i == j ? 1 : 0;
                    for (int k = 0; k < n; k++)
                    {
                        sum += m[k, i] * m[k, j];
                    }

                    A[i, j] = sum;
                }
            }

            B = new double[n];
            for (int i = 0; i < n; i++)
            {
                B[i] = random.NextDouble() * 2 - 1;
            }

            Minimizer = SolveCholesky(A, B);
            MinimumValue = Value(Minimizer);
        }

        public double[,] A { get; }

        public double[] B { get; }

        public double[] Minimizer { get; }

        public double MinimumValue { get; }

        public int Length => B.Length;

        public double Value(ReadOnlySpan<double> x)
        {
            double value = 0;
            for (int i = 0; i < Length; i++)
            {
                double ax = 0;
                for (int j = 0; j < Length; j++)
                {
                    ax += A[i, j] * x[j];
                }

                value += 0.5 * x[i] * ax - B[i] * x[i];
            }

            return value;
        }

        public double Evaluate(ReadOnlySpan<float> x, Span<float> gradient)
        {
            var point = ToDouble(x);
            for (int i = 0; i < Length; i++)
            {
                double ax = 0;
                for (int j = 0; j < Length; j++)
                {
                    ax += A[i, j] * point[j];
                }

                gradient[i] = (float)(ax - B[i]);
            }

            return Value(point);
        }

        public double EvaluateDouble(double[] x, double[] gradient)
        {
            for (int i = 0; i < Length; i++)
            {
                double ax = 0;
                for (int j = 0; j < Length; j++)
                {
                    ax += A[i, j] * x[j];
                }

                gradient[i] = ax - B[i];
            }

            return Value(x);
        }

        public double[] Multiply(ReadOnlySpan<float> v)
        {
            var result = new double[Length];
            for (int i = 0; i < Length; i++)
            {
                for (int j = 0; j < Length; j++)
                {
                    result[i] += A[i, j] * v[j];
                }
            }

            return result;
        }

        private static double[] SolveCholesky(double[,] a, double[] b)
        {
            int n = b.Length;
            var l = new double[n, n];
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j <= i; j++)
                {
                    double sum = a[i, j];
                    for (int k = 0; k < j; k++)
                    {
                        sum -= l[i, k] * l[j, k];
                    }

                    l[i, j] = i == j ? Math.Sqrt(sum) : sum / l[j, j];
                }
            }

            var z = new double[n];
            for (int i = 0; i < n; i++)
            {
                double sum = b[i];
                for (int k = 0; k < i; k++)
                {
                    sum -= l[i, k] * z[k];
                }

                z[i] = sum / l[i, i];
            }

            var x = new double[n];
            for (int i = n - 1; i >= 0; i--)
            {
                double sum = z[i];
                for (int k = i + 1; k < n; k++)
                {
                    sum -= l[k, i] * x[k];
                }

                x[i] = sum / l[i, i];
            }

            return x;
        }
    }

    private static double[] ToDouble(ReadOnlySpan<float> x)
    {
        var result = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            result[i] = x[i];
        }

        return result;
    }

    /// <summary>Rosenbrock's function (1 − x)² + 100(y − x²)², evaluated in double from the float parameters.</summary>
    private static double Rosenbrock(ReadOnlySpan<float> p, Span<float> gradient)
    {
        double x = p[0], y = p[1];
        double r = y - x * x;
        gradient[0] = (float)(-2 * (1 - x) - 400 * x * r);
        gradient[1] = (float)(200 * r);
        return (1 - x) * (1 - x) + 100 * r * r;
    }

    private static double RosenbrockDouble(double[] p, double[] gradient)
    {
        double x = p[0], y = p[1];
        double r = y - x * x;
        gradient[0] = -2 * (1 - x) - 400 * x * r;
        gradient[1] = 200 * r;
        return (1 - x) * (1 - x) + 100 * r * r;
    }

    private static readonly double[] LogCoshCenters = [2.5, 2.7, 0.4, -2.3, -2.9, -0.8];

    /// <summary>
    /// f(x) = Σ (i + 1)·log cosh(xᵢ − cᵢ) + 0.05·xᵢ²: smooth, convex and well conditioned, but far from quadratic
    /// (its gradient saturates), so a long first trial step overshoots and the line search must zoom.
    /// </summary>
    private static double LogCoshDouble(double[] x, double[] gradient)
    {
        double f = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double z = x[i] - LogCoshCenters[i];
            double a = Math.Abs(z);
            f += (i + 1) * (a + Math.Log(1 + Math.Exp(-2 * a)) - Math.Log(2)) + 0.05 * x[i] * x[i];
            gradient[i] = (i + 1) * Math.Tanh(z) + 0.1 * x[i];
        }

        return f;
    }

    private static double LogCosh(ReadOnlySpan<float> x, Span<float> gradient)
    {
        var g = new double[x.Length];
        double f = LogCoshDouble(ToDouble(x), g);
        for (int i = 0; i < g.Length; i++)
        {
            gradient[i] = (float)g[i];
        }

        return f;
    }

    /// <summary>f(x) = (x − 3)², the one-dimensional quadratic the hand-worked tests use.</summary>
    private static double ShiftedSquare(ReadOnlySpan<float> p, Span<float> gradient)
    {
        double x = p[0];
        gradient[0] = (float)(2 * (x - 3));
        return (x - 3) * (x - 3);
    }

    [Fact]
    public void Strictly_convex_quadratic_is_solved_superlinearly()
    {
        // Finite termination in n iterations (L-BFGS with m ≥ n equals conjugate gradients) needs exact line searches.
        // The strong-Wolfe search stops at the first step meeting c2 = 0.9, usually the unit step, so PyTorch's L-BFGS
        // does not terminate finitely; it converges superlinearly instead. Measured over seeds 1, 2, 3, 7 and 11 at
        // n = 10: 12 to 14 iterations to a gap ≤ 1e-8 (3e-8 to 4e-7 after n + 1). The bound here is 2n.
        var problem = new Quadratic(10, seed: 7);
        var lbfgs = new Lbfgs(gradientTolerance: 0, changeTolerance: 0);
        float[] x = new float[problem.Length];
        int? solvedAt = null;

        lbfgs.Minimize(x, problem.Evaluate, maxIterations: 2 * problem.Length, maxEvaluations: 1000, onIteration: it =>
        {
            solvedAt ??= problem.Value(ToDouble(x)) - problem.MinimumValue <= 1e-8 ? (int)it.Iteration : null;
            return solvedAt is null;
        });

        Assert.NotNull(solvedAt);
        for (int i = 0; i < x.Length; i++)
        {
            Assert.Equal(problem.Minimizer[i], x[i], 1e-4);
        }
    }

    [Fact]
    public void Rosenbrock_from_the_classic_start_reaches_one_one()
    {
        // Float parameters resolve 1e-5 near 1 easily (spacing 1.2e-7). A loss computed in float would not: x² rounded to
        // float is off by up to 6e-8, so 100·(y − x²)² carries noise of ~1e-13 and more, about the size of f itself
        // near the minimum, and the line search could no longer see decrease. So the objective computes in double from
        // the float parameters (as the trainers' objectives do). Default settings; the run ends when g·d > −1e-9.
        var lbfgs = new Lbfgs();
        float[] p = [-1.2f, 1f];

        var result = lbfgs.Minimize(p, Rosenbrock, maxIterations: 200);

        Assert.True(Math.Abs(p[0] - 1) <= 1e-5 && Math.Abs(p[1] - 1) <= 1e-5,
            $"({p[0]}, {p[1]}) after {result.Iterations} iterations, {result.FunctionEvaluations} evaluations ({result.StopReason})");
    }

    [Theory]
    [InlineData("quadratic", LineSearch.StrongWolfe, 10, 1.0, 8, "bracket: strong Wolfe holds")]
    [InlineData("quadratic", LineSearch.StrongWolfe, 3, 1.0, 8, "bracket: strong Wolfe holds")]
    [InlineData("quadratic", LineSearch.None, 3, 0.5, 8, "")]
    [InlineData("rosenbrock", LineSearch.None, 10, 0.01, 8, "")]
    [InlineData("rosenbrock", LineSearch.StrongWolfe, 10, 1.0, 8, "zoom: strong Wolfe holds")]
    [InlineData("rosenbrock", LineSearch.StrongWolfe, 3, 10.0, 3, "zoom: Armijo fails, new high")]
    [InlineData("logcosh", LineSearch.StrongWolfe, 3, 0.1, 8, "extrapolate: cubic")]
    [InlineData("logcosh", LineSearch.StrongWolfe, 3, 0.03, 8, "extrapolate: clamped to 10t")]
    [InlineData("logcosh", LineSearch.StrongWolfe, 3, 100.0, 8, "zoom: old low becomes high")]
    [InlineData("logcosh", LineSearch.StrongWolfe, 3, 1000.0, 8, "zoom: moved off the end after insufficient progress")]
    [InlineData("square", LineSearch.StrongWolfe, 3, 5.8, 8, "bracket: slope turns positive")]
    [InlineData("square", LineSearch.StrongWolfe, 3, 0.45, 8, "bracket: strong Wolfe holds")]
    public void Iterates_match_a_double_precision_port_of_torch_optim_lbfgs(string problemName, LineSearch lineSearch, int historySize,
        double learningRate, int maxIterations, string branchExercised)
    {
        // TorchLbfgsReference transcribes lbfgs.py in double with Python-style lists; ours runs in float with double
        // scalars, so iterates agree to float rounding while every branch (evaluation counts, stop) matches exactly.
        // Each case names a line-search branch it must exercise; small γ makes the search extrapolate, large γ makes it
        // overshoot and zoom. The runs stop (8 iterations) before the loss reaches float's noise floor, where the two
        // may branch apart, and before long steps amplify float rounding (Rosenbrock with γ = 10 reaches t ≈ 300 at
        // iteration 4). Two regimes are left out on purpose: tiny trial steps, where the cubic's d1² − g1·g2 cancels
        // catastrophically and float gradients decide its sign (PyTorch's float32 is no better), and long chaotic runs.
        // "square" with γ = 0.45: the first trial x = 0.45 has slope ratio |g·d|/|g₀·d| = 5.1/6 = 0.85, accepted only
        // because c2 = 0.9. "square" with γ = 5.8: f = (x − 3)², t = 5.8/6 lands at x = 5.8, lower than the start but with slope
        // 33.6 > 0.9·36, so the slope turns positive and the zoom's cubic then finds x = 3.
        var quadratic = new Quadratic(10, seed: 5);
        var (objective, closure, start) = problemName switch
        {
            "quadratic" => ((ObjectiveFunction)quadratic.Evaluate, (TorchLbfgsReference.Closure)quadratic.EvaluateDouble, new double[10]),
            "rosenbrock" => (Rosenbrock, RosenbrockDouble, [(double)-1.2f, 1]),
            "square" => (ShiftedSquare, (x, g) => { g[0] = 2 * (x[0] - 3); return (x[0] - 3) * (x[0] - 3); }, [0.0]),
            _ => (LogCosh, LogCoshDouble, new double[LogCoshCenters.Length]),
        };

        var reference = new TorchLbfgsReference(learningRate, historySize, 1e-7, 1e-9, lineSearch == LineSearch.StrongWolfe);
        reference.Step((double[])start.Clone(), closure, maxIterations, maxEvalOrNull: 1000);

        float[] x = start.Select(v => (float)v).ToArray();
        var iterates = new List<(float[] Parameters, LbfgsIteration Report)>();
        var result = new Lbfgs(learningRate, historySize, lineSearch: lineSearch).Minimize(x, objective, maxIterations, maxEvaluations: 1000,
            onIteration: it => { iterates.Add(((float[])x.Clone(), it)); return true; });

        if (branchExercised.Length > 0)
        {
            Assert.True(reference.Branches.ContainsKey(branchExercised), string.Join("; ", reference.Branches.Keys));
        }

        var stopReasons = new Dictionary<string, LbfgsStopReason>
        {
            ["max_iter"] = LbfgsStopReason.MaxIterations,
            ["tolerance_grad"] = LbfgsStopReason.GradientTolerance,
        };
        Assert.Equal(stopReasons[reference.StopReason], result.StopReason);
        Assert.Equal(reference.Iterations.Count, iterates.Count);
        for (int k = 0; k < iterates.Count; k++)
        {
            var expected = reference.Iterations[k];
            var (parameters, report) = iterates[k];
            Assert.Equal(expected.FuncEvals, report.FunctionEvaluations);
            Assert.Equal(expected.T, report.StepSize, 1e-4 * Math.Abs(expected.T));
            double scale = Math.Max(1, expected.Parameters.Max(Math.Abs));
            for (int i = 0; i < parameters.Length; i++)
            {
                Assert.True(Math.Abs(expected.Parameters[i] - parameters[i]) <= 1e-4 * scale,
                    $"iteration {k + 1}, parameter {i}: {parameters[i]} vs reference {expected.Parameters[i]}");
            }
        }
    }

    [Fact]
    public void Stationary_start_stops_on_gradient_tolerance_after_one_evaluation()
    {
        float[] p = [3f];
        var result = new Lbfgs().Minimize(p, ShiftedSquare, maxIterations: 10);

        Assert.Equal(LbfgsStopReason.GradientTolerance, result.StopReason);
        Assert.Equal(0, result.Iterations);
        Assert.Equal(1, result.FunctionEvaluations);
        Assert.Equal(3f, p[0]);
    }

    [Theory]
    [InlineData(LineSearch.StrongWolfe)]
    [InlineData(LineSearch.None)]
    public void One_dimensional_quadratic_follows_the_hand_worked_iterates(LineSearch lineSearch)
    {
        // f = (x − 3)², x0 = 0, γ = 1.
        // k = 1: g = −6, d = 6, t = min(1, 1/|g|₁)·γ = 1/6, x = 0 + 6/6 = 1 (f = 4, g = −4).
        //        StrongWolfe accepts t at once: 4 ≤ 9 − 1e-4·6 (Armijo) and |g·d| = 24 ≤ 0.9·36 (curvature).
        // k = 2: y = −4 − (−6) = 2, s = 1, ys = 2, ρ = 1/2, H = ys/yy = 2/4 = 1/2.
        //        q = 4; α = ρ·s·q = 2; q = 4 − 2·2 = 0; r = H·q = 0; β = ρ·y·r = 0; r = 0 + (2 − 0)·1 = 2, so d = 2.
        //        t = γ = 1, x = 1 + 2 = 3 (f = 0, g = 0); StrongWolfe accepts t = 1 (g·d = 0).
        // Then max|g| = 0 ≤ 1e-7: stop after 2 iterations and 3 evaluations (the start plus one per iteration).
        float[] p = [0f];
        var seen = new List<LbfgsIteration>();
        var result = new Lbfgs(lineSearch: lineSearch).Minimize(p, ShiftedSquare, maxIterations: 10,
            onIteration: it => { seen.Add(it); return true; });

        Assert.Equal(LbfgsStopReason.GradientTolerance, result.StopReason);
        Assert.Equal(3f, p[0]);
        Assert.Equal(2, result.Iterations);
        Assert.Equal(3, result.FunctionEvaluations);
        Assert.Equal(9.0, result.InitialLoss);
        Assert.Equal(0.0, result.Loss);
        Assert.Equal([1L, 2L], seen.Select(it => it.Iteration));
        Assert.Equal([4.0, 0.0], seen.Select(it => it.Loss));
        Assert.Equal([4.0, 0.0], seen.Select(it => it.GradientMaxAbs));
        Assert.Equal(1.0 / 6, seen[0].StepSize);
        Assert.Equal(1.0, seen[1].StepSize);
        Assert.Equal([2L, 3L], seen.Select(it => it.FunctionEvaluations));
    }

    [Fact]
    public void Fixed_step_does_not_evaluate_after_the_last_iteration_of_a_call()
    {
        // The same iterates as the hand-worked case, but maxIterations = 2: like PyTorch, LineSearch.None skips the
        // evaluation after the last step, so the parameters reach 3 while the reported loss is still f(1) = 4.
        float[] p = [0f];
        var result = new Lbfgs(lineSearch: LineSearch.None).Minimize(p, ShiftedSquare, maxIterations: 2, maxEvaluations: 10);

        Assert.Equal(LbfgsStopReason.MaxIterations, result.StopReason);
        Assert.Equal(3f, p[0]);
        Assert.Equal(4.0, result.Loss);
        Assert.Equal(2, result.FunctionEvaluations);
    }

    [Fact]
    public void Tiny_step_stops_on_change_tolerance()
    {
        // f = 1000·x, g = 1000, d = −1000. Iteration 1: t = min(1, 1/1000)·1e-6 = 1e-9, max|t·d| = 1e-6 (never a stop on the
        // first step). Iteration 2: no curvature pair (y = 0), d = −1000, t = 1e-6, max|t·d| = 1e-3 ≤ 1e-2,
        // while the loss changes by 1 (not below 1e-2): the step rule fires.
        float[] p = [0f];
        var result = new Lbfgs(learningRate: 1e-6, changeTolerance: 1e-2, lineSearch: LineSearch.None)
            .Minimize(p, (x, g) => { g[0] = 1000; return 1000.0 * x[0]; }, maxIterations: 10);

        Assert.Equal(LbfgsStopReason.ChangeTolerance, result.StopReason);
        Assert.Equal(2, result.Iterations);
        Assert.Equal(-1.001e-3, p[0], 1e-9);
    }

    [Fact]
    public void The_first_step_never_counts_as_convergence()
    {
        // PyTorch stops here after one iteration (max|t·d| = 1e-3 ≤ 1e-2), although nothing shows the run has converged: the
        // first step length is only min(1, 1/‖g‖₁)·γ. Badly scaled features (~1e12) made that first step vanish and the
        // all-zero model was reported as converged.
        float[] p = [0f];
        var result = new Lbfgs(learningRate: 1e-3, changeTolerance: 1e-2, lineSearch: LineSearch.None)
            .Minimize(p, (x, g) => { g[0] = 1000; return 1000.0 * x[0]; }, maxIterations: 10);

        Assert.Equal(LbfgsStopReason.MaxIterations, result.StopReason);
    }

    [Fact]
    public void Unchanged_loss_stops_on_loss_change_tolerance()
    {
        // f = x², x0 = 1, γ = 2. Iteration 1: t = min(1, 1/2)·2 = 1, x = −1, f unchanged (not a stop on the first step).
        // Iteration 2: s = −2, y = −4, ρ = 1/8, H = 1/2, two-loop d = 1, t = 2: x = 1 and f(1) = f(−1): the loss change 0 stops.
        float[] p = [1f];
        var result = new Lbfgs(learningRate: 2, lineSearch: LineSearch.None)
            .Minimize(p, (x, g) => { g[0] = 2 * x[0]; return (double)x[0] * x[0]; }, maxIterations: 10);

        Assert.Equal(LbfgsStopReason.LossChangeTolerance, result.StopReason);
        Assert.Equal(2, result.Iterations);
        Assert.Equal(1f, p[0]);
    }

    [Fact]
    public void Shallow_direction_stops_before_stepping()
    {
        // f = x², x0 = 1: g·d = −4 > −changeTolerance = −10, so the first direction is rejected and nothing moves.
        float[] p = [1f];
        int calls = 0;
        var result = new Lbfgs(changeTolerance: 10).Minimize(p, (x, g) => { calls++; g[0] = 2 * x[0]; return (double)x[0] * x[0]; },
            maxIterations: 10, onIteration: _ => throw new InvalidOperationException("no step was taken"));

        Assert.Equal(LbfgsStopReason.NotDescentDirection, result.StopReason);
        Assert.Equal(1, result.Iterations);
        Assert.Equal(1, calls);
        Assert.Equal(1f, p[0]);
    }

    [Fact]
    public void Iteration_limit_stops_with_max_iterations_and_the_state_counts_them()
    {
        var problem = new Quadratic(10, seed: 7);
        var lbfgs = new Lbfgs();
        var state = lbfgs.CreateState(problem.Length);
        float[] x = new float[problem.Length];

        var first = lbfgs.Minimize(x, problem.Evaluate, state, maxIterations: 3, maxEvaluations: 100);
        var second = lbfgs.Minimize(x, problem.Evaluate, state, maxIterations: 2, maxEvaluations: 100);

        Assert.Equal(LbfgsStopReason.MaxIterations, first.StopReason);
        Assert.Equal(LbfgsStopReason.MaxIterations, second.StopReason);
        Assert.Equal(3, first.Iterations);
        Assert.Equal(2, second.Iterations);
        Assert.Equal(5, state.Iterations);
        Assert.Equal(first.FunctionEvaluations + second.FunctionEvaluations, state.FunctionEvaluations);
    }

    [Fact]
    public void Evaluation_budget_stops_with_max_evaluations()
    {
        // Every iteration evaluates at least once, so after iteration 1 the call has used ≥ 2 evaluations.
        float[] p = [-1.2f, 1f];
        var result = new Lbfgs().Minimize(p, Rosenbrock, maxIterations: 100, maxEvaluations: 2);

        Assert.Equal(LbfgsStopReason.MaxEvaluations, result.StopReason);
        Assert.Equal(1, result.Iterations);
        Assert.True(result.FunctionEvaluations >= 2);
    }

    [Theory]
    [InlineData(2, 1)]
    [InlineData(3, 2)]
    [InlineData(4, 4)]
    public void Default_evaluation_budget_is_five_quarters_of_the_iterations(int maxIterations, int expectedIterations)
    {
        // PyTorch's max_eval = max_iter·5//4: 2 → 2, 3 → 3, 4 → 5. With LineSearch.None the start costs one evaluation
        // and every iteration but the call's last one more, so iteration k ends with 1 + k evaluations; the iteration
        // limit is tested before the budget. maxIterations 2: 1 + 1 ≥ 2 stops iteration 1 on the budget;
        // 3: 1 + 2 ≥ 3 stops iteration 2 on the budget; 4: 1 + 3 < 5, so iteration 4 ends on the iteration limit.
        float[] p = [-1.2f, 1f];
        var result = new Lbfgs(learningRate: 1e-4, lineSearch: LineSearch.None).Minimize(p, Rosenbrock, maxIterations);

        Assert.Equal(expectedIterations, result.Iterations);
        Assert.Equal(expectedIterations == maxIterations ? LbfgsStopReason.MaxIterations : LbfgsStopReason.MaxEvaluations, result.StopReason);
    }

    [Fact]
    public void Callback_returning_false_stops_after_that_iteration()
    {
        var problem = new Quadratic(10, seed: 7);
        float[] x = new float[problem.Length];
        var losses = new List<double>();

        var result = new Lbfgs().Minimize(x, problem.Evaluate, maxIterations: 50,
            onIteration: it => { losses.Add(it.Loss); return it.Iteration < 2; });

        Assert.Equal(LbfgsStopReason.StoppedByCallback, result.StopReason);
        Assert.Equal(2, result.Iterations);
        Assert.Equal(2, losses.Count);
        Assert.True(losses[1] < losses[0] && losses[0] < result.InitialLoss);
        Assert.Equal(losses[1], result.Loss);
    }

    [Fact]
    public void Direction_equals_textbook_two_loop_recursion_over_the_same_history()
    {
        // After 6 iterations with historySize 3 (so the ring buffer has wrapped), the stored direction d was computed from
        // the stored gradient g_prev and the stored pairs. Recompute it with Nocedal & Wright's Algorithm 7.4 in double:
        //   q ← g; for i = newest..oldest: αᵢ = ρᵢ sᵢᵀq; q ← q − αᵢyᵢ;  r ← γq with γ = sᵀy / yᵀy of the newest pair;
        //   for i = oldest..newest: β = ρᵢ yᵢᵀr; r ← r + sᵢ(αᵢ − β);  d = −r   (ρᵢ = 1 / yᵢᵀsᵢ).
        var problem = new Quadratic(10, seed: 11);
        var lbfgs = new Lbfgs(historySize: 3);
        var state = lbfgs.CreateState(problem.Length);
        float[] x = new float[problem.Length];
        lbfgs.Minimize(x, problem.Evaluate, state, maxIterations: 6, maxEvaluations: 100);
        Assert.Equal(3, state.HistoryCount);

        int m = state.HistoryCount;
        var s = Enumerable.Range(0, m).Select(i => ToDouble(state.HistoryS(i))).ToArray();
        var y = Enumerable.Range(0, m).Select(i => ToDouble(state.HistoryY(i))).ToArray();
        static double Dot(double[] a, double[] b) => a.Zip(b, (u, v) => u * v).Sum();

        // On a quadratic every pair satisfies y = A·s, which checks the stored history independently.
        for (int i = 0; i < m; i++)
        {
            var As = problem.Multiply(state.HistoryS(i));
            double scale = As.Max(Math.Abs);
            for (int j = 0; j < problem.Length; j++)
            {
                Assert.Equal(As[j], y[i][j], 1e-4 * scale);
            }
        }

        var rho = Enumerable.Range(0, m).Select(i => 1 / Dot(y[i], s[i])).ToArray();
        var q = ToDouble(state.PreviousGradient);
        var alpha = new double[m];
        for (int i = m - 1; i >= 0; i--)
        {
            alpha[i] = rho[i] * Dot(s[i], q);
            for (int j = 0; j < q.Length; j++)
            {
                q[j] -= alpha[i] * y[i][j];
            }
        }

        double gamma = Dot(s[m - 1], y[m - 1]) / Dot(y[m - 1], y[m - 1]);
        var r = q.Select(v => gamma * v).ToArray();
        for (int i = 0; i < m; i++)
        {
            double beta = rho[i] * Dot(y[i], r);
            for (int j = 0; j < r.Length; j++)
            {
                r[j] += s[i][j] * (alpha[i] - beta);
            }
        }

        Assert.Equal(gamma, state.HessianDiagonal, 1e-6 * gamma);
        double norm = r.Max(Math.Abs);
        for (int j = 0; j < r.Length; j++)
        {
            Assert.Equal(-r[j], state.Direction[j], 1e-5 * norm);
        }
    }

    [Theory]
    [InlineData(LineSearch.StrongWolfe)]
    [InlineData(LineSearch.None)]
    public void Saved_and_restored_state_continues_bit_identically(LineSearch lineSearch)
    {
        var problem = new Quadratic(10, seed: 3);
        var lbfgs = new Lbfgs(historySize: 4, learningRate: lineSearch == LineSearch.None ? 0.05 : 1, lineSearch: lineSearch);

        // Reference: 3 + 4 iterations on one state.
        var uninterrupted = lbfgs.CreateState(problem.Length);
        float[] expected = new float[problem.Length];
        lbfgs.Minimize(expected, problem.Evaluate, uninterrupted, maxIterations: 3, maxEvaluations: 100);
        lbfgs.Minimize(expected, problem.Evaluate, uninterrupted, maxIterations: 4, maxEvaluations: 100);

        // Same run, but the state after 3 iterations goes through a stream into a fresh state.
        var before = lbfgs.CreateState(problem.Length);
        float[] actual = new float[problem.Length];
        lbfgs.Minimize(actual, problem.Evaluate, before, maxIterations: 3, maxEvaluations: 100);
        using var snapshot = new MemoryStream();
        before.Save(snapshot);
        snapshot.Position = 0;
        var restored = lbfgs.CreateState(problem.Length);
        restored.Restore(snapshot);
        lbfgs.Minimize(actual, problem.Evaluate, restored, maxIterations: 4, maxEvaluations: 100);

        Assert.Equal(expected, actual);
        Assert.Equal(Snapshot(uninterrupted), Snapshot(restored));
        Assert.Equal(7, restored.Iterations);
    }

    private static byte[] Snapshot(LbfgsState state)
    {
        using var stream = new MemoryStream();
        state.Save(stream);
        return stream.ToArray();
    }

    [Fact]
    public void Restore_rejects_a_snapshot_of_another_size_and_names_both()
    {
        var snapshot = Snapshot(new Lbfgs(historySize: 5).CreateState(3));
        var other = new Lbfgs(historySize: 5).CreateState(4);

        var error = Assert.Throws<InvalidDataException>(() => other.Restore(new MemoryStream(snapshot)));

        Assert.Contains("3 parameters and historySize 5", error.Message);
        Assert.Contains("4 parameters and historySize 5", error.Message);
    }

    [Fact]
    public void Cubic_interpolation_finds_the_minimizer_of_a_quadratic_and_respects_bounds()
    {
        // f = (x − 2)²: (0, 4, −4) and (1, 1, −2). d1 = −4 − 2 − 3·(4 − 1)/(0 − 1) = 3, d2 = √(9 − 8) = 1,
        // minimizer = 1 − 1·(−2 + 1 − 3)/(−2 + 4 + 2) = 2.
        Assert.Equal(2.0, StrongWolfeLineSearch.CubicInterpolate(0, 4, -4, 1, 1, -2, 0, 10));
        Assert.Equal(1.5, StrongWolfeLineSearch.CubicInterpolate(0, 4, -4, 1, 1, -2, 0, 1.5));
        Assert.Equal(2.0, StrongWolfeLineSearch.CubicInterpolate(1, 1, -2, 0, 4, -4, 0, 10));

        // (0, 0, 1) and (1, 2/3, 1): d1 = 1 + 1 − 3·(0 − 2/3)/(0 − 1) = 0, d1² − g1·g2 = −1 < 0: the midpoint of [0, 1].
        Assert.Equal(0.5, StrongWolfeLineSearch.CubicInterpolate(0, 0, 1, 1, 2.0 / 3, 1));
    }

    [Fact]
    public void State_of_another_size_is_rejected_naming_the_state()
    {
        // Invalid hyperparameters and run arguments (learningRate, historySize, tolerances, lineSearch, maxIterations,
        // maxEvaluations, parameterCount) are rows of the shared InvalidHyperparameterTests table.
        var lbfgs = new Lbfgs();
        float[] p = [0f];
        Assert.Equal("state", Assert.Throws<ArgumentException>(() => lbfgs.Minimize(p, ShiftedSquare, lbfgs.CreateState(2), 5)).ParamName);
        Assert.Equal("state", Assert.Throws<ArgumentException>(() => lbfgs.Minimize(p, ShiftedSquare, new Lbfgs(historySize: 3).CreateState(1), 5)).ParamName);
    }

    [Fact]
    public void Non_finite_loss_throws_instead_of_spreading_nan()
    {
        float[] p = [1f];
        var error = Assert.Throws<InvalidOperationException>(() =>
            new Lbfgs().Minimize(p, (x, g) => { g[0] = 1; return x[0] < 1 ? double.NaN : 1.0; }, maxIterations: 5));
        Assert.Contains("NaN", error.Message);
    }

    [Fact]
    public void Reductions_sum_in_the_documented_fixed_order_at_every_length()
    {
        // Lane i mod 4 in index order, lanes combined as (l0 + l1) + (l2 + l3), then the n mod 4 tail one by one: written
        // here as plain scalar code, it must equal the (possibly vectorised) kernels bit for bit, so results do not
        // depend on the machine's vector width.
        static double FixedOrder(int n, Func<int, double> term)
        {
            var lanes = new double[4];
            int blocks = n / 4 * 4;
            for (int i = 0; i < blocks; i++)
            {
                lanes[i % 4] += term(i);
            }

            double sum = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
            for (int i = blocks; i < n; i++)
            {
                sum += term(i);
            }

            return sum;
        }

        var random = new Random(17);
        for (int n = 0; n <= 37; n++)
        {
            float[] a = Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2e3 - 1e3)).ToArray();
            float[] b = Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2e-3 - 1e-3)).ToArray();
            float[] c = Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
            const float t = 0.37f;

            var (ys, yy) = LbfgsMath.CurvaturePair(a, b, c, t);
            Assert.Equal((n, "dot", FixedOrder(n, i => (double)a[i] * b[i])), (n, "dot", LbfgsMath.Dot(a, b)));
            Assert.Equal((n, "sum", FixedOrder(n, i => Math.Abs(a[i]))), (n, "sum", LbfgsMath.SumAbs(a)));
            Assert.Equal((n, "ys", FixedOrder(n, i => (double)(a[i] - b[i]) * (c[i] * t))), (n, "ys", ys));
            Assert.Equal((n, "yy", FixedOrder(n, i => (double)(a[i] - b[i]) * (a[i] - b[i]))), (n, "yy", yy));
        }
    }

    [Fact]
    public void Fused_two_loop_recursion_gives_the_textbook_loops_bits()
    {
        // The recursion fuses each update with the next dot product; written here as the separate passes of the textbook
        // (Nocedal & Wright, Algorithm 7.4), it must give the same direction and slope bit for bit, at lengths that use the
        // vector loop, the groups of four and the tail, and with the ring buffer wrapped.
        var random = new Random(23);
        float[] Random(int n, double scale) => [.. Enumerable.Range(0, n).Select(_ => (float)((random.NextDouble() * 2 - 1) * scale))];
        foreach (int n in new[] { 1, 3, 4, 7, 8, 13, 37, 1000 })
        {
            foreach (int pairs in new[] { 0, 1, 3, 6 })
            {
                var state = new Lbfgs(historySize: 4).CreateState(n);
                for (int p = 0; p < pairs; p++)
                {
                    state.PushHistory(Random(n, 1), Random(n, 1), Random(n, 0.1), 0.5f, ys: 0.3 + p);
                }

                state.HessianDiagonal = 0.7;
                float[] gradient = Random(n, 10);
                var fused = new float[n];
                double slope = Lbfgs.TwoLoopDirection(state, gradient, fused, gradient);

                var textbook = new float[n];
                var alpha = new double[state.HistoryCount];
                TensorPrimitives.Negate(gradient, textbook);
                for (int i = state.HistoryCount - 1; i >= 0; i--)
                {
                    alpha[i] = LbfgsMath.Dot(state.HistoryS(i), textbook) * state.HistoryRho(i);
                    TensorPrimitives.MultiplyAdd(state.HistoryY(i), (float)-alpha[i], textbook, textbook);
                }

                TensorPrimitives.Multiply(textbook, (float)state.HessianDiagonal, textbook);
                for (int i = 0; i < state.HistoryCount; i++)
                {
                    double beta = LbfgsMath.Dot(state.HistoryY(i), textbook) * state.HistoryRho(i);
                    TensorPrimitives.MultiplyAdd(state.HistoryS(i), (float)(alpha[i] - beta), textbook, textbook);
                }

                Assert.Equal((n, pairs, string.Join(",", textbook.Select(BitConverter.SingleToInt32Bits))),
                    (n, pairs, string.Join(",", fused.Select(BitConverter.SingleToInt32Bits))));
                Assert.Equal((n, pairs, LbfgsMath.Dot(gradient, textbook)), (n, pairs, slope));
            }
        }
    }

    [Theory]
    [InlineData(LineSearch.StrongWolfe)]
    [InlineData(LineSearch.None)]
    public void Iterations_allocate_nothing_once_the_state_exists(LineSearch lineSearch)
    {
        // The work vectors live in the state; a call allocates only its LbfgsResult, whatever the iteration count.
        // (Rosenbrock allocates nothing; the first call warms up the JIT.)
        var lbfgs = new Lbfgs(lineSearch: lineSearch, learningRate: lineSearch == LineSearch.None ? 1e-4 : 1, changeTolerance: 0);
        var state = lbfgs.CreateState(2);
        float[] p = [-1.2f, 1f];
        lbfgs.Minimize(p, Rosenbrock, state, maxIterations: 3, maxEvaluations: 1000);
        ObjectiveFunction objective = Rosenbrock;

        long before = GC.GetAllocatedBytesForCurrentThread();
        var result = lbfgs.Minimize(p, objective, state, maxIterations: 30, maxEvaluations: 1000);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(30, result.Iterations);
        Assert.True(allocated <= 128, $"{allocated} bytes allocated over 30 iterations");
    }

    [Fact]
    public void Cancellation_is_checked_before_each_iteration_and_leaves_the_state_consistent()
    {
        var problem = new Quadratic(10, seed: 7);
        var lbfgs = new Lbfgs();
        var state = lbfgs.CreateState(problem.Length);
        float[] x = new float[problem.Length];
        using var cancellation = new CancellationTokenSource();

        Assert.Throws<OperationCanceledException>(() => lbfgs.Minimize(x, problem.Evaluate, state, maxIterations: 50,
            maxEvaluations: 1000, onIteration: it => { if (it.Iteration == 2) { cancellation.Cancel(); } return true; },
            cancellationToken: cancellation.Token));

        Assert.Equal(2, state.Iterations);
        var resumed = lbfgs.Minimize(x, problem.Evaluate, state, maxIterations: 1, maxEvaluations: 1000);
        Assert.Equal(3, state.Iterations);
        Assert.True(resumed.Loss < resumed.InitialLoss);
    }

    [Fact]
    public void With_learning_rate_keeps_every_other_setting()
    {
        var lbfgs = new Lbfgs(historySize: 7, gradientTolerance: 1e-5, changeTolerance: 1e-6, lineSearch: LineSearch.None);
        var copy = Assert.IsType<Lbfgs>(lbfgs.WithLearningRate(0.5));
        Assert.Equal(0.5, copy.LearningRate);
        Assert.Equal("Lbfgs(learningRate: 0.5, historySize: 7, gradientTolerance: 1E-05, changeTolerance: 1E-06, lineSearch: None)", copy.ToString());
        Assert.Equal("Lbfgs", copy.Name);
    }
}
