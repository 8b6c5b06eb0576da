using System.Numerics.Tensors;

namespace MLNet.Optimizers;

/// <summary>
/// The OWL-QN pieces of <see cref="Lbfgs"/> (Andrew &amp; Gao, "Scalable training of L1-regularized log-linear models",
/// ICML 2007) for F(θ) = f(θ) + λ₁·Σⱼ∈P |θⱼ|, f smooth, P the penalised range of an <see cref="LbfgsL1Penalty"/>.
/// </summary>
/// <remarks>
/// <code>
/// pseudo-gradient ◇F:  j ∉ P: ∂ⱼf;   θⱼ &gt; 0: ∂ⱼf + λ₁;   θⱼ &lt; 0: ∂ⱼf − λ₁;
///                      θⱼ = 0: ∂ⱼf + λ₁ if that is &lt; 0, ∂ⱼf − λ₁ if that is &gt; 0, else 0
///                      (the steepest-descent direction of F is −◇F; ◇F = 0 exactly where the optimality conditions hold)
/// direction:           d ← −H·◇F by the two-loop recursion, then for j ∈ P with θⱼ = 0: dⱼ ← 0 unless sign(dⱼ) = sign(−◇ⱼF)
/// orthant:             ξⱼ = sign(θⱼ), or sign(−◇ⱼF) where θⱼ = 0
/// trial point:         θ(t) = π(θ + t·d): for j ∈ P, a coordinate that would leave the orthant ξ becomes exactly 0
/// line search:         from the initial step t, accept when F(θ(t)) ≤ F(θ) + c1·◇F·(θ(t) − θ), c1 = 1e-4; otherwise
///                      t ← the minimiser of the quadratic through F(θ), the slope ◇F·(θ(t) − θ)/t and F(θ(t)), kept in
///                      [t/10, t/2] (t/2 when the trial is not a descent: ◇F·(θ(t) − θ) &gt; 0, not evaluated);
///                      at most 25 evaluations; when none passes, no step is taken
/// curvature pair:      s = θ(t) − θ (the step actually taken), y = ∇f(θ(t)) − ∇f(θ) (the smooth gradients)
/// </code>
/// <para><b>Differs from Andrew &amp; Gao</b>, who zero every penalised dⱼ whose sign is not that of −◇ⱼF: here only the
/// coordinates at 0 are constrained (they choose their orthant); the others keep their quasi-Newton component, and the trial
/// point's projection alone keeps them in their orthant. The dropped components all have dⱼ·◇ⱼF ≥ 0, so ◇F·d stays below its
/// unprojected value, which is negative: d is still a descent direction. On breast_cancer, digits and diabetes (Poisson) this
/// needed 30–70% fewer evaluations than the full projection (which zeroes the Newton components of correlated features), and
/// the interpolating backtrack fewer than halving.</para>
/// <para>The strong-Wolfe conditions assume a smooth F, so with an L1 term <see cref="LineSearch.StrongWolfe"/> means this
/// backtracking search; <see cref="LineSearch.None"/> takes the projected step θ(t) with the fixed t.</para>
/// </remarks>
internal static class LbfgsOrthantWise
{
    internal const double SufficientDecrease = 1e-4;
    internal const double MaxBacktrack = 0.5;
    internal const double MinBacktrack = 0.1;
    internal const int MaxEvaluations = 25;

    /// <summary>λ₁·Σⱼ∈P |θⱼ|, summed in double in <see cref="LbfgsMath.SumAbs"/>'s fixed order.</summary>
    internal static double Penalty(in LbfgsL1Penalty l1, ReadOnlySpan<float> parameters) =>
        l1.Strength * LbfgsMath.SumAbs(parameters.Slice(l1.Start, l1.Count));

    /// <summary>◇F from the smooth gradient; each penalised entry is computed in double and rounded to float once.</summary>
    internal static void PseudoGradient(in LbfgsL1Penalty l1, ReadOnlySpan<float> parameters, ReadOnlySpan<float> gradient,
        Span<float> pseudoGradient)
    {
        gradient.CopyTo(pseudoGradient);
        double lambda = l1.Strength;
        for (int j = l1.Start; j < l1.Start + l1.Count; j++)
        {
            double g = gradient[j];
            float x = parameters[j];
            pseudoGradient[j] = (float)(x > 0 ? g + lambda
                : x < 0 ? g - lambda
                : g + lambda < 0 ? g + lambda
                : g - lambda > 0 ? g - lambda
                : 0);
        }
    }

    /// <summary>Zeroes every penalised dⱼ at θⱼ = 0 whose sign is not that of −◇ⱼF (so also where ◇ⱼF = 0).</summary>
    internal static void ProjectDirection(in LbfgsL1Penalty l1, ReadOnlySpan<float> parameters, ReadOnlySpan<float> pseudoGradient,
        Span<float> direction)
    {
        for (int j = l1.Start; j < l1.Start + l1.Count; j++)
        {
            if (parameters[j] != 0)
            {
                continue;
            }

            float pg = pseudoGradient[j], d = direction[j];
            bool descends = pg < 0 ? d > 0 : pg > 0 && d < 0;
            if (!descends)
            {
                direction[j] = 0;
            }
        }
    }

