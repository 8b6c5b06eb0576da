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
// ML.NET's trainers, `race-lbfgs` only the L-BFGS ones at the sizes (see TrainingRace); `roofline [evaluations] [softmax|logistic]` times
// full-batch objective evaluations against the machine's roofline (see RooflineBenchmark); `comparison [rows…]` times the default
// optimizer comparison per rung and `comparison-profile` splits one of its trials (see ComparisonSpeed).
// `mpi-scaling`, `mpi-comparison CSV [max epochs] [threads]` and `mpi-allreduce`, under mpirun, the data-parallel scaling runs
// (see MpiScaling and mpi-scaling.sh).
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

if (args is ["comparison", ..])
{
    ComparisonSpeed.Run([.. args.Skip(1).Select(a => int.Parse(a, System.Globalization.CultureInfo.InvariantCulture))]);
    return;
}

if (args is ["comparison-profile", ..])
{
    ComparisonSpeed.Profile();
    return;
}

if (args is ["race-profile", ..])
{
    TrainingRace.Profile(args.Length > 1 ? args[1] : null);
    return;
}

if (args is ["mpi-scaling", ..])
{
    int Argument(int index, int fallback) => args.Length > index ? int.Parse(args[index], System.Globalization.CultureInfo.InvariantCulture) : fallback;
    MpiScaling.Scaling(rows: Argument(1, 1_000_000), features: Argument(2, 100), iterations: Argument(3, 20));
    return;
}

if (args is ["mpi-comparison", var csvPath, ..])
{
    int Argument(int index, int fallback) => args.Length > index ? int.Parse(args[index], System.Globalization.CultureInfo.InvariantCulture) : fallback;
    MpiScaling.Comparison(csvPath, maxEpochs: Argument(2, 27), threads: Argument(3, 1));
    return;
}

if (args is ["mpi-allreduce", ..])
{
    MpiScaling.Allreduce();
    return;
}

if (args is ["roofline", ..])
{
    RooflineBenchmark.Run(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 10,
        args.Length > 2 ? args[2] : null);
    return;
}

if (args is ["race-lbfgs", ..])
{
    TrainingRace.RaceLbfgs(args.Length > 1 ? args[1] : null);
    return;
}

if (args is ["race", ..])
{
    TrainingRace.Run(args.Length > 1 ? args[1] : null);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(UpdateStepBenchmarks).Assembly).Run(args, config);
