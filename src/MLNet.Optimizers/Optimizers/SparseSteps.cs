using MLNet.Optimizers.Internal;
using System.Runtime.InteropServices;

namespace MLNet.Optimizers;

/// <summary>
/// Helpers shared by the <see cref="ISparseStepOptimizer"/> rules: argument checks and the bookkeeping of the lazy
/// catch-up (per-coordinate last-updated steps, and the learning rate of the current lazy interval).
/// </summary>
internal static class SparseSteps
{
    /// <summary>
    /// State vector holding, per coordinate, the step through which it is up to date. The values are int32 step numbers
    /// stored in the float vector's bits (read through <see cref="LastSteps"/>), so the state keeps one vector type and
    /// <see cref="OptimizerState.Save"/> stays bit-exact.
    /// </summary>
    internal const string LastStepKey = "last_step";

    /// <summary>State scalar: the learning rate used since the last full flush; catch-up assumes it for every skipped step.</summary>
    internal const string LazyLearningRateKey = "lazy_learning_rate";

    /// <summary>
    /// Touched coordinates are processed in blocks of this many: first every state value of the block is gathered into
    /// stack buffers (a short loop of independent loads, so many cache misses are in flight at once), then the update runs
    /// on the buffers, then the results are scattered back. Updating in place coordinate by coordinate lets the long
    /// update (square roots, divisions, powers) fill the out-of-order window, and at large dimensions each coordinate's
    /// misses were then taken nearly one at a time. The arithmetic is the same, so results are unchanged.
    /// </summary>
    internal const int GatherBlock = 64;

    /// <summary>The block of up to <see cref="GatherBlock"/> touched coordinates that starts at <paramref name="start"/>.</summary>
    internal static ReadOnlySpan<int> BlockAt(ReadOnlySpan<int> indices, int start) =>
        indices.Slice(start, Math.Min(GatherBlock, indices.Length - start));

    /// <summary>Adds the counters (all at step 0) and the lazy-interval learning rate to a fresh state.</summary>
    internal static OptimizerState AddLazyCounters(OptimizerState state)
    {
        state.AddVector(LastStepKey);
        state.SetScalar(LazyLearningRateKey, 0);
        return state;
    }

    /// <summary>The per-coordinate last-updated steps.</summary>
    internal static Span<int> LastSteps(OptimizerState state)
    {
        EnsureCounters(state);
        return MemoryMarshal.Cast<float, int>(state.Vector(LastStepKey).AsSpan());
    }

    /// <summary>The number of the step about to be taken, as an int (the counters' type).</summary>
    internal static int NextStep(OptimizerState state) =>
        state.Step < int.MaxValue
            ? (int)state.Step + 1
            : throw new InvalidOperationException($"Lazy sparse steps count up to {int.MaxValue} steps; this state is at step {state.Step}.");

    /// <summary>
    /// Records <paramref name="learningRate"/> as the lazy interval's rate and returns the previous one when it differs
    /// (then the caller must first catch every coordinate up with that previous rate), or null.
    /// </summary>
    internal static double? RateToFlushWith(OptimizerState state, double learningRate)
    {
        EnsureCounters(state);
        double previous = state.Scalar(LazyLearningRateKey);
        state.SetScalar(LazyLearningRateKey, learningRate);
        return state.Step > 0 && previous != learningRate ? previous : null;
    }

    /// <summary>Checks everything <see cref="ISparseStepOptimizer.StepSparse"/> is given; throws naming the bad argument.</summary>
    internal static void CheckArguments(FirstOrderOptimizer rule, ReadOnlySpan<float> parameters,
        ReadOnlySpan<int> indices, ReadOnlySpan<float> gradientValues, OptimizerState state, double learningRate)
    {
        CheckState(rule, parameters, state);
        Check.NonNegative(learningRate);
        if (gradientValues.Length != indices.Length)
        {
            throw new ArgumentException(
                $"gradientValues has {gradientValues.Length} elements but indices has {indices.Length}; they must be equal.", nameof(gradientValues));
        }

        CheckIndices(parameters.Length, indices);
    }

    /// <summary>Checks everything <see cref="ISparseStepOptimizer.CatchUp"/> is given; throws naming the bad argument.</summary>
    internal static void CheckCatchUpArguments(FirstOrderOptimizer rule, ReadOnlySpan<float> parameters, ReadOnlySpan<int> indices,
        OptimizerState state)
    {
        CheckState(rule, parameters, state);
        CheckIndices(parameters.Length, indices);
    }

    /// <summary>Checks that <paramref name="state"/> is this rule's state for <paramref name="parameters"/> (all
    /// <see cref="ISparseStepOptimizer.Flush"/> needs).</summary>
    internal static void CheckState(FirstOrderOptimizer rule, ReadOnlySpan<float> parameters, OptimizerState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        state.EnsureMatches(rule.Name, parameters.Length);
    }

    /// <summary>Throws unless <paramref name="indices"/> are strictly increasing and in [0, <paramref name="length"/>).</summary>
    internal static void CheckIndices(int length, ReadOnlySpan<int> indices)
    {
        int previous = -1;
        foreach (int index in indices)
        {
            if (index <= previous || index >= length)
            {
                throw new ArgumentException(
                    $"indices must be strictly increasing and in [0, {length}); got {index} after {previous}.", nameof(indices));
            }

            previous = index;
        }
    }

    /// <summary>The exception for a configuration that cannot step lazily; <paramref name="reason"/> says why and what to use instead.</summary>
    internal static NotSupportedException Unsupported(FirstOrderOptimizer rule, string reason) =>
        new($"{rule} cannot take lazy sparse steps: {reason}");

    /// <summary>
    /// True when a lazy rule moves coordinates during the steps that skip them (SGD momentum drift, AdamW decay), so a
    /// caller that reads some parameters between steps (a forward pass) must first <see cref="ISparseStepOptimizer.CatchUp"/>
    /// them; for other rules that is a no-op and can be skipped.
    /// </summary>
    internal static bool MovesSkippedCoordinates(ISparseStepOptimizer rule) => rule switch
    {
        Sgd sgd => sgd.Momentum != 0,
        Adam adam => adam.HasLazyDecay,
        _ => false,
    };

    /// <summary>Why coupled weight decay rules out lazy steps, and what to do instead.</summary>
    internal static string CoupledDecayReason(double weightDecay) =>
        $"weightDecay = {weightDecay} adds λ·θ to every coordinate's gradient at every step; use weightDecay = 0 (put L2 in the objective) or dense steps.";

    private static void EnsureCounters(OptimizerState state)
    {
        if (!state.VectorNames.Contains(LastStepKey))
        {
            throw new ArgumentException(
                $"This {state.OptimizerName} state has no lazy step counters; create it with CreateSparseState to use StepSparse and Flush.", "state");
        }
    }
}
