namespace MLNet.Optimizers;

/// <summary>Lazy sparse steps for <see cref="Adam"/>, as PyTorch's <c>SparseAdam</c> (see <see cref="ISparseStepOptimizer"/>).</summary>
/// <remarks>
/// Only touched coordinates update their moments and parameters; untouched moments do not decay, so this approximates
/// dense Adam on zero-filled gradients (and equals it when every step touches every coordinate). Coupled weight decay
/// (λ·θ in the gradient) is not supported; use <see cref="AdamW"/>, whose decoupled decay is applied exactly.
/// </remarks>
public sealed partial class Adam : ISparseStepOptimizer
{
    /// <inheritdoc />
    public bool SupportsSparseSteps => WeightDecay == 0;

    /// <inheritdoc />
    public OptimizerState CreateSparseState(int parameterCount) => _kernel.CreateSparseState(this, parameterCount);

    /// <inheritdoc />
    public void StepSparse(Span<float> parameters, ReadOnlySpan<int> indices, ReadOnlySpan<float> gradientValues, OptimizerState state,
        double learningRate)
    {
        if (!SupportsSparseSteps)
        {
            throw SparseSteps.Unsupported(this, $"weightDecay = {WeightDecay} adds λ·θ to every coordinate's gradient at every step; use AdamW (decoupled decay, applied lazily) or weightDecay = 0.");
        }

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
