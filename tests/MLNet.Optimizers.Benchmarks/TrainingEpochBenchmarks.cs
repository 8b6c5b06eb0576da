using BenchmarkDotNet.Attributes;
using MLNet.Optimizers.Objectives;
using MLNet.Optimizers.Training;

namespace MLNet.Optimizers.Benchmarks;

/// <summary>
/// Time and allocation of training epochs of <see cref="TrainingLoop"/> on dense logistic data (100k rows × 100
/// features; 1M rows with <c>MLNET_OPTIMIZERS_BENCH_FULL=1</c>), mini-batches of 256. One and three epochs are timed so the
/// steady-state cost of an epoch is (three − one) / 2, free of the per-run setup (parameter, gradient and row-order arrays).
/// </summary>
public class TrainingEpochBenchmarks
{
    private const int BatchSize = 256;
    private TrainingData _data = null!;

    /// <summary>The rule.</summary>
    [Params("Sgd momentum", "Adam")]
    public string Rule { get; set; } = "";

    /// <summary>Generates the data once per case.</summary>
    [GlobalSetup]
    public void Setup() => _data = SyntheticData.DenseLogistic(BenchmarkScale.Full ? 1_000_000 : 100_000, 100, seed: 11);

    /// <summary>Mini-batches per epoch, for turning allocation per epoch into allocation per batch.</summary>
    public int BatchesPerEpoch => (_data.RowCount + BatchSize - 1) / BatchSize;

    /// <summary>A run of one epoch.</summary>
    [Benchmark]
    public TrainingResult OneEpoch() => Train(1);

    /// <summary>A run of three epochs.</summary>
    [Benchmark]
    public TrainingResult ThreeEpochs() => Train(3);

    private TrainingResult Train(int epochs)
    {
        IOptimizer optimizer = Rule == "Adam" ? new Adam(learningRate: 0.01) : new Sgd(learningRate: 0.05, momentum: 0.9);
        var options = new TrainingOptions { Optimizer = optimizer, BatchSize = BatchSize, NumberOfEpochs = epochs, L2Regularization = 0, Seed = 1 };
        return new TrainingLoop(new LogisticObjective(), options).Train(_data);
    }
}
