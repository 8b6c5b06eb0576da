using System.Globalization;
namespace MLNet.Optimizers;

/// <summary>The outcome of one <see cref="Lbfgs"/> minimization call.</summary>
public sealed class LbfgsResult
{
    internal LbfgsResult(int iterations, int functionEvaluations, double initialLoss, double loss, LbfgsStopReason stopReason)
    {
        Iterations = iterations;
        FunctionEvaluations = functionEvaluations;
        InitialLoss = initialLoss;
        Loss = loss;
        StopReason = stopReason;
    }

    /// <summary>Iterations run by this call (the state's <see cref="LbfgsState.Iterations"/> holds the run's total).</summary>
    public int Iterations { get; }

    /// <summary>Objective evaluations made by this call, including the first one at the starting point.</summary>
    public int FunctionEvaluations { get; }

    /// <summary>The loss at the starting point of this call (what PyTorch's <c>step</c> returns).</summary>
    public double InitialLoss { get; }

    /// <summary>
    /// The most recently evaluated loss: at the final parameters, except after a <see cref="LineSearch.None"/> call that
    /// ran all its iterations, whose last step is not evaluated (as in PyTorch).
    /// </summary>
    public double Loss { get; }

    /// <summary>Why the call returned.</summary>
    public LbfgsStopReason StopReason { get; }

    /// <inheritdoc />
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{StopReason} after {Iterations} iterations and {FunctionEvaluations} evaluations: loss {InitialLoss} -> {Loss}");
}
