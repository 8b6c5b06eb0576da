using System.Globalization;
using System.Runtime.InteropServices;
using MLNet.Optimizers.Objectives;
using MLNet.Optimizers.Training;

namespace MLNet.Optimizers.CheckpointHost;

/// <summary>
/// The fits the checkpoint kill test interrupts: seeded synthetic logistic data, trained cached or streamed with Adam
/// (mini-batches, shuffled) or L-BFGS. Shared by the host (with checkpoints, killed and restarted) and the test (the
/// uninterrupted reference, in its own process).
/// </summary>
public static class CheckpointedFits
{
    /// <summary>The fits, by name: optimizer and data access.</summary>
    public static readonly string[] Names = ["adam-cached", "adam-streamed", "lbfgs-cached", "lbfgs-streamed"];

    /// <summary>Trains fit <paramref name="name"/>, checkpointing into <paramref name="checkpointDirectory"/> when given.</summary>
    /// <param name="name">One of <see cref="Names"/>.</param>
    /// <param name="checkpointDirectory">Where to checkpoint (and resume from), or null.</param>
    /// <param name="onEpochEnd">Called after every epoch (before its checkpoint is written).</param>
    /// <param name="log">Receives the loop's log lines (one of them says when a run resumes).</param>
    public static TrainingResult Train(string name, string? checkpointDirectory, Action<EpochReport>? onEpochEnd = null,
        Action<string>? log = null)
    {
        bool adam = name.StartsWith("adam", StringComparison.Ordinal);
        var options = new TrainingOptions
        {
            Optimizer = adam ? new Adam(learningRate: 0.01) : new Lbfgs(historySize: 3, gradientTolerance: 0, changeTolerance: 0),
            BatchSize = adam ? 50 : 0,
            NumberOfEpochs = 40,
            Seed = 11,
            L2Regularization = 1e-5,
            EarlyStoppingPatience = 50,
            CheckpointDirectory = checkpointDirectory,
            OnEpochEnd = onEpochEnd,
            Log = log,
        };
        var loop = new TrainingLoop(new LogisticObjective(), options);
        TrainingData data = Data();
        return name.EndsWith("streamed", StringComparison.Ordinal)
            ? loop.Train(new ShuffledSource(data))
            : loop.Train(data);
    }

    /// <summary>The parameters and every epoch's losses, step count and learning rate, exactly (not the elapsed times).</summary>
    public static string Describe(TrainingResult result) =>
        "parameters " + Convert.ToHexString(MemoryMarshal.AsBytes(result.Parameters.AsSpan()))
        + " history " + string.Join(",", result.History.Select(report => string.Create(CultureInfo.InvariantCulture,
            $"{report.Epoch}:{report.Steps}:{BitConverter.DoubleToInt64Bits(report.TrainingLoss):X16}:{report.ValidationLoss:R}:{report.LearningRate:R}")))
        + $" best {result.BestEpoch} early {result.StoppedEarly} stop {result.StopReason?.ToString() ?? "none"}";

    /// <summary>2,000 rows × 64 features of scales 1 to 8 (so L-BFGS needs many iterations), labels from a fixed linear rule
    /// with 10% flipped (so no separable optimum).</summary>
    private static TrainingData Data()
    {
        const int Rows = 2000, Features = 64;
        var random = new Random(5);
        var features = new float[Rows * Features];
        var labels = new float[Rows];
        for (int row = 0; row < Rows; row++)
        {
            double score = 0.3;
            for (int j = 0; j < Features; j++)
            {
                float x = (float)((random.NextDouble() * 2 - 1) * (1 + j % 8));
                features[row * Features + j] = x;
                score += x * (j % 3 - 1) / (1 + j % 8);
            }

            labels[row] = (score > 0) ^ (random.NextDouble() < 0.1) ? 1f : 0f;
        }

        return TrainingData.Dense(Features, features, labels, weights: null);
    }

    /// <summary>In-memory rows served as a stream, shuffled with the seed it is given.</summary>
    private sealed class ShuffledSource(TrainingData data) : ITrainingBatchSource
    {
        public int FeatureCount => data.FeatureCount;

        public IEnumerable<TrainingData> ReadBatches(int batchSize, int? shuffleSeed)
        {
            int[] rows = [.. Enumerable.Range(0, data.RowCount)];
            if (shuffleSeed is int seed)
            {
                new Random(seed).Shuffle(rows);
            }

            for (int start = 0; start < rows.Length; start += batchSize)
            {
                yield return data.Subset(rows.AsSpan(start, Math.Min(batchSize, rows.Length - start)));
            }
        }
    }
}
