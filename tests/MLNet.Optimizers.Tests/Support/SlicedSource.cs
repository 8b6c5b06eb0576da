using MLNet.Optimizers.Objectives;
using MLNet.Optimizers.Training;

namespace MLNet.Optimizers.Tests.Support;

/// <summary>Serves consecutive slices of in-memory data (its own order; shuffling reverses nothing, it just records the seeds).</summary>
internal sealed class SlicedSource(TrainingData data) : ITrainingBatchSource
{
    public List<int?> ShuffleSeeds { get; } = [];

    public int Passes { get; private set; }

    public int FeatureCount => data.FeatureCount;

    public IEnumerable<TrainingData> ReadBatches(int batchSize, int? shuffleSeed)
    {
        Passes++;
        ShuffleSeeds.Add(shuffleSeed);
        var rows = Enumerable.Range(0, data.RowCount).ToArray();
        for (int start = 0; start < rows.Length; start += batchSize)
        {
            yield return data.Subset(rows.AsSpan(start, Math.Min(batchSize, rows.Length - start)));
        }
    }
}
