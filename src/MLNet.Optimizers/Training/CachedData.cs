using MLNet.Optimizers.Objectives;

namespace MLNet.Optimizers.Training;

/// <summary>In-memory data; mini-batches are slices of one row permutation, reshuffled each epoch with the run's generator.</summary>
/// <param name="data">The rows.</param>
/// <param name="shuffle">Whether each epoch reshuffles the permutation (only when there is more than one batch).</param>
/// <param name="random">The run's one generator (shared with the validation split, so a run draws from a single sequence).</param>
internal sealed class CachedData(TrainingData data, bool shuffle, Random random) : EpochData
{
    private readonly int[] _order = (int[])data.AllRows.Clone();

    public override IEnumerable<(TrainingData Data, ArraySegment<int> Rows)> Batches(int epoch, int batchSize)
    {
        int rowCount = _order.Length;
        batchSize = Math.Min(batchSize, rowCount);
        Reshuffle(batchSize);
        for (int start = 0; start < rowCount; start += batchSize)
        {
            yield return (data, new ArraySegment<int>(_order, start, Math.Min(batchSize, rowCount - start)));
        }
    }

    public override void SkipEpochs(int epochs, int batchSize)
    {
        for (int epoch = 1; epoch <= epochs && batchSize > 0; epoch++)
        {
            Reshuffle(Math.Min(batchSize, _order.Length));
        }
    }

    /// <summary>An epoch's permutation: one draw sequence of the run's generator, when shuffling more than one batch.</summary>
    private void Reshuffle(int batchSize)
    {
        if (shuffle && batchSize < _order.Length)
        {
            random.Shuffle(_order);
        }
    }

    public override double FullPass(LinearObjective objective, ReadOnlySpan<float> point, Span<float> gradient, bool withGradient,
        int epoch, CancellationToken cancellationToken, out double totalWeight) =>
        objective.Evaluate(data, data.AllRows, point, gradient, withGradient, out totalWeight, cancellationToken);

    public override bool InMemory => true;

    public override IEnumerable<TrainingData> Chunks(int epoch) => [data];

    /// <summary>Holds out <paramref name="fraction"/> of the rows, drawn with <paramref name="random"/>, as validation data.</summary>
    /// <exception cref="ArgumentException">Either part would have no rows.</exception>
    public static (TrainingData Train, TrainingData Validation) SplitOffValidation(TrainingData data, double fraction, Random random)
    {
        int validationCount = (int)Math.Round(data.RowCount * fraction);
        if (validationCount < 1 || validationCount >= data.RowCount)
        {
            throw new ArgumentException(
                $"ValidationFraction = {fraction} of {data.RowCount} rows gives {validationCount} validation rows; both the training and the validation part need at least one row.",
                nameof(TrainingOptions.ValidationFraction));
        }

        var rows = (int[])data.AllRows.Clone();
        random.Shuffle(rows);
        // Each part keeps the original row order, so a full-batch sum runs in the same order as on unsplit data.
        Array.Sort(rows, 0, validationCount);
        Array.Sort(rows, validationCount, rows.Length - validationCount);
        return (data.Subset(rows.AsSpan(validationCount)), data.Subset(rows.AsSpan(0, validationCount)));
    }
}
