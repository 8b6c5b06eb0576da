namespace MLNet.Optimizers;

/// <summary>Lazy sparse steps for <see cref="Sgd"/> (see <see cref="ISparseStepOptimizer"/>).</summary>
/// <remarks>
/// Without momentum a zero gradient leaves a coordinate unchanged, so lazy steps are exact bit for bit. With momentum, k
/// skipped steps at a constant rate γ apply b ← μᵏ·b and θ ← θ − γ·b·Σⱼ₌₁..ₖ μʲ (Nesterov: Σ μʲ⁺¹), computed in double:
/// exact up to float rounding. Coupled weight decay changes every coordinate at every step, so it is not supported.
/// Coordinates are gathered, updated and scattered in blocks (see <see cref="SparseSteps.GatherBlock"/>).
/// </remarks>
public sealed partial class Sgd : ISparseStepOptimizer
{
    /// <inheritdoc />
    public bool SupportsSparseSteps => _weightDecay == 0;

    /// <inheritdoc />
    public OptimizerState CreateSparseState(int parameterCount)
    {
        var state = CreateState(parameterCount);
        return _momentum != 0 ? SparseSteps.AddLazyCounters(state) : state;
    }

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
        float unused = 0;
        if (_momentum == 0)
        {
            for (int j = 0; j < indices.Length; j++)
            {
                UpdateElement(ref parameters[indices[j]], gradientValues[j], ref unused, scalars, _nesterov);
            }
        }
        else
        {
            if (SparseSteps.RateToFlushWith(state, learningRate) is double previousRate)
            {
                CatchUpAll(parameters, state, previousRate);
            }

            Span<float> buffer = state.Vector(MomentumBufferKey);
            Span<int> lastSteps = SparseSteps.LastSteps(state);
            int now = SparseSteps.NextStep(state);
            Span<float> p = stackalloc float[SparseSteps.GatherBlock];
            Span<float> b = stackalloc float[SparseSteps.GatherBlock];
            Span<int> skipped = stackalloc int[SparseSteps.GatherBlock];
            for (int start = 0; start < indices.Length; start += SparseSteps.GatherBlock)
            {
                var block = indices.Slice(start, Math.Min(SparseSteps.GatherBlock, indices.Length - start));
                for (int j = 0; j < block.Length; j++)
                {
                    int i = block[j];
                    p[j] = parameters[i];
                    b[j] = buffer[i];
                    skipped[j] = now - 1 - lastSteps[i];
                    lastSteps[i] = now;
                }

                for (int j = 0; j < block.Length; j++)
                {
                    CatchUp(ref p[j], ref b[j], skipped[j], scalars.LearningRate);
                    UpdateElement(ref p[j], gradientValues[start + j], ref b[j], scalars, _nesterov);
                }

                for (int j = 0; j < block.Length; j++)
                {
                    parameters[block[j]] = p[j];
                    buffer[block[j]] = b[j];
                }
            }
        }

        state.Step++;
    }

    /// <inheritdoc />
    public void CatchUp(Span<float> parameters, ReadOnlySpan<int> indices, OptimizerState state)
    {
        SparseSteps.CheckCatchUpArguments(this, parameters, indices, state);
        if (_momentum == 0)
        {
            return;
        }

        Span<float> buffer = state.Vector(MomentumBufferKey);
        Span<int> lastSteps = SparseSteps.LastSteps(state);
        float learningRate = (float)state.Scalar(SparseSteps.LazyLearningRateKey);
        int now = (int)state.Step;
        Span<float> p = stackalloc float[SparseSteps.GatherBlock];
        Span<float> b = stackalloc float[SparseSteps.GatherBlock];
        Span<int> skipped = stackalloc int[SparseSteps.GatherBlock];
        for (int start = 0; start < indices.Length; start += SparseSteps.GatherBlock)
        {
            var block = indices.Slice(start, Math.Min(SparseSteps.GatherBlock, indices.Length - start));
            for (int j = 0; j < block.Length; j++)
            {
                int i = block[j];
                p[j] = parameters[i];
                b[j] = buffer[i];
                skipped[j] = now - lastSteps[i];
                lastSteps[i] = now;
            }

            for (int j = 0; j < block.Length; j++)
            {
                CatchUp(ref p[j], ref b[j], skipped[j], learningRate);
            }

            for (int j = 0; j < block.Length; j++)
            {
                parameters[block[j]] = p[j];
                buffer[block[j]] = b[j];
            }
        }
    }

    /// <inheritdoc />
    public void Flush(Span<float> parameters, OptimizerState state)
    {
        SparseSteps.CheckState(this, parameters, state);
        if (_momentum != 0)
        {
            CatchUpAll(parameters, state, state.Scalar(SparseSteps.LazyLearningRateKey));
        }
    }

    private void CatchUpAll(Span<float> parameters, OptimizerState state, double learningRate)
    {
        Span<float> buffer = state.Vector(MomentumBufferKey);
        Span<int> lastSteps = SparseSteps.LastSteps(state);
        int now = (int)state.Step;
        for (int i = 0; i < parameters.Length; i++)
        {
            CatchUp(ref parameters[i], ref buffer[i], now - lastSteps[i], (float)learningRate);
            lastSteps[i] = now;
        }
    }

    /// <summary>Applies <paramref name="skipped"/> zero-gradient momentum steps at once (the rates as the float values a dense step uses).</summary>
    private void CatchUp(ref float parameter, ref float buffer, int skipped, float learningRate)
    {
        if (skipped <= 0 || buffer == 0)
        {
            return;
        }

        double mu = (float)_momentum;
        double muPower = Math.Pow(mu, skipped);
        double travelled = mu * (1 - muPower) / (1 - mu);
        if (_nesterov)
        {
            travelled *= mu;
        }

        parameter = (float)(parameter - (double)learningRate * buffer * travelled);
        buffer = (float)(buffer * muPower);
    }
}
