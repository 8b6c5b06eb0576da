namespace MLNet.Optimizers.Schedules;

/// <summary>How <see cref="OneCycle"/> moves between two learning rates within a phase (PyTorch's <c>anneal_strategy</c>).</summary>
public enum AnnealingStrategy
{
    /// <summary>Half a cosine: <c>end + (start − end)·(1 + cos(π·p))/2</c> for phase progress p ∈ [0, 1] (PyTorch <c>'cos'</c>).</summary>
    Cosine,

    /// <summary>A straight line: <c>start + (end − start)·p</c> (PyTorch <c>'linear'</c>).</summary>
    Linear,
}
