using System.Diagnostics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using MLNet.Optimizers.Objectives;

namespace MLNet.Optimizers.Benchmarks;

/// <summary>
/// <c>roofline</c> mode: one full-batch loss-and-gradient evaluation of each objective against the roofline of this machine,
/// measured in the same run: <c>max(bytes ÷ read bandwidth, multiply-adds ÷ FMA throughput)</c>, both over every core.
/// Bytes are what one evaluation must read from memory (features, labels); multiply-adds are N·D·K forward (scores) plus
/// N·D·K backward (gradient). The loss is also checked against a plain double-precision evaluation.
/// </summary>
public static class RooflineBenchmark
{
    /// <summary>Measures the machine, then times each case and prints one Markdown table.</summary>
    /// <param name="evaluations">Timed evaluations per case (the fastest and the median are reported).</param>
    /// <param name="only">"softmax" or "logistic" to run those cases only, or null for all.</param>
    public static void Run(int evaluations, string? only)
    {
        double bandwidth = ReadBandwidth();
        double fmaRate = FmaThroughput();
        Console.WriteLine($"Machine: {Environment.ProcessorCount} cores, Vector512 accelerated: {Vector512.IsHardwareAccelerated}; " +
            $"read bandwidth {bandwidth / 1e9:F1} GB/s, FMA throughput {fmaRate / 1e9:F1} G single-precision multiply-adds/s (all cores).");
        Console.WriteLine();
        Console.WriteLine($"| objective | N × D × K | evaluation (fastest / median of {evaluations}) | roofline (bytes, FMA) | fastest ÷ roofline | loss vs double |");
        Console.WriteLine("| --- | --- | ---: | ---: | ---: | ---: |");
        if (only is null or "softmax")
        {
            Case("softmax", 40_000, 784, 10, evaluations, bandwidth, fmaRate);
            Case("softmax", 200_000, 100, 10, evaluations, bandwidth, fmaRate);
        }

        if (only is null or "logistic")
        {
            Case("logistic", 1_000_000, 100, 2, evaluations, bandwidth, fmaRate);
        }
    }

