using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using MLNet.Optimizers.Comparison;
using MLNet.Optimizers.Distributed;
using MLNet.Optimizers.Objectives;
using MLNet.Optimizers.Training;

namespace MLNet.Optimizers.Benchmarks;

/// <summary>
/// <c>mpi-scaling</c>, <c>mpi-comparison</c> and <c>mpi-allreduce</c> modes, started under <c>mpirun -np N</c> (mpi-scaling.sh
/// runs N = 1, 2, 4). <c>mpi-scaling</c>: data-parallel L-BFGS on a logistic problem (default 1M rows × 100 features, 20
/// iterations), each rank on every N-th row; rank 0 prints the wall time, the time per objective evaluation and the share of it
/// spent in Allreduce (waiting for the slowest rank included). <c>mpi-comparison</c>: the optimizer comparison with its trials
/// spread over the ranks, timed the same way. <c>mpi-allreduce</c>: the time of one Allreduce of 1 … 2²⁰ doubles, for the
/// α + β·bytes model in docs/distributed.md.
/// </summary>
public static class MpiScaling
{
    /// <summary>Runs one rank of the scaling run.</summary>
    public static void Scaling(int rows, int features, int iterations)
    {
        using var mpi = MpiCommunicator.Initialize();
        var timed = new TimedCommunicator(mpi);

        // Every rank generates the same data set and keeps its rows, so the union is the same whatever the number of ranks.
        TrainingData all = SyntheticData.DenseLogistic(rows, features, seed: 7);
        int[] mine = Enumerable.Range(0, rows).Where(row => row % mpi.Size == mpi.Rank).ToArray();
        TrainingData shard = all.Subset(mine);
        all = null!;
        GC.Collect();

        var loop = new TrainingLoop(new LogisticObjective(), new TrainingOptions
        {
            Optimizer = new Lbfgs(gradientTolerance: 0, changeTolerance: 0), // every run takes all the iterations
            NumberOfEpochs = iterations,
            L2Regularization = 1e-4,
            Communicator = timed,
        });
        mpi.Barrier();
        var watch = Stopwatch.StartNew();
        TrainingResult result = loop.Train(shard);
        double seconds = watch.Elapsed.TotalSeconds;
        double[] allreduceSeconds = mpi.AllGather([timed.AllreduceSeconds]);
        if (mpi.Rank == 0)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"ranks {mpi.Size} ({Environment.ProcessorCount} cores visible): {rows} rows x {features} features, {result.History.Count} iterations, " +
                $"{timed.AllreduceCalls} allreduces, {seconds:F3} s ({1000 * seconds / result.History.Count:F1} ms per iteration), " +
                $"allreduce share {allreduceSeconds.Average() / seconds:P1} (max over ranks {allreduceSeconds.Max() / seconds:P1}), " +
                $"final loss {result.History[^1].TrainingLoss:R}"));
        }
    }

    /// <summary>
    /// Runs one rank of the distributed comparison: the default candidates on a CSV (3 folds, rungs up to
    /// <paramref name="maxEpochs"/> epochs, <paramref name="threads"/> trials at a time on each rank, a budget that never cuts).
    /// Rank 0 prints the preparation (reading the data and building the folds, on every rank), the rungs, the whole run (its
    /// refit of the winner included), and the share of the rungs spent in the exchanges, which is almost all waiting for the
    /// rank with the most work in the rung.
    /// </summary>
    public static void Comparison(string csvPath, int maxEpochs, int threads)
    {
        using var mpi = MpiCommunicator.Initialize();
        var timed = new TimedCommunicator(mpi);
        var mlContext = new MLContext(seed: 1);
        OptimizerComparisonOptions options = CsvDataSet.Inspect(csvPath).CreateComparisonOptions(mlContext);
        options.NumberOfFolds = 3;
        options.MaximumNumberOfEpochs = maxEpochs;
        options.MaxDegreeOfParallelism = threads;
        options.TimeBudget = TimeSpan.FromHours(1);
        options.Communicator = timed;
        // The rungs start where the log announces the first, and end where rank 0 logs the winner it is about to refit; before
        // them every rank reads the data and prepares the folds, the same work on every rank.
        TimeSpan rungsStart = TimeSpan.Zero, rungsEnd = TimeSpan.Zero;
        var watch = new Stopwatch();
        mlContext.Log += (_, e) =>
        {
            if (e.RawMessage.StartsWith("Rung 1/", StringComparison.Ordinal))
            {
                rungsStart = watch.Elapsed;
            }
            else if (e.RawMessage.StartsWith("Best: ", StringComparison.Ordinal))
            {
                rungsEnd = watch.Elapsed;
            }
        };
        mpi.Barrier();
        watch.Start();
        ComparisonResult result = new OptimizerComparison(mlContext).Run(options);
        double seconds = watch.Elapsed.TotalSeconds;
        double[] allreduceSeconds = mpi.AllGather([timed.AllreduceSeconds]);
        if (mpi.Rank == 0)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"ranks {mpi.Size} x {threads} thread(s) ({Environment.ProcessorCount} cores visible): {Path.GetFileName(csvPath)}, " +
                $"{result.Leaderboard.Count} candidates, rungs {string.Join("/", result.RungEpochs)} epochs, {options.NumberOfFolds} folds: " +
                $"preparation {rungsStart.TotalSeconds:F2} s, rungs {(rungsEnd - rungsStart).TotalSeconds:F2} s, whole run {seconds:F2} s, " +
                $"{timed.AllreduceCalls} allreduces taking {allreduceSeconds.Average() / (rungsEnd - rungsStart).TotalSeconds:P1} of the rungs " +
                $"(max over ranks {allreduceSeconds.Max() / (rungsEnd - rungsStart).TotalSeconds:P1}), " +
                $"best {result.Best.Label} {result.Best.PrimaryMetricMean:R}"));
        }
    }

    /// <summary>Times Allreduce of growing sizes (median of repeats) and prints one line per size on rank 0.</summary>
    public static void Allreduce()
    {
        using var mpi = MpiCommunicator.Initialize();
        for (int length = 1; length <= 1 << 20; length *= 4)
        {
            var buffer = new double[length];
            int repeats = Math.Clamp((1 << 22) / length, 5, 1000);
            var times = new double[repeats];
            for (int i = 0; i < repeats; i++)
            {
                mpi.Barrier();
                long started = Stopwatch.GetTimestamp();
                mpi.AllreduceSum(buffer);
                times[i] = Stopwatch.GetElapsedTime(started).TotalSeconds;
            }

            Array.Sort(times);
            if (mpi.Rank == 0)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"ranks {mpi.Size}: allreduce {length} doubles ({length * 8} bytes): median {times[repeats / 2] * 1e6:F1} us"));
            }
        }
    }

    /// <summary>Counts and times the Allreduce calls of the communicator it wraps.</summary>
    private sealed class TimedCommunicator(ICommunicator inner) : ICommunicator
    {
        public int Rank => inner.Rank;

        public int Size => inner.Size;

        public double AllreduceSeconds { get; private set; }

        public int AllreduceCalls { get; private set; }

        public void AllreduceSum(Span<double> values)
        {
            long started = Stopwatch.GetTimestamp();
            inner.AllreduceSum(values);
            AllreduceSeconds += Stopwatch.GetElapsedTime(started).TotalSeconds;
            AllreduceCalls++;
        }

        public void Broadcast(Span<double> values, int root) => inner.Broadcast(values, root);

        public void Barrier() => inner.Barrier();
    }
}
