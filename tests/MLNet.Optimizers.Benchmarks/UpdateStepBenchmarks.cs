using BenchmarkDotNet.Attributes;

namespace MLNet.Optimizers.Benchmarks;

/// <summary>
/// One update step of every rule over 1M and 16M parameters, beside copy and triad baselines measured in the same run,
/// so <see cref="BandwidthFloorColumn"/> can report each rule's distance from the memory-bandwidth floor.
/// </summary>
public class UpdateStepBenchmarks
{
    private Action _step = () => { };

    /// <summary>The number of parameters (1M fits the last-level cache only partly; 16M is far out of it).</summary>
    [Params(1 << 20, 1 << 24)]
    public int Parameters { get; set; }

    /// <summary>The loop to time.</summary>
    [ParamsSource(nameof(Kernels))]
    public UpdateKernel Kernel { get; set; } = null!;

    /// <summary>Every kernel, baselines first.</summary>
    public static IEnumerable<UpdateKernel> Kernels() => UpdateKernel.All();

    /// <summary>Allocates the vectors and state for this case.</summary>
    [GlobalSetup]
    public void Setup() => _step = Kernel.Prepare(Parameters);

    /// <summary>Drops the vectors so the next case starts with a clean heap.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _step = () => { };
        GC.Collect();
    }

    /// <summary>One pass of the kernel over every parameter.</summary>
    [Benchmark]
    public void Step() => _step();
}
