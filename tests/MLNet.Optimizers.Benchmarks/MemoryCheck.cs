using System.Diagnostics;
using MLNet.Optimizers.Objectives;
using MLNet.Optimizers.Training;

namespace MLNet.Optimizers.Benchmarks;

/// <summary>
/// <c>memory</c> mode: trains Adam for a few epochs on dense logistic data and prints the peak working set against the
/// cached data plus optimizer state, and the bytes allocated per epoch and per batch in steady state.
/// </summary>
public static class MemoryCheck
{
    /// <summary>Runs the check and prints one Markdown table.</summary>
    public static void Run()
    {
        int rows = BenchmarkScale.Full ? 1_000_000 : 200_000;
        const int features = 100, batchSize = 256, epochs = 3;
        using var process = Process.GetCurrentProcess();
        long baseline = process.WorkingSet64;
        var data = SyntheticData.DenseLogistic(rows, features, seed: 11);
        long dataBytes = (long)rows * features * sizeof(float) + rows * sizeof(float);
        int parameterCount = features + 1;
        // Adam: exp_avg and exp_avg_sq; the loop adds parameters, gradient, evaluation point and the row order.
        long stateBytes = 2L * parameterCount * sizeof(float);

        var allocatedAtEpochEnd = new List<long>();
        var options = new TrainingOptions
        {
            Optimizer = new Adam(learningRate: 0.01),
            BatchSize = batchSize,
            NumberOfEpochs = epochs,
            L2Regularization = 0,
            Seed = 1,
            OnEpochEnd = _ => allocatedAtEpochEnd.Add(GC.GetTotalAllocatedBytes(precise: true)),
        };
        new TrainingLoop(new LogisticObjective(), options).Train(data);
        GC.KeepAlive(data);
        process.Refresh();
        long peak = process.PeakWorkingSet64;
        long perEpoch = allocatedAtEpochEnd[^1] - allocatedAtEpochEnd[^2];
        int batches = (rows + batchSize - 1) / batchSize;

        Console.WriteLine($"| rows × features | cached data | optimizer state | working set before data | peak working set | peak − before ÷ (data + state) | allocated per epoch (steady, all threads) | per batch |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        Console.WriteLine(
            $"| {rows:N0} × {features} | {Mb(dataBytes)} | {stateBytes:N0} B | {Mb(baseline)} | {Mb(peak)} | {(double)(peak - baseline) / (dataBytes + stateBytes):F2} | {perEpoch:N0} B | {(double)perEpoch / batches:F1} B |");
    }

    private static string Mb(long bytes) => $"{bytes / 1048576.0:F1} MiB";
}
