namespace MLNet.Optimizers.Benchmarks;

/// <summary>
/// Data sizes of the training benchmarks: scaled down by default so the short job takes minutes; the full sizes
/// when the environment variable <c>MLNET_OPTIMIZERS_BENCH_FULL=1</c> is set.
/// </summary>
public static class BenchmarkScale
{
    /// <summary>True when the full sizes were asked for.</summary>
    public static bool Full { get; } = Environment.GetEnvironmentVariable("MLNET_OPTIMIZERS_BENCH_FULL") == "1";

    /// <summary>Rows of the hashed-text (sparse) data: 500k in full, 100k by default.</summary>
    public static int SparseRows => Full ? 500_000 : 100_000;
}
