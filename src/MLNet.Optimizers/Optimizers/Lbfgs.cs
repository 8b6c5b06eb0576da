using System.Globalization;
using MLNet.Optimizers.Internal;
using System.Numerics.Tensors;

namespace MLNet.Optimizers;

/// <summary>
/// Limited-memory BFGS: a full-batch quasi-Newton minimizer over an objective callback, with the same iterates as
/// <c>torch.optim.LBFGS</c> (up to float-versus-double rounding of the scalars).
/// </summary>
/// <remarks>
/// <para><b>Contract.</b> Unlike the first-order rules, L-BFGS is not stepped per batch: <see cref="Minimize(Span{float}, ObjectiveFunction, LbfgsState, int, int?, Func{LbfgsIteration, bool}?, CancellationToken, LbfgsL1Penalty)"/>
/// calls the <see cref="ObjectiveFunction"/> (loss and gradient over the <i>full batch</i>, deterministic) as often as it
/// needs, like PyTorch's closure. One call is one PyTorch <c>step(closure)</c> with <c>max_iter = maxIterations</c>;
/// the <see cref="LbfgsState"/> carries the run across calls.</para>
/// <para>Iteration k with gradient g, step t and history of pairs (sᵢ, yᵢ, ρᵢ = 1/yᵢ·sᵢ), γ = learningRate:</para>
/// <code>
/// start of a call: f, g ← objective(θ); stop if max|g| ≤ gradientTolerance
/// k = 1 (of the run):  d ← −g; history ← ∅; H ← 1
/// k &gt; 1:  y ← g − g_prev; s ← t·d; if y·s &gt; 1e-10: push (y, s) dropping the oldest beyond historySize; H ← y·s / y·y
///         two-loop recursion: q ← −g; for i newest→oldest: αᵢ ← ρᵢ·sᵢ·q; q ← q − αᵢ·yᵢ
///                             r ← H·q;  for i oldest→newest: βᵢ ← ρᵢ·yᵢ·r; r ← r + (αᵢ − βᵢ)·sᵢ;  d ← r
/// g_prev ← g; f_prev ← f
/// t ← min(1, 1/‖g‖₁)·γ at k = 1, else γ
/// stop if g·d &gt; −changeTolerance (not a descent direction)
/// StrongWolfe: f, g, t ← line search from t along d; θ ← θ + t·d
/// None:        θ ← θ + t·d; f, g ← objective(θ) unless this is the call's last iteration
/// stop if maxIterations reached, evaluations ≥ maxEvaluations, max|g| ≤ gradientTolerance, or (not on the run's first
///         iteration) max|t·d| ≤ changeTolerance or |f − f_prev| &lt; changeTolerance
/// </code>
/// <para><b>First step.</b> Unlike PyTorch, the first iteration's step never counts as convergence: its length min(1, 1/‖g‖₁)·γ is a guess, and on
/// badly scaled data (features ~1e12) it vanished and the all-zero model was reported as converged.</para>
/// <para><b>L1 (OWL-QN).</b> Given an <see cref="LbfgsL1Penalty"/> with λ₁ &gt; 0, the objective callback stays the smooth part
/// f and the minimizer adds the L1 term itself: it minimises F = f + λ₁·Σⱼ∈P |θⱼ| by OWL-QN (Andrew &amp; Gao 2007). The
/// pseudo-gradient ◇F replaces g in the direction, the stopping test (max |◇ᵢF| ≤ gradientTolerance) and the reports;
/// the direction of every coordinate at zero is projected onto the orthant of −◇F; every trial point is projected onto
/// the current orthant, so weights reach exact zeros; the line search is a backtracking (Armijo) search on F along that
/// projected path (the strong-Wolfe conditions need a smooth objective), at most 25 evaluations; the curvature pairs use
/// the step actually taken and the smooth gradients. Every loss reported (<see cref="LbfgsIteration.Loss"/>, <see cref="LbfgsResult"/>)
/// is F, penalty included, and the change test uses the step actually taken. See <c>LbfgsOrthantWise</c> for the
/// formulas. With λ₁ = 0 (the default) nothing of this runs: the iterates are those of plain L-BFGS, bit for bit.</para>
/// <para>Parameters, gradients and the history are float; dot products, norms and every line-search scalar are double.
/// The strong-Wolfe search uses PyTorch's fixed constants (c1 = 1e-4, c2 = 0.9, bracket tolerance 1e-9, at most 25
/// line-search iterations), so like PyTorch one iteration may overshoot maxEvaluations by up to 25 evaluations.
/// A non-finite loss or gradient throws <see cref="InvalidOperationException"/> instead of spreading NaN.</para>
/// <para><b>Memory.</b> Two float vectors of parameter length per history entry (y and s, a ring buffer) plus a few:
/// direction, previous gradient, gradient, with StrongWolfe a trial point and three bracket gradients, and with an L1
/// term the pseudo-gradient, a trial point and its gradient; all allocated once per state, nothing per iteration.</para>
/// <para><b>Differs from PyTorch:</b> historySize defaults to 10 (PyTorch 100, ML.NET 20); pass historySize: 100 to match
/// torch.optim.LBFGS. The line search defaults to StrongWolfe (PyTorch: None).</para>
/// <para>Credit: PyTorch's <c>torch/optim/lbfgs.py</c>, itself after Mark Schmidt's minFunc and the line search
/// <c>lswolfe.lua</c> of torch/optim. Nocedal &amp; Wright, <i>Numerical Optimization</i> (2nd ed., 2006), Algorithm 7.4
/// (two-loop recursion) and Algorithms 3.5–3.6 (strong-Wolfe line search).</para>
/// </remarks>
public sealed class Lbfgs : IOptimizer
{
    /// <summary>The curvature threshold below which a (y, s) pair is skipped, as in PyTorch.</summary>
    internal const double CurvatureThreshold = 1e-10;

