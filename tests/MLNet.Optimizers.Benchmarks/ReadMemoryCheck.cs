using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.Optimizers.Tests.Support;
using MLNet.Optimizers.Trainers;

namespace MLNet.Optimizers.Benchmarks;

/// <summary>
/// <c>read-memory</c> mode: the peak working set of a cached <c>Fit</c> (one epoch) over 2M × 50 dense floats, once from a
/// view that reports its row count and once from one that does not (<c>LoadFromEnumerable</c> over a lazy sequence, as
/// with <c>TextLoader</c> and most transforms). Each case runs in its own process, since a process's peak only grows.
/// </summary>
public static class ReadMemoryCheck
{
    private const int Features = 50;

    private static int Rows => BenchmarkScale.Full ? 2_000_000 : 500_000;

    /// <summary>Runs both cases in child processes and prints one Markdown table.</summary>
    public static void Run()
    {
        Console.WriteLine("| rows × features | row count | cached data | peak − before | ÷ cached data |");
        Console.WriteLine("| --- | --- | ---: | ---: | ---: |");
        foreach (string rowCount in new[] { "known", "unknown" })
        {
            var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true };
            if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
            {
                start.ArgumentList.Add(typeof(ReadMemoryCheck).Assembly.Location);
            }

            start.ArgumentList.Add("read-memory-case");
            start.ArgumentList.Add(rowCount);
            using var child = Process.Start(start)!;
            Console.Write(child.StandardOutput.ReadToEnd());
            child.WaitForExit();
        }
    }

    /// <summary>One case: <paramref name="rowCount"/> is "known" or "unknown"; prints one table row.</summary>
    public static void RunCase(string rowCount)
    {
        var context = new MLContext(seed: 1);
        var trainer = context.BinaryClassification.Trainers.LogisticRegression(
            new LogisticRegressionTrainer.Options { Optimizer = new Adam(0.01), BatchSize = 256, NumberOfEpochs = 1 });
        trainer.Fit(context.Data.LoadFromEnumerable(Generate(1000))); // JIT and ML.NET's own start-up, outside the measurement

        GC.Collect();
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        long before = process.WorkingSet64;
        IDataView data = context.Data.LoadFromEnumerable(Generate(Rows));
        trainer.Fit(rowCount == "known" ? new KnownRowCountView(data, Rows) : data);
        process.Refresh();
        long peak = process.PeakWorkingSet64;
        long cachedBytes = (long)Rows * (Features + 1) * sizeof(float);
        Console.WriteLine($"| {Rows:N0} × {Features} | {rowCount} | {Mb(cachedBytes)} | {Mb(peak - before)} | {(double)(peak - before) / cachedBytes:F2} |");
    }

    /// <summary>Rows made on the fly (a lazy sequence, so the source holds nothing and reports no row count).</summary>
    private static IEnumerable<Row> Generate(int rows)
    {
        var random = new Random(3);
        for (int i = 0; i < rows; i++)
        {
            float[] x = new float[Features];
            for (int j = 0; j < Features; j++)
            {
                x[j] = (float)(random.NextDouble() * 2 - 1);
            }

            yield return new Row { Features = x, Label = x[0] + x[1] > 0 };
        }
    }

    private static string Mb(long bytes) => $"{bytes / 1048576.0:F0} MiB";

    private sealed class Row
    {
        public bool Label { get; set; }

        [VectorType(ReadMemoryCheck.Features)]
        public float[] Features { get; set; } = [];
    }

}
