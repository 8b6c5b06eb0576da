namespace MLNet.Optimizers;

/// <summary>Lazy sparse steps for <see cref="AdamW"/> (see <see cref="ISparseStepOptimizer"/>).</summary>
/// <remarks>
/// Moments as PyTorch's <c>SparseAdam</c>: only touched coordinates update them and their Adam step (an approximation of
/// dense AdamW on zero-filled gradients). The decoupled decay θ ← θ·(1 − γλ) reaches every coordinate at every step, and is
/// applied exactly: a coordinate skipped for k steps is multiplied by (1 − γλ)ᵏ when next touched or flushed.
/// </remarks>
public sealed partial class AdamW : ISparseStepOptimizer
{
    /// <inheritdoc />
    public bool SupportsSparseSteps => true;

    /// <inheritdoc />
    public OptimizerState CreateSparseState(int parameterCount) => _kernel.CreateSparseState(this, parameterCount);

    /// <inheritdoc />
    public void StepSparse(Span<float> parameters, ReadOnlySpan<int> indices, ReadOnlySpan<float> gradientValues, OptimizerState state,
        double learningRate)
    {
        SparseSteps.CheckArguments(this, parameters, indices, gradientValues, state, learningRate);
        _kernel.StepSparse(parameters, indices, gradientValues, state, learningRate);
        state.Step++;
    }

    /// <inheritdoc />
    public void CatchUp(Span<float> parameters, ReadOnlySpan<int> indices, OptimizerState state)
    {
        SparseSteps.CheckCatchUpArguments(this, parameters, indices, state);
        _kernel.CatchUp(parameters, indices, state);
    }

    /// <inheritdoc />
    public void Flush(Span<float> parameters, OptimizerState state)
    {
        SparseSteps.CheckState(this, parameters, state);
        _kernel.Flush(parameters, state);
    }
}
