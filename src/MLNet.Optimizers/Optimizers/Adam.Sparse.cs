namespace MLNet.Optimizers;

/// <summary>Lazy sparse steps for <see cref="Adam"/> and <see cref="AdamW"/>, as PyTorch's <c>SparseAdam</c> (see <see cref="ISparseStepOptimizer"/>).</summary>
/// <remarks>
/// Only touched coordinates update their moments and parameters, with the bias correction of the global step; untouched
/// moments do not decay, so this approximates dense Adam on zero-filled gradients (and equals it when every step touches
/// every coordinate). Coupled weight decay (λ·θ in the gradient) changes every coordinate at every step and is not
/// supported. AdamW's decoupled decay θ ← θ·(1 − γλ) also reaches every coordinate at every step, and is applied exactly,
/// lazily: k skipped steps multiply θ by (1 − γλ)ᵏ (the float factor of the dense step, raised in double) when the
/// coordinate is next touched or flushed. Coordinates are gathered, updated and scattered in blocks (see
/// <see cref="SparseSteps.GatherBlock"/>).
/// </remarks>
public partial class Adam : ISparseStepOptimizer
{
    /// <inheritdoc />
    public bool SupportsSparseSteps => WeightDecay == 0 || DecoupledWeightDecay;

    /// <summary>True when the decoupled decay must be caught up per coordinate (AdamW with λ ≠ 0).</summary>
    internal bool HasLazyDecay => DecoupledWeightDecay && WeightDecay != 0;

    /// <inheritdoc />
    public OptimizerState CreateSparseState(int parameterCount)
    {
        var state = CreateState(parameterCount);
        return HasLazyDecay ? SparseSteps.AddLazyCounters(state) : state;
    }

    /// <inheritdoc />
    public void StepSparse(Span<float> parameters, ReadOnlySpan<int> indices, ReadOnlySpan<float> gradientValues, OptimizerState state,
        double learningRate)
    {
        if (!SupportsSparseSteps)
        {
            throw SparseSteps.Unsupported(this, $"weightDecay = {WeightDecay} adds λ·θ to every coordinate's gradient at every step; use AdamW (decoupled decay, applied lazily) or weightDecay = 0.");
        }

        SparseSteps.CheckArguments(this, parameters, indices, gradientValues, state, learningRate);
        if (HasLazyDecay && SparseSteps.RateToFlushWith(state, learningRate) is double previousRate)
        {
            CatchUpDecayAll(parameters, state, previousRate);
        }

        var kernel = new Kernel(this, state, learningRate);
        Span<float> expAvg = state.Vector(ExpAvgKey);
        Span<float> expAvgSq = state.Vector(ExpAvgSqKey);
        Span<float> maxExpAvgSq = AmsGrad ? state.Vector(MaxExpAvgSqKey) : default;
        Span<int> lastSteps = HasLazyDecay ? SparseSteps.LastSteps(state) : default;
        int now = HasLazyDecay ? SparseSteps.NextStep(state) : 0;
        Span<float> p = stackalloc float[SparseSteps.GatherBlock];
        Span<float> m = stackalloc float[SparseSteps.GatherBlock];
        Span<float> v = stackalloc float[SparseSteps.GatherBlock];
        Span<float> vMax = stackalloc float[SparseSteps.GatherBlock];
        Span<int> skipped = stackalloc int[SparseSteps.GatherBlock];
        for (int start = 0; start < indices.Length; start += SparseSteps.GatherBlock)
        {
            var block = SparseSteps.BlockAt(indices, start);
            for (int j = 0; j < block.Length; j++)
            {
                int i = block[j];
                p[j] = parameters[i];
                m[j] = expAvg[i];
                v[j] = expAvgSq[i];
                if (AmsGrad)
                {
                    vMax[j] = maxExpAvgSq[i];
                }

                if (HasLazyDecay)
                {
                    skipped[j] = now - 1 - lastSteps[i];
                    lastSteps[i] = now;
                }
            }

            for (int j = 0; j < block.Length; j++)
            {
                if (HasLazyDecay)
                {
                    p[j] = DecayedBy(p[j], kernel.DecayFactor.Scalar, skipped[j]);
                }

                kernel.Apply(ref p[j], gradientValues[start + j], ref m[j], ref v[j], ref vMax[j]);
            }

            for (int j = 0; j < block.Length; j++)
            {
                int i = block[j];
                parameters[i] = p[j];
                expAvg[i] = m[j];
                expAvgSq[i] = v[j];
                if (AmsGrad)
                {
                    maxExpAvgSq[i] = vMax[j];
                }
            }
        }

        state.Step++;
    }

    /// <inheritdoc />
    public void CatchUp(Span<float> parameters, ReadOnlySpan<int> indices, OptimizerState state)
    {
        SparseSteps.CheckCatchUpArguments(this, parameters, indices, state);
        if (!HasLazyDecay)
        {
            return;
        }

        float decayFactor = (float)(1 - state.Scalar(SparseSteps.LazyLearningRateKey) * WeightDecay);
        Span<int> lastSteps = SparseSteps.LastSteps(state);
        int now = (int)state.Step;
        Span<float> p = stackalloc float[SparseSteps.GatherBlock];
        Span<int> skipped = stackalloc int[SparseSteps.GatherBlock];
        for (int start = 0; start < indices.Length; start += SparseSteps.GatherBlock)
        {
            var block = SparseSteps.BlockAt(indices, start);
            for (int j = 0; j < block.Length; j++)
            {
                p[j] = parameters[block[j]];
                skipped[j] = now - lastSteps[block[j]];
                lastSteps[block[j]] = now;
            }

            for (int j = 0; j < block.Length; j++)
            {
                parameters[block[j]] = DecayedBy(p[j], decayFactor, skipped[j]);
            }
        }
    }

    /// <inheritdoc />
    public void Flush(Span<float> parameters, OptimizerState state)
    {
        SparseSteps.CheckState(this, parameters, state);
        if (HasLazyDecay)
        {
            CatchUpDecayAll(parameters, state, state.Scalar(SparseSteps.LazyLearningRateKey));
        }
    }

    private void CatchUpDecayAll(Span<float> parameters, OptimizerState state, double learningRate)
    {
        float decayFactor = (float)(1 - learningRate * WeightDecay);
        Span<int> lastSteps = SparseSteps.LastSteps(state);
        int now = (int)state.Step;
        for (int i = 0; i < parameters.Length; i++)
        {
            parameters[i] = DecayedBy(parameters[i], decayFactor, now - lastSteps[i]);
            lastSteps[i] = now;
        }
    }

    private static float DecayedBy(float parameter, float decayFactor, int skipped) =>
        skipped > 0 ? (float)(parameter * Math.Pow(decayFactor, skipped)) : parameter;
}