    /// <summary>Creates the minimizer; every argument is checked here.</summary>
    /// <param name="learningRate">γ, the initial step length of each line search (or the fixed step); finite and &gt; 0.</param>
    /// <param name="historySize">The number of curvature pairs kept; ≥ 1.</param>
    /// <param name="gradientTolerance">Stop when max |gᵢ| ≤ this; finite and ≥ 0.</param>
    /// <param name="changeTolerance">Stop when a step moves no parameter, or changes the loss, by more than this; finite and ≥ 0.</param>
    /// <param name="lineSearch">How the step length is chosen.</param>
    public Lbfgs(double learningRate = 1.0, int historySize = 10, double gradientTolerance = 1e-7, double changeTolerance = 1e-9,
        LineSearch lineSearch = LineSearch.StrongWolfe)
    {
        LearningRate = Check.Positive(learningRate);
        HistorySize = Check.AtLeast(historySize, 1);
        GradientTolerance = Check.NonNegative(gradientTolerance);
        ChangeTolerance = Check.NonNegative(changeTolerance);
        LineSearch = Check.Defined(lineSearch);
    }

    /// <inheritdoc />
    public string Name => "Lbfgs";

    /// <inheritdoc />
    public double LearningRate { get; }

    /// <summary>The number of curvature pairs kept.</summary>
    public int HistorySize { get; }

    /// <summary>The first-order optimality tolerance on max |gᵢ|.</summary>
    public double GradientTolerance { get; }

    /// <summary>The tolerance on parameter changes, loss changes and the directional derivative.</summary>
    public double ChangeTolerance { get; }

    /// <summary>How the step length is chosen.</summary>
    public LineSearch LineSearch { get; }

