using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using MLNet.Optimizers.Benchmarks;

// A short job by default (one in-process launch, few iterations) so a full run takes minutes; pass BenchmarkDotNet's own
// options (e.g. --job Medium, --filter '*UpdateStep*') to change it. Never run in CI: CI only builds this project.
// `memory` as the first argument runs the peak-memory check instead (see MemoryCheck), `read-memory` the peak of reading data of
// known and unknown length (see ReadMemoryCheck); `race` runs the comparison with
// ML.NET's trainers (see TrainingRace).
var shortJob = Job.Default
    .WithToolchain(InProcessEmitToolchain.Instance)
    .WithLaunchCount(1)
    .WithWarmupCount(2)
    .WithIterationCount(5)
    .WithIterationTime(Perfolizer.Horology.TimeInterval.FromMilliseconds(200))
    .WithId("Short");

var config = ManualConfig.Create(DefaultConfig.Instance)
    .AddJob(shortJob)
    .AddDiagnoser(MemoryDiagnoser.Default)
    .AddColumn(BandwidthFloorColumn.NanosecondsPerParameter, BandwidthFloorColumn.RatioToFloor)
    .HideColumns(Column.Error, Column.StdDev);

if (args is ["memory", ..])
{
    MemoryCheck.Run();
    return;
}

if (args is ["read-memory", ..])
{
    ReadMemoryCheck.Run();
    return;
}

if (args is ["read-memory-case", var rowCount, ..])
{
    ReadMemoryCheck.RunCase(rowCount);
    return;
}

if (args is ["race-profile", ..])
{
    TrainingRace.Profile(args.Length > 1 ? args[1] : null);
    return;
}

if (args is ["race", ..])
{
    TrainingRace.Run(args.Length > 1 ? args[1] : null);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(UpdateStepBenchmarks).Assembly).Run(args, config);
