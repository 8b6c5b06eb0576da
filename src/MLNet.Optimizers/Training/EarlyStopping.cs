namespace MLNet.Optimizers.Training;

/// <summary>
/// Tracks the best monitored loss, the epochs since it improved by more than the tolerance, and optionally the parameters of
/// the best epoch.
/// </summary>
/// <param name="tolerance">The improvement that counts: the loss must fall below best − tolerance.</param>
/// <param name="patience">Epochs without improvement after which to stop; null never stops.</param>
/// <param name="keepBest">Whether to copy the parameters of each new best epoch.</param>
/// <param name="parameterCount">The length of the parameter vector.</param>
internal sealed class EarlyStopping(double tolerance, int? patience, bool keepBest, int parameterCount)
{
    private double _best = double.PositiveInfinity;
    private int _epochsWithoutImprovement;

    /// <summary>The parameters of the best epoch so far, when kept.</summary>
    public float[]? BestParameters { get; } = keepBest ? new float[parameterCount] : null;

    /// <summary>The epoch (from 1) with the best monitored loss so far; 0 before the first improvement.</summary>
    public int BestEpoch { get; private set; }

    /// <summary>Records an epoch's monitored loss at <paramref name="evaluationPoint"/>; returns true when patience has run out.</summary>
    public bool Observe(int epoch, double monitored, ReadOnlySpan<float> evaluationPoint)
    {
        if (monitored < _best - tolerance)
        {
            _best = monitored;
            BestEpoch = epoch;
            _epochsWithoutImprovement = 0;
            if (BestParameters is not null)
            {
                evaluationPoint.CopyTo(BestParameters);
            }
        }
        else
        {
            _epochsWithoutImprovement++;
        }

        return patience is int epochs && _epochsWithoutImprovement >= epochs;
    }
}