    /// <summary>Creates an empty run state for <paramref name="parameterCount"/> parameters.</summary>
    /// <param name="parameterCount">The length of the parameter vector; ≥ 1.</param>
    public LbfgsState CreateState(int parameterCount)
    {
        var state = new LbfgsState(Check.AtLeast(parameterCount, 1), HistorySize, RuleSettings.Of(this));
        if (LineSearch == LineSearch.StrongWolfe)
        {
            state.LineSearchBuffers = new StrongWolfeLineSearch.Buffers(parameterCount);
        }

        return state;
    }

    /// <inheritdoc />
    public IOptimizer WithLearningRate(double learningRate) =>
        new Lbfgs(learningRate, HistorySize, GradientTolerance, ChangeTolerance, LineSearch);

    /// <inheritdoc />
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"Lbfgs(learningRate: {LearningRate}, historySize: {HistorySize}, gradientTolerance: {GradientTolerance}, changeTolerance: {ChangeTolerance}, lineSearch: {LineSearch})");

    /// <summary>Minimizes from <paramref name="parameters"/> with a fresh state; see the overload taking a state.</summary>
    /// <param name="parameters">The starting point; holds the final point on return.</param>
    /// <param name="objective">Loss and gradient over the full batch.</param>
    /// <param name="maxIterations">The most iterations to run; ≥ 1.</param>
    /// <param name="maxEvaluations">The evaluation budget; default maxIterations·5/4 (rounded down), as PyTorch.</param>
    /// <param name="onIteration">Called after every iteration that took a step; returning false stops.</param>
    /// <param name="cancellationToken">Checked before every iteration.</param>
    /// <param name="l1">An L1 term added to the objective (minimised by OWL-QN); default none.</param>
    public LbfgsResult Minimize(Span<float> parameters, ObjectiveFunction objective, int maxIterations, int? maxEvaluations = null,
        Func<LbfgsIteration, bool>? onIteration = null, CancellationToken cancellationToken = default, LbfgsL1Penalty l1 = default) =>
        Minimize(parameters, objective, CreateState(parameters.Length), maxIterations, maxEvaluations, onIteration, cancellationToken, l1);

    /// <summary>
    /// Runs up to <paramref name="maxIterations"/> L-BFGS iterations from <paramref name="parameters"/>, continuing the run
    /// held in <paramref name="state"/> (PyTorch's <c>step(closure)</c>).
    /// </summary>
    /// <param name="parameters">The starting point; holds the final point on return.</param>
    /// <param name="objective">Loss and gradient over the full batch.</param>
    /// <param name="state">The run's state, from <see cref="CreateState"/> of an optimizer with the same historySize.</param>
    /// <param name="maxIterations">The most iterations this call runs; ≥ 1.</param>
    /// <param name="maxEvaluations">This call's evaluation budget, ≥ 1; default maxIterations·5/4 (rounded down), as PyTorch.</param>
    /// <param name="onIteration">
    /// Called after every iteration that took a step, with the run's iteration number, the loss, max |gᵢ|, the step length
    /// and the run's evaluation count; returning false stops with <see cref="LbfgsStopReason.StoppedByCallback"/> (a
    /// convergence test of the same iteration takes precedence).
    /// </param>
    /// <param name="cancellationToken">Checked before every iteration; the state stays consistent when it fires.</param>
    /// <param name="l1">
    /// An L1 term λ₁·Σⱼ |θⱼ| over a range of the parameters, added to <paramref name="objective"/> (which stays the smooth
    /// part) and minimised by OWL-QN; default none (plain L-BFGS). A state may be continued with or without one.
    /// </param>
    /// <returns>What this call did and why it stopped.</returns>
    public LbfgsResult Minimize(Span<float> parameters, ObjectiveFunction objective, LbfgsState state, int maxIterations,
        int? maxEvaluations = null, Func<LbfgsIteration, bool>? onIteration = null, CancellationToken cancellationToken = default,
        LbfgsL1Penalty l1 = default)
    {
        ArgumentNullException.ThrowIfNull(objective);
        ArgumentNullException.ThrowIfNull(state);
        state.EnsureMatches(parameters.Length, HistorySize);
        Check.AtLeast(maxIterations, 1);
        int evaluationBudget = maxEvaluations is { } budget
            ? Check.AtLeast(budget, 1, nameof(maxEvaluations))
            : (int)Math.Min(int.MaxValue, maxIterations * 5L / 4);
        cancellationToken.ThrowIfCancellationRequested();
        if (LineSearch == LineSearch.StrongWolfe)
        {
            state.LineSearchBuffers ??= new StrongWolfeLineSearch.Buffers(parameters.Length);
        }

        l1.EnsureFits(parameters.Length);
        LbfgsOrthantWise.Buffers? orthantWise = null;
        if (l1.IsActive)
        {
            orthantWise = state.OrthantWiseBuffers ??= new LbfgsOrthantWise.Buffers(parameters.Length);
        }

        float[] gradient = state.Gradient;
        float[] direction = state.Direction;

        // What steers the iteration: the gradient, or with an L1 term the pseudo-gradient (gradient keeps ∇f for the history).
        float[] steering = orthantWise?.PseudoGradient ?? gradient;
        double loss = Evaluate(objective, parameters, gradient);
        if (orthantWise is not null)
        {
            loss += LbfgsOrthantWise.Penalty(l1, parameters);
            LbfgsOrthantWise.PseudoGradient(l1, parameters, gradient, steering);
        }

        double initialLoss = loss;
        int evaluations = 1;
        state.FunctionEvaluations++;
        double gradientMaxAbs = GradientMaxAbs(steering);
        if (gradientMaxAbs <= GradientTolerance)
        {
            return new LbfgsResult(0, evaluations, initialLoss, loss, LbfgsStopReason.GradientTolerance);
        }

        int iteration = 0;
        LbfgsStopReason stopReason;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            iteration++;
            state.Iterations++;
            bool firstOfRun = state.Iterations == 1;
            double? slopeOfDirection = null;
            if (firstOfRun)
            {
                TensorPrimitives.Negate(steering, direction);
                state.ClearHistory();
                state.HessianDiagonal = 1;
            }
            else
            {
                UpdateHistory(state);

                // Without an L1 term the slope g·d comes out of the recursion's last pass (OWL-QN projects d first).
                double dot = TwoLoopDirection(state, steering, direction, orthantWise is null ? steering : default);
                slopeOfDirection = orthantWise is null ? dot : null;
            }

            if (orthantWise is not null)
            {
                LbfgsOrthantWise.ProjectDirection(l1, parameters, steering, direction);
            }

            gradient.CopyTo(state.PreviousGradient, 0);
            state.PreviousLoss = loss;
            double t = firstOfRun ? Math.Min(1.0, 1.0 / LbfgsMath.SumAbs(steering)) * LearningRate : LearningRate;
            state.Step = t;
            double slope = slopeOfDirection ?? LbfgsMath.Dot(steering, direction);
            if (slope > -ChangeTolerance)
            {
                stopReason = LbfgsStopReason.NotDescentDirection;
                break;
            }

            int stepEvaluations = 0;
            double change;
            if (orthantWise is not null)
            {
                (loss, t, stepEvaluations) = OrthantWiseStep(objective, l1, parameters, state, orthantWise, t, loss, iteration != maxIterations);
                gradientMaxAbs = GradientMaxAbs(steering);
                change = LbfgsMath.MaxAbs(direction);
            }
            else if (LineSearch == LineSearch.StrongWolfe)
            {
                var outcome = StrongWolfeLineSearch.Search(objective, parameters, direction, t, loss, gradient, slope, state.LineSearchBuffers!);
                (loss, t, stepEvaluations) = (outcome.Loss, outcome.Step, outcome.Evaluations);
                state.Step = t;
                LbfgsMath.AddScaled(parameters, t, direction, parameters);
                gradientMaxAbs = GradientMaxAbs(gradient);
                change = Math.Abs(t) * LbfgsMath.MaxAbs(direction);
            }
            else
            {
                LbfgsMath.AddScaled(parameters, t, direction, parameters);
                if (iteration != maxIterations)
                {
                    // As PyTorch: the last iteration of a call is not re-evaluated (the next call starts with an evaluation).
                    loss = Evaluate(objective, parameters, gradient);
                    gradientMaxAbs = GradientMaxAbs(gradient);
                    stepEvaluations = 1;
                }

                change = Math.Abs(t) * LbfgsMath.MaxAbs(direction);
            }

            evaluations += stepEvaluations;
            state.FunctionEvaluations += stepEvaluations;
            LbfgsStopReason? converged =
                iteration == maxIterations ? LbfgsStopReason.MaxIterations
                : evaluations >= evaluationBudget ? LbfgsStopReason.MaxEvaluations
                : gradientMaxAbs <= GradientTolerance ? LbfgsStopReason.GradientTolerance
                : firstOfRun ? null // the first step's length is a guess, not evidence of convergence (see First step above)
                : change <= ChangeTolerance ? LbfgsStopReason.ChangeTolerance
                : Math.Abs(loss - state.PreviousLoss) < ChangeTolerance ? LbfgsStopReason.LossChangeTolerance
                : null;
            bool proceed = onIteration?.Invoke(new LbfgsIteration(state.Iterations, loss, gradientMaxAbs, t, state.FunctionEvaluations, converged)) ?? true;
            if (converged is { } reason)
            {
                stopReason = reason;
                break;
            }

            if (!proceed)
            {
                stopReason = LbfgsStopReason.StoppedByCallback;
                break;
            }
        }

        return new LbfgsResult(iteration, evaluations, initialLoss, loss, stopReason);
    }

    /// <summary>
    /// One OWL-QN step from θ along the projected direction: the backtracking search (StrongWolfe) or the fixed projected
    /// step (None, evaluated unless <paramref name="evaluate"/> is false, as the plain path). Afterwards the state's direction
    /// holds the displacement s actually taken and its step is 1, so the next curvature pair is (∇f − ∇f_prev, s); the
    /// gradient is ∇f and the pseudo-gradient ◇F at the new point. A failed search leaves θ, F and the gradients as they were
    /// and s = 0.
    /// </summary>
    private (double Loss, double Step, int Evaluations) OrthantWiseStep(ObjectiveFunction objective, in LbfgsL1Penalty l1,
        Span<float> parameters, LbfgsState state, LbfgsOrthantWise.Buffers buffers, double t, double loss, bool evaluate)
    {
        float[] direction = state.Direction;
        state.Step = 1;
        int evaluations = 0;
        if (LineSearch == LineSearch.StrongWolfe)
        {
            var outcome = LbfgsOrthantWise.Search(objective, l1, parameters, direction, t, loss, buffers.PseudoGradient, buffers);
            evaluations = outcome.Evaluations;
            if (!outcome.Accepted)
            {
                Array.Clear(direction);
                return (loss, 0, evaluations);
            }

            (loss, t) = (outcome.Loss, outcome.Step);
            buffers.TrialGradient.CopyTo(state.Gradient, 0);
        }
        else
        {
            LbfgsOrthantWise.StepWithinOrthant(l1, parameters, t, direction, buffers.Trial);
        }

        LbfgsOrthantWise.MoveTo(buffers.Trial, parameters, direction);
        if (LineSearch == LineSearch.None)
        {
            if (!evaluate)
            {
                return (loss, t, 0);
            }

            loss = Evaluate(objective, parameters, state.Gradient) + LbfgsOrthantWise.Penalty(l1, parameters);
            evaluations = 1;
        }

        LbfgsOrthantWise.PseudoGradient(l1, parameters, state.Gradient, buffers.PseudoGradient);
        return (loss, t, evaluations);
    }

    /// <summary>Calls the objective with a zeroed gradient and rejects a non-finite loss.</summary>
    internal static double Evaluate(ObjectiveFunction objective, ReadOnlySpan<float> point, float[] gradient)
    {
        Array.Clear(gradient);
        double loss = objective(point, gradient);
        return double.IsFinite(loss)
            ? loss
            : throw new InvalidOperationException(
                $"The objective returned a loss of {loss}; L-BFGS needs a finite loss at every point it evaluates " +
                "(check the objective for overflow, or lower the learning rate).");
    }

    /// <summary>
    /// The L-BFGS direction d = −H·g by the two-loop recursion over the state's history, with H₀ = H_diag·I; vectors are
    /// updated in float with each scalar computed in double. Returns <paramref name="finalDot"/>·d (0 when it is empty).
    /// </summary>
    /// <remarks>
    /// Each pass updates d and, in the same pass, takes the dot product the next step needs (sᵢ₋₁·q after q −= αᵢ·yᵢ;
    /// y₀·r after q −= α₀·y₀ and r = H₀·q; yᵢ₊₁·r after r += (αᵢ − βᵢ)·sᵢ; <paramref name="finalDot"/>·d after the last):
    /// 2m + 1 passes over the vectors instead of 4m + 2, with the same float updates and the same double sums in the same
    /// order (<see cref="LbfgsMath.AddScaledThenDot"/>), so d is what the textbook loops give, bit for bit. At 10⁶ parameters
    /// and m = 10 the recursion reads about a fifth fewer bytes; its passes are bound by memory bandwidth.
    /// </remarks>
    internal static double TwoLoopDirection(LbfgsState state, ReadOnlySpan<float> gradient, Span<float> direction,
        ReadOnlySpan<float> finalDot = default)
    {
        double[] alpha = state.Alpha;
        int count = state.HistoryCount;
        TensorPrimitives.Negate(gradient, direction);
        if (count == 0)
        {
            TensorPrimitives.Multiply(direction, (float)state.HessianDiagonal, direction);
            return finalDot.IsEmpty ? 0 : LbfgsMath.Dot(finalDot, direction);
        }

        double dot = LbfgsMath.Dot(state.HistoryS(count - 1), direction);
        for (int i = count - 1; i >= 0; i--)
        {
            alpha[i] = dot * state.HistoryRho(i);
            dot = i > 0
                ? LbfgsMath.AddScaledThenDot(direction, (float)-alpha[i], state.HistoryY(i), 1f, state.HistoryS(i - 1))
                : LbfgsMath.AddScaledThenDot(direction, (float)-alpha[0], state.HistoryY(0), (float)state.HessianDiagonal, state.HistoryY(0));
        }

        for (int i = 0; i < count; i++)
        {
            double beta = dot * state.HistoryRho(i);
            dot = LbfgsMath.AddScaledThenDot(direction, (float)(alpha[i] - beta), state.HistoryS(i), 1f,
                i + 1 < count ? state.HistoryY(i + 1) : finalDot);
        }

        return dot;
    }

    /// <summary>Adds the pair (y, s) of the last step when it passes the curvature check y·s &gt; 1e-10, and rescales H₀.</summary>
    private static void UpdateHistory(LbfgsState state)
    {
        float step = (float)state.Step;
        var (ys, yy) = LbfgsMath.CurvaturePair(state.Gradient, state.PreviousGradient, state.Direction, step);
        if (ys > CurvatureThreshold)
        {
            state.PushHistory(state.Gradient, state.PreviousGradient, state.Direction, step, ys);
            state.HessianDiagonal = ys / yy;
        }
    }

    private static double GradientMaxAbs(ReadOnlySpan<float> gradient)
    {
        double maxAbs = LbfgsMath.MaxAbs(gradient);
        return double.IsFinite(maxAbs)
            ? maxAbs
            : throw new InvalidOperationException($"The objective returned a gradient with max |g| = {maxAbs}; L-BFGS needs finite gradients.");
    }
}
