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

    /// <summary>What a checkpoint keeps: the best loss, the epochs since it, the best epoch and its parameters (when kept).</summary>
    public Snapshot Save() => new(_best, _epochsWithoutImprovement, BestEpoch, BestParameters is null ? null : (float[])BestParameters.Clone());

    /// <summary>Continues from a checkpoint's <see cref="Snapshot"/> of a run with the same settings.</summary>
    /// <exception cref="InvalidDataException">The snapshot keeps best parameters and this run does not, or the other way round,
    /// or their lengths differ.</exception>
    public void Restore(Snapshot snapshot)
    {
        if ((snapshot.BestParameters is null) != (BestParameters is null) || snapshot.BestParameters?.Length != BestParameters?.Length)
        {
            throw new InvalidDataException(
                $"The checkpoint's early-stopping state {(snapshot.BestParameters is null ? "keeps no" : $"keeps {snapshot.BestParameters.Length}")} " +
                $"best parameters; this run {(BestParameters is null ? "keeps none" : $"keeps {BestParameters.Length}")}.");
        }

        _best = snapshot.Best;
        _epochsWithoutImprovement = snapshot.EpochsWithoutImprovement;
        BestEpoch = snapshot.BestEpoch;
        snapshot.BestParameters?.CopyTo(BestParameters!, 0);
    }

    /// <summary>The early-stopping state at an epoch's end.</summary>
    /// <param name="Best">The best monitored loss so far (+∞ before the first epoch).</param>
    /// <param name="EpochsWithoutImprovement">Epochs since it improved.</param>
    /// <param name="BestEpoch">The epoch of the best loss; 0 before the first improvement.</param>
    /// <param name="BestParameters">The parameters of that epoch, when kept.</param>
    public sealed record Snapshot(double Best, int EpochsWithoutImprovement, int BestEpoch, float[]? BestParameters);
}
