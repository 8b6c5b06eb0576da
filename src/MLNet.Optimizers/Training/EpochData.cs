using MLNet.Optimizers.Objectives;

namespace MLNet.Optimizers.Training;

/// <summary>Where the epochs read their rows: data held in memory (<see cref="CachedData"/>), or a source read again on every
/// pass (<see cref="StreamedData"/>).</summary>
internal abstract class EpochData
{
    /// <summary>One epoch's mini-batches: the data holding each batch and the batch's row indices into it.</summary>
    public abstract IEnumerable<(TrainingData Data, ArraySegment<int> Rows)> Batches(int epoch, int batchSize);

    /// <summary>Brings the data to where it is after <paramref name="epochs"/> epochs of <see cref="Batches"/> without reading
    /// them (a run resumed from a checkpoint): in-memory data draws the same permutations again; nothing else keeps a
    /// position.</summary>
    public virtual void SkipEpochs(int epochs, int batchSize)
    {
    }

    /// <summary>The weighted mean loss over every row and, when <paramref name="withGradient"/>, its gradient; Σwᵢ in
    /// <paramref name="totalWeight"/>.</summary>
    public abstract double FullPass(LinearObjective objective, ReadOnlySpan<float> point, Span<float> gradient, bool withGradient,
        out double totalWeight);
}
