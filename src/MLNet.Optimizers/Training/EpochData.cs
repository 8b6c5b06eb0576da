using MLNet.Optimizers.Objectives;

namespace MLNet.Optimizers.Training;

/// <summary>Where the epochs read their rows: data held in memory (<see cref="CachedData"/>), or a source read again on every
/// pass (<see cref="StreamedData"/>).</summary>
internal abstract class EpochData
{
    /// <summary>One epoch's mini-batches: the data holding each batch and the batch's row indices into it.</summary>
    public abstract IEnumerable<(TrainingData Data, ArraySegment<int> Rows)> Batches(int epoch, int batchSize);

    /// <summary>The weighted mean loss over every row and, when <paramref name="withGradient"/>, its gradient; Σwᵢ in
    /// <paramref name="totalWeight"/>. <paramref name="epoch"/> is the epoch the pass belongs to (named by read errors);
    /// <paramref name="cancellationToken"/> is checked every block of rows, also within one evaluation.</summary>
    public abstract double FullPass(LinearObjective objective, ReadOnlySpan<float> point, Span<float> gradient, bool withGradient,
        int epoch, CancellationToken cancellationToken, out double totalWeight);
}
