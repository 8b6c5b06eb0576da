using MLNet.Optimizers.Objectives;

namespace MLNet.Optimizers.Training;

/// <summary>
/// This rank's shard seen as the whole data set: every full pass (full-batch step, L-BFGS evaluation, validation loss) is the
/// rank's own pass followed by one <see cref="GradientAllreduce"/>, so the loop above it runs unchanged and every rank gets the
/// same loss and gradient. Mini-batches stay local; <see cref="FirstOrderEpoch"/> reduces each batch's gradient itself.
/// </summary>
internal sealed class ShardedData(EpochData shard, GradientAllreduce reduction) : EpochData
{
    /// <summary>The reduction shared with the mini-batch steps.</summary>
    public GradientAllreduce Reduction => reduction;

    /// <summary>The rank's own mini-batches; <see cref="FirstOrderEpoch"/> reduces the gradient of each.</summary>
    public override IEnumerable<(TrainingData Data, ArraySegment<int> Rows)> Batches(int epoch, int batchSize) => shard.Batches(epoch, batchSize);

    public override double FullPass(LinearObjective objective, ReadOnlySpan<float> point, Span<float> gradient, bool withGradient,
        int epoch, CancellationToken cancellationToken, out double totalWeight)
    {
        double loss = 0, weight = 0;
        if (!reduction.LocallyCancelled)
        {
            loss = shard.FullPass(objective, point, gradient, withGradient, epoch, cancellationToken, out weight);
        }

        return reduction.Reduce(loss, weight, withGradient ? gradient : default, hasRows: true, out totalWeight, out _);
    }

    public override bool InMemory => shard.InMemory;

    /// <summary>This rank's rows only (the final check reduces what it needs across the ranks itself).</summary>
    public override IEnumerable<TrainingData> Chunks(int epoch) => shard.Chunks(epoch);

    public override DataSummary Summary(LinearObjective objective, int epoch) => shard.Summary(objective, epoch);
}
