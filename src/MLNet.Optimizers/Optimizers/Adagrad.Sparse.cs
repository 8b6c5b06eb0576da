namespace MLNet.Optimizers;

/// <summary>Lazy sparse steps for <see cref="Adagrad"/> (see <see cref="ISparseStepOptimizer"/>).</summary>
/// <remarks>
/// A zero gradient adds nothing to the sum and moves nothing, so touching only the given coordinates is exact bit for bit
/// (the learning-rate decay uses the global step, as the dense step does). Coupled weight decay is not supported.
/// </remarks>
public sealed partial class Adagrad : ISparseStepOptimizer
{
    /// <inheritdoc />
    public bool SupportsSparseSteps => _weightDecay == 0;

    /// <inheritdoc />
    public OptimizerState CreateSparseState(int parameterCount) => CreateState(parameterCount);

    /// <inheritdoc />
    public void StepSparse(Span<float> parameters, ReadOnlySpan<int> indices, ReadOnlySpan<float> gradientValues, OptimizerState state,
        double learningRate)
    {
        if (!SupportsSparseSteps)
        {
            throw SparseSteps.Unsupported(this, SparseSteps.CoupledDecayReason(_weightDecay));
        }

        SparseSteps.CheckArguments(this, parameters, indices, gradientValues, state, learningRate);
        var scalars = new Scalars(this, state, learningRate);
        Span<float> sum = state.Vector(SumKey);
        for (int j = 0; j < indices.Length; j++)
        {
            int i = indices[j];
            UpdateElement(ref parameters[i], gradientValues[j], ref sum[i], scalars);
        }

        state.Step++;
    }

    /// <inheritdoc />
    public void Flush(Span<float> parameters, OptimizerState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        state.EnsureMatches(Name, parameters.Length);
    }
}
