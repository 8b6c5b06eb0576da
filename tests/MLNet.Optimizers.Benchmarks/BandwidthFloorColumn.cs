using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace MLNet.Optimizers.Benchmarks;

/// <summary>
/// Columns of the update-step table derived from the measured mean: nanoseconds per parameter, and the ratio to the
/// bandwidth floor, (bytes the kernel must move per parameter) ÷ (triad bandwidth measured for the same length in the
/// same run). A ratio of 1.0 means the kernel moves its bytes as fast as the triad moves its own.
/// </summary>
public sealed class BandwidthFloorColumn : IColumn
{
    private readonly bool _ratio;

    private BandwidthFloorColumn(bool ratio) => _ratio = ratio;

    /// <summary>Nanoseconds per parameter.</summary>
    public static IColumn NanosecondsPerParameter { get; } = new BandwidthFloorColumn(ratio: false);

    /// <summary>Measured time ÷ floor time.</summary>
    public static IColumn RatioToFloor { get; } = new BandwidthFloorColumn(ratio: true);

    /// <inheritdoc />
    public string Id => _ratio ? "RatioToFloor" : "NsPerParameter";

    /// <inheritdoc />
    public string ColumnName => _ratio ? "x floor" : "ns/param";

    /// <inheritdoc />
    public bool AlwaysShow => true;

    /// <inheritdoc />
    public ColumnCategory Category => ColumnCategory.Custom;

    /// <inheritdoc />
    public int PriorityInCategory => _ratio ? 1 : 0;

    /// <inheritdoc />
    public bool IsNumeric => true;

    /// <inheritdoc />
    public UnitType UnitType => UnitType.Dimensionless;

    /// <inheritdoc />
    public string Legend => _ratio
        ? "time ÷ (bytes per parameter ÷ triad bandwidth of the same length, same run); target ≤ 1.3"
        : "mean time per parameter, in nanoseconds";

    /// <inheritdoc />
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

    /// <inheritdoc />
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        if (NanosecondsPerElement(summary, benchmarkCase) is not { } nanoseconds || Kernel(benchmarkCase) is not { } kernel)
        {
            return "-";
        }

        if (!_ratio)
        {
            return nanoseconds.ToString("0.000");
        }

        var triad = summary.BenchmarksCases.FirstOrDefault(c =>
            Kernel(c)?.Name == UpdateKernel.TriadName && Equals(Length(c), Length(benchmarkCase)));
        if (triad is null || NanosecondsPerElement(summary, triad) is not { } triadNanoseconds)
        {
            return "-";
        }

        double triadBytesPerNanosecond = Kernel(triad)!.BytesPerParameter / triadNanoseconds;
        double floorNanoseconds = kernel.BytesPerParameter / triadBytesPerNanosecond;
        return (nanoseconds / floorNanoseconds).ToString("0.00");
    }

    /// <inheritdoc />
    public bool IsAvailable(Summary summary) => summary.BenchmarksCases.Any(c => Kernel(c) is not null);

    /// <inheritdoc />
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    /// <inheritdoc />
    public override string ToString() => ColumnName;

    private static UpdateKernel? Kernel(BenchmarkCase benchmarkCase) =>
        benchmarkCase.Parameters.Items.FirstOrDefault(p => p.Value is UpdateKernel)?.Value as UpdateKernel;

    private static object? Length(BenchmarkCase benchmarkCase) =>
        benchmarkCase.Parameters.Items.FirstOrDefault(p => p.Name == nameof(UpdateStepBenchmarks.Parameters))?.Value;

    private static double? NanosecondsPerElement(Summary summary, BenchmarkCase benchmarkCase) =>
        summary[benchmarkCase]?.ResultStatistics?.Mean is { } mean && Length(benchmarkCase) is int length
            ? mean / length
            : null;
}
