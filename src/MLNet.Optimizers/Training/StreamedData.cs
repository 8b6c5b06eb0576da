using MLNet.Optimizers.Objectives;

namespace MLNet.Optimizers.Training;

/// <summary>A source read again on every pass; each epoch's shuffle seed is derived from the run's seed and the epoch.</summary>
/// <param name="source">The rows.</param>
/// <param name="shuffle">Whether each epoch asks the source to shuffle.</param>
/// <param name="seed">The run's seed.</param>
/// <param name="name">"train" or "validation", for messages.</param>
/// <param name="summarise">The objective with which to gather the <see cref="DataSummary"/> during the first complete pass (so the
/// final check reads nothing more), or null.</param>
internal sealed class StreamedData(ITrainingBatchSource source, bool shuffle, int seed, string name, LinearObjective? summarise = null)
    : EpochData
{
    private DataSummary? _summary;

    public override bool InMemory => false;

    public override IEnumerable<TrainingData> Chunks(int epoch)
    {
        foreach (var chunk in Read(TrainingLoop.StreamingPassRows, shuffleSeed: null, epoch))
        {
            EnsureFeatureCount(chunk);
            yield return chunk;
        }
    }

    /// <summary>The summary gathered during the first complete pass; a pass of its own only if none has completed.</summary>
    public override DataSummary Summary(LinearObjective objective, int epoch) =>
        summarise == objective && _summary is { } summary ? summary : base.Summary(objective, epoch);

    public override IEnumerable<(TrainingData Data, ArraySegment<int> Rows)> Batches(int epoch, int batchSize)
    {
        // A fixed mix (not HashCode, which is randomised per process) so that runs are reproducible across processes.
        int? shuffleSeed = shuffle ? unchecked((seed * -1640531535) + epoch) : null;
        double totalWeight = 0;
        foreach (var batch in Read(batchSize, shuffleSeed, epoch))
        {
            EnsureFeatureCount(batch);
            totalWeight += batch.TotalWeight;
            yield return (batch, new ArraySegment<int>(batch.AllRows));
        }

        EnsurePositiveWeight(totalWeight);
    }

    public override double FullPass(LinearObjective objective, ReadOnlySpan<float> point, Span<float> gradient, bool withGradient,
        int epoch, CancellationToken cancellationToken, out double totalWeight)
    {
        // Σ over chunks of (chunk mean × chunk weight), in double, divided by the total weight at the end.
        double lossSum = 0, weightSum = 0;
        double[] gradientSum = withGradient ? new double[gradient.Length] : [];
        float[] chunkGradient = withGradient ? new float[gradient.Length] : [];
        foreach (var chunk in Read(TrainingLoop.StreamingPassRows, shuffleSeed: null, epoch))
        {
            EnsureFeatureCount(chunk);
            double loss = objective.Evaluate(chunk, chunk.AllRows, point, chunkGradient, withGradient, out double weight, cancellationToken);
            lossSum += loss * weight;
            weightSum += weight;
            for (int i = 0; i < gradientSum.Length; i++)
            {
                gradientSum[i] += chunkGradient[i] * weight;
            }
        }

        EnsurePositiveWeight(weightSum);
        for (int i = 0; i < gradientSum.Length; i++)
        {
            gradient[i] = (float)(gradientSum[i] / weightSum);
        }

        totalWeight = weightSum;
        return lossSum / weightSum;
    }

    /// <summary>
    /// One pass over the source; an <see cref="IOException"/> of the source becomes one naming the epoch (and keeping the
    /// source's message, which names the row), with the original as its inner exception.
    /// </summary>
    private IEnumerable<TrainingData> Read(int batchSize, int? shuffleSeed, int epoch)
    {
        IEnumerator<TrainingData> batches;
        try
        {
            batches = source.ReadBatches(batchSize, shuffleSeed).GetEnumerator();
        }
        catch (IOException e)
        {
            throw InEpoch(e, epoch);
        }

        var summary = summarise is not null && _summary is null ? new DataSummary() : null;
        using (batches)
        {
            while (true)
            {
                bool more;
                try
                {
                    more = batches.MoveNext();
                }
                catch (IOException e)
                {
                    throw InEpoch(e, epoch);
                }

                if (!more)
                {
                    _summary ??= summary;
                    yield break;
                }

                summary?.Add(summarise!, batches.Current);
                yield return batches.Current;
            }
        }
    }

    private IOException InEpoch(IOException fault, int epoch) =>
        new($"Epoch {epoch} (streamed {name} data, read again every epoch): {fault.Message}", fault);

    private void EnsureFeatureCount(TrainingData batch)
    {
        if (batch.FeatureCount != source.FeatureCount)
        {
            throw new InvalidOperationException(
                $"The {name} source declares {source.FeatureCount} features but yielded a batch with {batch.FeatureCount}.");
        }
    }

    private void EnsurePositiveWeight(double totalWeight)
    {
        if (!(totalWeight > 0))
        {
            throw new ArgumentException(
                $"{name} yielded rows whose weights sum to {totalWeight}; at least one row with a positive weight is needed.", name);
        }
    }
}
