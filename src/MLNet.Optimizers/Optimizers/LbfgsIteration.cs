using System.Globalization;
namespace MLNet.Optimizers;

/// <summary>Progress reported by <see cref="Lbfgs"/> after every iteration that took a step.</summary>
public readonly struct LbfgsIteration
{
    /// <summary>Creates a progress report.</summary>
    /// <param name="iteration">The iteration number over the whole run (1-based; continues across calls on one state).</param>
    /// <param name="loss">The loss after the iteration.</param>
    /// <param name="gradientMaxAbs">max |gᵢ| after the iteration.</param>
    /// <param name="stepSize">The step length t taken along the direction.</param>
    /// <param name="functionEvaluations">Objective evaluations over the whole run.</param>
    /// <param name="stopReason">Why the run stops after this iteration, or null when it goes on.</param>
    public LbfgsIteration(long iteration, double loss, double gradientMaxAbs, double stepSize, long functionEvaluations,
        LbfgsStopReason? stopReason = null)
    {
        Iteration = iteration;
        Loss = loss;
        GradientMaxAbs = gradientMaxAbs;
        StepSize = stepSize;
        FunctionEvaluations = functionEvaluations;
        StopReason = stopReason;
    }

    /// <summary>The iteration number over the whole run (1-based; continues across calls on one state).</summary>
    public long Iteration { get; }

    /// <summary>
    /// The loss after the iteration. With <see cref="LineSearch.None"/> the last iteration of a call is not re-evaluated
    /// (as in PyTorch), so there it is the loss before the step.
    /// </summary>
    public double Loss { get; }

    /// <summary>max |gᵢ| of the gradient that goes with <see cref="Loss"/>.</summary>
    public double GradientMaxAbs { get; }

    /// <summary>The step length t taken along the search direction.</summary>
    public double StepSize { get; }

    /// <summary>Objective evaluations over the whole run (PyTorch's <c>func_evals</c>).</summary>
    public long FunctionEvaluations { get; }

    /// <summary>
    /// Why the call stops after this iteration (a tolerance met, or its iteration or evaluation budget used up), whatever the
    /// callback returns; null when it goes on unless the callback stops it. A caller saving the state between iterations
    /// (a checkpoint) saves only while this is null, since a continued run would not know that this one had ended.
    /// </summary>
    public LbfgsStopReason? StopReason { get; }

    /// <inheritdoc />
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"iteration {Iteration}: loss {Loss}, max|g| {GradientMaxAbs}, step {StepSize}, evaluations {FunctionEvaluations}");
}
