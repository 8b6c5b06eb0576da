using System.Diagnostics;
using System.Globalization;
using MLNet.Optimizers.Distributed;
using MLNet.Optimizers.Objectives;
using MLNet.Optimizers.Training;

namespace MLNet.Optimizers.Benchmarks;

/// <summary>
/// <c>mpi-scaling</c> and <c>mpi-allreduce</c> modes, started under <c>mpirun -np N</c> (scripts/mpi-scaling.sh runs N = 1, 2, 4).
/// <c>mpi-scaling</c>: data-parallel L-BFGS on a logistic problem (default 1M rows × 100 features, 20 iterations), each rank on
/// every N-th row; rank 0 prints the wall time, the time per objective evaluation and the share of it spent in Allreduce
/// (waiting for the slowest rank included). <c>mpi-allreduce</c>: the time of one Allreduce of 1 … 2²⁰ doubles, for the
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
