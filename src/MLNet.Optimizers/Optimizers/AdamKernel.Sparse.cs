namespace MLNet.Optimizers;

/// <summary>Lazy sparse steps shared by <see cref="Adam"/> and <see cref="AdamW"/> (see <see cref="ISparseStepOptimizer"/>).</summary>
/// <remarks>
/// As PyTorch's <c>SparseAdam</c>: only touched coordinates update their moments and parameters, with the bias correction of
/// the global step; untouched moments do not decay (an approximation of dense Adam on zero-filled gradients). AdamW's
/// decoupled decay θ ← θ·(1 − γλ) does act on every coordinate at every step, and is applied exactly, lazily:
/// k skipped steps multiply θ by (1 − γλ)ᵏ (the float factor of the dense step, raised in double). Coordinates are gathered,
/// updated and scattered in blocks (see <see cref="SparseSteps.GatherBlock"/>).
/// </remarks>
internal sealed partial class AdamKernel
{
    /// <summary>True when the decoupled decay must be caught up per coordinate (AdamW with λ ≠ 0).</summary>
    internal bool HasLazyDecay => _decoupledWeightDecay && _weightDecay != 0;

    /// <summary>Creates the state, with lazy step counters when the decay needs them.</summary>
    internal OptimizerState CreateSparseState(FirstOrderOptimizer rule, int parameterCount)
    {
        var state = CreateState(rule, parameterCount);
        return HasLazyDecay ? SparseSteps.AddLazyCounters(state) : state;
    }

    /// <summary>One lazy step over the touched coordinates; the caller checked the arguments and advances <c>state.Step</c>.</summary>
    internal void StepSparse(Span<float> parameters, ReadOnlySpan<int> indices, ReadOnlySpan<float> gradientValues, OptimizerState state,
        double learningRate)
    {
        if (HasLazyDecay && SparseSteps.RateToFlushWith(state, learningRate) is double previousRate)
        {
            CatchUpDecayAll(parameters, state, previousRate);
        }

        var s = new Scalars(this, state, learningRate);
        Span<float> expAvg = state.Vector(ExpAvgKey);
        Span<float> expAvgSq = state.Vector(ExpAvgSqKey);
        Span<float> maxExpAvgSq = _amsGrad ? state.Vector(MaxExpAvgSqKey) : default;
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
                if (s.AmsGrad)
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
                    p[j] = DecayedBy(p[j], s.DecayFactor, skipped[j]);
                }

                UpdateElement(ref p[j], gradientValues[start + j], ref m[j], ref v[j], ref vMax[j], s);
            }

            for (int j = 0; j < block.Length; j++)
            {
                int i = block[j];
                parameters[i] = p[j];
                expAvg[i] = m[j];
                expAvgSq[i] = v[j];
                if (s.AmsGrad)
                {
                    maxExpAvgSq[i] = vMax[j];
                }
            }
        }
    }

    /// <summary>Catches the decay of <paramref name="indices"/> up to the current step.</summary>
    internal void CatchUp(Span<float> parameters, ReadOnlySpan<int> indices, OptimizerState state)
    {
        if (!HasLazyDecay)
        {
            return;
        }

        float decayFactor = (float)(1 - state.Scalar(SparseSteps.LazyLearningRateKey) * _weightDecay);
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

    /// <summary>Catches every coordinate's decay up to the current step.</summary>
    internal void Flush(Span<float> parameters, OptimizerState state)
    {
        if (HasLazyDecay)
        {
            CatchUpDecayAll(parameters, state, state.Scalar(SparseSteps.LazyLearningRateKey));
        }
    }

    private void CatchUpDecayAll(Span<float> parameters, OptimizerState state, double learningRate)
    {
        float decayFactor = (float)(1 - learningRate * _weightDecay);
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
