namespace MLNet.Optimizers;

/// <summary>Lazy sparse steps for <see cref="Adagrad"/> (see <see cref="ISparseStepOptimizer"/>).</summary>
/// <remarks>
/// A zero gradient adds nothing to the sum and moves nothing, so touching only the given coordinates is exact bit for bit
/// (the learning-rate decay uses the global step, as the dense step does). Coupled weight decay is not supported.
/// Coordinates are gathered, updated and scattered in blocks (see <see cref="SparseSteps.GatherBlock"/>).
/// </remarks>
public sealed partial class Adagrad : ISparseStepOptimizer
{
    /// <inheritdoc />
    public bool SupportsSparseSteps => WeightDecay == 0;

    /// <inheritdoc />
    public OptimizerState CreateSparseState(int parameterCount) => CreateState(parameterCount);

    /// <inheritdoc />
    public void StepSparse(Span<float> parameters, ReadOnlySpan<int> indices, ReadOnlySpan<float> gradientValues, OptimizerState state,
        double learningRate)
    {
        if (!SupportsSparseSteps)
        {
            throw SparseSteps.Unsupported(this, SparseSteps.CoupledDecayReason(WeightDecay));
        }

        SparseSteps.CheckArguments(this, parameters, indices, gradientValues, state, learningRate);
        var kernel = new Kernel(this, state, learningRate);
        float unused = 0;
        Span<float> sum = state.Vector(SumKey);
        Span<float> p = stackalloc float[SparseSteps.GatherBlock];
        Span<float> s = stackalloc float[SparseSteps.GatherBlock];
        for (int start = 0; start < indices.Length; start += SparseSteps.GatherBlock)
        {
            var block = SparseSteps.BlockAt(indices, start);
            for (int j = 0; j < block.Length; j++)
            {
                p[j] = parameters[block[j]];
                s[j] = sum[block[j]];
            }

            for (int j = 0; j < block.Length; j++)
            {
                kernel.Apply(ref p[j], gradientValues[start + j], ref s[j], ref unused, ref unused);
            }

            for (int j = 0; j < block.Length; j++)
            {
                parameters[block[j]] = p[j];
                sum[block[j]] = s[j];
            }
        }

        state.Step++;
    }

    /// <inheritdoc />
    public void CatchUp(Span<float> parameters, ReadOnlySpan<int> indices, OptimizerState state)
    {
        SparseSteps.CheckCatchUpArguments(this, parameters, indices, state);
    }

    /// <inheritdoc />
    public void Flush(Span<float> parameters, OptimizerState state)
    {
        SparseSteps.CheckState(this, parameters, state);
    }
}
