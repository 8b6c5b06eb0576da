namespace MLNet.Optimizers;

/// <summary>Why <see cref="Lbfgs.Minimize(Span{float}, ObjectiveFunction, LbfgsState, int, int?, Func{LbfgsIteration, bool}?, CancellationToken, LbfgsL1Penalty)"/> returned.</summary>
public enum LbfgsStopReason
{
    /// <summary>
    /// max |gᵢ| ≤ gradientTolerance: the point is stationary to first order (also when that holds at the start). With an L1
    /// term g is the pseudo-gradient, so this is the optimality condition of the penalised objective.
    /// </summary>
    GradientTolerance,

    /// <summary>
    /// max |t·dᵢ| ≤ changeTolerance: the last step moved no parameter by more than the tolerance (with an L1 term: the step
    /// actually taken, 0 when the backtracking search found no point with sufficient decrease).
    /// </summary>
    ChangeTolerance,

    /// <summary>|loss − previous loss| &lt; changeTolerance: the last iteration did not change the loss enough.</summary>
    LossChangeTolerance,

    /// <summary>g·d &gt; −changeTolerance: the new direction is not a descent direction (no step was taken in that iteration).</summary>
    NotDescentDirection,

    /// <summary>The call ran its maxIterations iterations.</summary>
    MaxIterations,

    /// <summary>The call used at least maxEvaluations objective evaluations.</summary>
    MaxEvaluations,

    /// <summary>The onIteration callback returned false.</summary>
    StoppedByCallback,
}
