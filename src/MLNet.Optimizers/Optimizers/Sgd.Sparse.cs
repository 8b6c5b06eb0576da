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
    public bool SupportsSparseSteps => WeightDecay == 0;

    /// <inheritdoc />
    public OptimizerState CreateSparseState(int parameterCount)
    {
        var state = CreateState(parameterCount);
        return Momentum != 0 ? SparseSteps.AddLazyCounters(state) : state;
    }

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
        if (Momentum == 0)
        {
            float unused = 0;
            for (int j = 0; j < indices.Length; j++)
            {
                kernel.Apply(ref parameters[indices[j]], gradientValues[j], ref unused, ref unused, ref unused);
            }
        }
        else
        {
            if (SparseSteps.RateToFlushWith(state, learningRate) is double previousRate)
            {
                CatchUpAll(parameters, state, previousRate);
            }

            CatchUpAndStep(parameters, indices, state, kernel.LearningRate.Scalar, gradientValues, kernel);
        }

        state.Step++;
    }

    /// <inheritdoc />
    public void CatchUp(Span<float> parameters, ReadOnlySpan<int> indices, OptimizerState state)
    {
        SparseSteps.CheckCatchUpArguments(this, parameters, indices, state);
        if (Momentum == 0)
        {
            return;
        }

        CatchUpAndStep(parameters, indices, state, (float)state.Scalar(SparseSteps.LazyLearningRateKey), default, step: null);
    }

    /// <inheritdoc />
    public void Flush(Span<float> parameters, OptimizerState state)
    {
        SparseSteps.CheckState(this, parameters, state);
        if (Momentum != 0)
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

    /// <summary>
    /// The momentum path of <see cref="StepSparse"/> and <see cref="CatchUp(Span{float}, ReadOnlySpan{int}, OptimizerState)"/>: applies to each of <paramref name="indices"/> the
    /// steps it skipped through the current one (at <paramref name="catchUpRate"/>) and then, when <paramref name="step"/> is
    /// given, takes that step with <paramref name="gradientValues"/>. Coordinates are gathered, updated and scattered in blocks.
    /// </summary>
    private void CatchUpAndStep(Span<float> parameters, ReadOnlySpan<int> indices, OptimizerState state, float catchUpRate,
        ReadOnlySpan<float> gradientValues, Kernel? step)
    {
        Span<float> buffer = state.Vector(MomentumBufferKey);
        Span<int> lastSteps = SparseSteps.LastSteps(state);
        int current = (int)state.Step;
        bool takesStep = step.HasValue;
        int upToDate = takesStep ? SparseSteps.NextStep(state) : current;
        var kernel = step.GetValueOrDefault();
        float unused = 0;
        Span<float> p = stackalloc float[SparseSteps.GatherBlock];
        Span<float> b = stackalloc float[SparseSteps.GatherBlock];
        Span<int> skipped = stackalloc int[SparseSteps.GatherBlock];
        for (int start = 0; start < indices.Length; start += SparseSteps.GatherBlock)
        {
            var block = SparseSteps.BlockAt(indices, start);
            for (int j = 0; j < block.Length; j++)
            {
                int i = block[j];
                p[j] = parameters[i];
                b[j] = buffer[i];
                skipped[j] = current - lastSteps[i];
                lastSteps[i] = upToDate;
            }

            for (int j = 0; j < block.Length; j++)
            {
                CatchUp(ref p[j], ref b[j], skipped[j], catchUpRate);
                if (takesStep)
                {
                    kernel.Apply(ref p[j], gradientValues[start + j], ref b[j], ref unused, ref unused);
                }
            }

            for (int j = 0; j < block.Length; j++)
            {
                parameters[block[j]] = p[j];
                buffer[block[j]] = b[j];
            }
        }
    }

    /// <summary>Applies <paramref name="skipped"/> zero-gradient momentum steps at once (the rates as the float values a dense step uses).</summary>
    private void CatchUp(ref float parameter, ref float buffer, int skipped, float learningRate)
    {
        if (skipped <= 0 || buffer == 0)
        {
            return;
        }

        double mu = (float)Momentum;
        double muPower = Math.Pow(mu, skipped);
        double travelled = mu * (1 - muPower) / (1 - mu);
        if (Nesterov)
        {
            travelled *= mu;
        }

        parameter = (float)(parameter - (double)learningRate * buffer * travelled);
        buffer = (float)(buffer * muPower);
    }
}