    private static void Case(string name, int rows, int features, int classes, int evaluations, double bandwidth, double fmaRate)
    {
        var problem = TrainingRace.Problem.Generate(rows, features, classes, seed: 21, hiddenSeed: 5);
        var data = problem.ToTrainingData();
        LinearObjective objective = classes == 2 ? new LogisticObjective() : new SoftmaxObjective(classes);
        int outputs = objective.OutputCount;
        var parameters = new float[objective.LayoutFor(data).ParameterCount];
        var random = new Random(3);
        for (int i = 0; i < parameters.Length; i++)
        {
            parameters[i] = (float)((random.NextDouble() - 0.5) * 0.2);
        }

        var gradient = new float[parameters.Length];
        double loss = objective.LossAndGradient(data, parameters, gradient);

        // Warm up past tiered compilation (a pause lets the optimised code be installed), as a training run does after a few evaluations.
        for (int i = 0; i < 10; i++)
        {
            objective.LossAndGradient(data, parameters, gradient);
        }

        Thread.Sleep(500);
        var times = new double[evaluations];
        for (int i = 0; i < times.Length; i++)
        {
            long started = Stopwatch.GetTimestamp();
            objective.LossAndGradient(data, parameters, gradient);
            times[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        }

        Array.Sort(times);
        double bytes = (double)rows * ((features * sizeof(float)) + sizeof(float));
        double multiplyAdds = 2.0 * rows * features * outputs;
        double bytesMs = bytes / bandwidth * 1e3, fmaMs = multiplyAdds / fmaRate * 1e3;
        double roofline = Math.Max(bytesMs, fmaMs);
        var (weights, biases) = (parameters.AsSpan(0, outputs * features).ToArray().Select(v => (double)v).ToArray(),
            parameters.AsSpan(outputs * features).ToArray().Select(v => (double)v).ToArray());
        double reference = problem.Objective(weights, biases, l2: 0);
        Console.WriteLine($"| {name} | {rows:N0} × {features} × {outputs} | {times[0]:F1} / {times[times.Length / 2]:F1} ms | " +
            $"{roofline:F1} ms ({bytesMs:F1}, {fmaMs:F1}) | {times[0] / roofline:F2} | {Math.Abs(loss - reference) / reference:E1} |");
    }

    /// <summary>Bytes per second that every core together reads from a 512 MB array (far beyond the caches); best of 5.</summary>
    private static double ReadBandwidth()
    {
        var values = new float[128 << 20];
        Array.Fill(values, 1f);
        int workers = Environment.ProcessorCount;
        int chunk = values.Length / workers;
        double best = double.MaxValue;
        for (int repeat = 0; repeat < 5; repeat++)
        {
            long started = Stopwatch.GetTimestamp();
            Parallel.For(0, workers, w => TensorPrimitives.Sum(values.AsSpan(w * chunk, chunk)));
            best = Math.Min(best, Stopwatch.GetElapsedTime(started).TotalSeconds);
        }

        return (double)chunk * workers * sizeof(float) / best;
    }

    /// <summary>Single-precision multiply-adds per second on every core: independent FMA chains in registers; best of 5.</summary>
    private static double FmaThroughput()
    {
        const int Iterations = 20_000_000;
        int workers = Environment.ProcessorCount;
        double best = double.MaxValue;
        for (int repeat = 0; repeat < 5; repeat++)
        {
            long started = Stopwatch.GetTimestamp();
            Parallel.For(0, workers, _ => FmaChains(Iterations));
            best = Math.Min(best, Stopwatch.GetElapsedTime(started).TotalSeconds);
        }

        int lanes = Vector512.IsHardwareAccelerated ? Vector512<float>.Count : Vector256<float>.Count;
        return (double)workers * Iterations * 8 * lanes / best;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float FmaChains(int iterations)
    {
        if (Vector512.IsHardwareAccelerated)
        {
            var m = Vector512.Create(0.999999f);
            var (a, b, c, d, e, f, g, h) = (Vector512.Create(1f), Vector512.Create(2f), Vector512.Create(3f), Vector512.Create(4f),
                Vector512.Create(5f), Vector512.Create(6f), Vector512.Create(7f), Vector512.Create(8f));
            for (int i = 0; i < iterations; i++)
            {
                a = Vector512.FusedMultiplyAdd(a, m, m);
                b = Vector512.FusedMultiplyAdd(b, m, m);
                c = Vector512.FusedMultiplyAdd(c, m, m);
                d = Vector512.FusedMultiplyAdd(d, m, m);
                e = Vector512.FusedMultiplyAdd(e, m, m);
                f = Vector512.FusedMultiplyAdd(f, m, m);
                g = Vector512.FusedMultiplyAdd(g, m, m);
                h = Vector512.FusedMultiplyAdd(h, m, m);
            }

            return Vector512.Sum(a + b + c + d + e + f + g + h);
        }

        var m2 = Vector256.Create(0.999999f);
        var (a2, b2, c2, d2, e2, f2, g2, h2) = (Vector256.Create(1f), Vector256.Create(2f), Vector256.Create(3f), Vector256.Create(4f),
            Vector256.Create(5f), Vector256.Create(6f), Vector256.Create(7f), Vector256.Create(8f));
        for (int i = 0; i < iterations; i++)
        {
            a2 = Vector256.FusedMultiplyAdd(a2, m2, m2);
            b2 = Vector256.FusedMultiplyAdd(b2, m2, m2);
            c2 = Vector256.FusedMultiplyAdd(c2, m2, m2);
            d2 = Vector256.FusedMultiplyAdd(d2, m2, m2);
            e2 = Vector256.FusedMultiplyAdd(e2, m2, m2);
            f2 = Vector256.FusedMultiplyAdd(f2, m2, m2);
            g2 = Vector256.FusedMultiplyAdd(g2, m2, m2);
            h2 = Vector256.FusedMultiplyAdd(h2, m2, m2);
        }

        return Vector256.Sum(a2 + b2 + c2 + d2 + e2 + f2 + g2 + h2);
    }
}