    /// <summary>
    /// destination ← π(θ + t·d): the float update of <see cref="LbfgsMath.AddScaled"/>, then every penalised coordinate that
    /// changed sign set to 0 (a coordinate at 0 only moves along dⱼ, which the projected direction keeps in its orthant).
    /// </summary>
    internal static void StepWithinOrthant(in LbfgsL1Penalty l1, ReadOnlySpan<float> parameters, double step, ReadOnlySpan<float> direction,
        Span<float> destination)
    {
        LbfgsMath.AddScaled(parameters, step, direction, destination);
        for (int j = l1.Start; j < l1.Start + l1.Count; j++)
        {
            float x = parameters[j], moved = destination[j];
            if ((x > 0 && moved < 0) || (x < 0 && moved > 0))
            {
                destination[j] = 0;
            }
        }
    }

    /// <summary>
    /// The backtracking search along the projected path from <paramref name="parameters"/>. On acceptance
    /// <see cref="Buffers.Trial"/> holds θ(t) and <see cref="Buffers.TrialGradient"/> ∇f there.
    /// </summary>
    /// <param name="objective">The smooth part f.</param>
    /// <param name="l1">The L1 term.</param>
    /// <param name="parameters">θ; not modified.</param>
    /// <param name="direction">d, projected.</param>
    /// <param name="step">The first trial step.</param>
    /// <param name="loss">F(θ), penalty included.</param>
    /// <param name="pseudoGradient">◇F(θ).</param>
    /// <param name="buffers">The trial point and its gradient.</param>
    internal static Outcome Search(ObjectiveFunction objective, in LbfgsL1Penalty l1, ReadOnlySpan<float> parameters,
        ReadOnlySpan<float> direction, double step, double loss, ReadOnlySpan<float> pseudoGradient, Buffers buffers)
    {
        double t = step;
        int evaluations = 0;
        while (evaluations < MaxEvaluations && t > 0)
        {
            StepWithinOrthant(l1, parameters, t, direction, buffers.Trial);
            double predicted = DotWithDisplacement(pseudoGradient, buffers.Trial, parameters);
            if (predicted > 0)
            {
                // Clipping at zero turned the step into an ascent of the model: shorter steps clip less.
                t *= MaxBacktrack;
                continue;
            }

            double trialLoss = Lbfgs.Evaluate(objective, buffers.Trial, buffers.TrialGradient) + Penalty(l1, buffers.Trial);
            evaluations++;
            if (trialLoss <= loss + (SufficientDecrease * predicted))
            {
                return new Outcome(trialLoss, t, evaluations, Accepted: true);
            }

            // The quadratic q(τ) = F(θ) + (predicted/t)·τ + c·τ² through F(θ(t)) has its minimum at −(predicted/t)·t²/(2c·t²).
            double curvature = trialLoss - loss - predicted;
            double minimiser = curvature > 0 ? -predicted * t / (2 * curvature) : MaxBacktrack * t;
            t = Math.Clamp(minimiser, MinBacktrack * t, MaxBacktrack * t);
        }

        return new Outcome(loss, 0, evaluations, Accepted: false);
    }

    /// <summary>Σⱼ gⱼ·(aⱼ − bⱼ) in double, each difference exact in double.</summary>
    internal static double DotWithDisplacement(ReadOnlySpan<float> g, ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double sum = 0;
        for (int j = 0; j < g.Length; j++)
        {
            sum += g[j] * ((double)a[j] - b[j]);
        }

        return sum;
    }

    /// <summary>Moves to <paramref name="trial"/>: <paramref name="displacement"/> ← trial − θ (the s of the next curvature pair), θ ← trial.</summary>
    internal static void MoveTo(ReadOnlySpan<float> trial, Span<float> parameters, Span<float> displacement)
    {
        TensorPrimitives.Subtract(trial, parameters, displacement);
        trial.CopyTo(parameters);
    }

    /// <summary>The search's result: F at the accepted point, the step t, the evaluations made, and whether a point passed.</summary>
    internal readonly record struct Outcome(double Loss, double Step, int Evaluations, bool Accepted);

    /// <summary>OWL-QN's work vectors, allocated once per <see cref="LbfgsState"/> on its first use with an L1 term.</summary>
    internal sealed class Buffers(int parameterCount)
    {
        /// <summary>◇F at the current point.</summary>
        public float[] PseudoGradient { get; } = new float[parameterCount];

        /// <summary>The trial point θ(t).</summary>
        public float[] Trial { get; } = new float[parameterCount];

        /// <summary>∇f at the trial point.</summary>
        public float[] TrialGradient { get; } = new float[parameterCount];
    }
}
