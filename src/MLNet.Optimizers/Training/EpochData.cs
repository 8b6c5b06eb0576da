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
    /// <paramref name="totalWeight"/>. <paramref name="epoch"/> is the epoch the pass belongs to (named by read errors);
    /// <paramref name="cancellationToken"/> is checked every block of rows, also within one evaluation.</summary>
    public abstract double FullPass(LinearObjective objective, ReadOnlySpan<float> point, Span<float> gradient, bool withGradient,
        int epoch, CancellationToken cancellationToken, out double totalWeight);

    /// <summary>Whether the rows are held in memory, so that one more full pass reads nothing.</summary>
    public abstract bool InMemory { get; }

    /// <summary>One pass over every row, in chunks, for the checks at the end of a run (after epoch <paramref name="epoch"/>).</summary>
    public abstract IEnumerable<TrainingData> Chunks(int epoch);

    /// <summary>The rows' <see cref="DataSummary"/>; by default one pass over <see cref="Chunks"/>.</summary>
    public virtual DataSummary Summary(LinearObjective objective, int epoch)
    {
        var summary = new DataSummary();
        foreach (var chunk in Chunks(epoch))
        {
            summary.Add(objective, chunk);
        }

        return summary;
    }
}
