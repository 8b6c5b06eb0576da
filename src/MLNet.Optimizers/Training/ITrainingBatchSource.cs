using MLNet.Optimizers.Objectives;

namespace MLNet.Optimizers.Training;

/// <summary>
/// Data that is read again on every pass instead of being held in memory: <see cref="TrainingLoop.Train(ITrainingBatchSource, ITrainingBatchSource?, ReadOnlySpan{float})"/>
/// asks for one pass per epoch (and one per objective evaluation with L-BFGS, one per validation), so memory is bounded by one batch.
/// </summary>
public interface ITrainingBatchSource
{
    /// <summary>D, the number of features of every row.</summary>
    int FeatureCount { get; }

    /// <summary>
    /// One pass over every row, as consecutive batches of <paramref name="batchSize"/> rows (the last may be shorter). Each batch
    /// is needed only until the next one is requested. Every pass must yield the same rows; the order may differ only when
    /// <paramref name="shuffleSeed"/> is given.
    /// </summary>
    /// <param name="batchSize">Rows per batch; at least 1.</param>
    /// <param name="shuffleSeed">When set, the source shuffles the row order with this seed if it can (the same seed must give the
    /// same order); null keeps the source's own order.</param>
    /// <returns>The batches, in order.</returns>
    IEnumerable<TrainingData> ReadBatches(int batchSize, int? shuffleSeed);
}
