using MLNet.Optimizers.Distributed;
using MLNet.Optimizers.Training;
using Spectre.Console;

namespace OptimizerComparisonSample;

/// <summary>The job's ranks: MPI when an MPI launcher started the program, else this process alone.</summary>
internal static class Ranks
{
    /// <summary>True under mpirun/mpiexec: Open MPI sets OMPI_COMM_WORLD_SIZE, MPICH and Intel MPI set PMI_SIZE.</summary>
    public static bool UnderMpi =>
        Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_SIZE") is not null || Environment.GetEnvironmentVariable("PMI_SIZE") is not null;

    /// <summary>
    /// The MPI communicator under a launcher (every rank but 0 then prints nothing), else <see cref="SingleProcessCommunicator"/>.
    /// </summary>
    public static ICommunicator Start()
    {
        if (!UnderMpi)
        {
            return SingleProcessCommunicator.Instance;
        }

        var mpi = MpiCommunicator.Initialize();
        if (mpi.Rank != 0)
        {
            Console.SetOut(TextWriter.Null);
            AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(TextWriter.Null) });
        }

        return mpi;
    }

    /// <summary>
    /// Ends the job: MPI_Finalize after a success; after a failure MPI_Abort, because a rank that failed alone leaves the others
    /// waiting in their next collective call.
    /// </summary>
    public static int Stop(ICommunicator communicator, int exitCode)
    {
        if (communicator is MpiCommunicator mpi)
        {
            if (exitCode != 0 && mpi.Size > 1)
            {
                mpi.Abort(exitCode);
            }

            mpi.Dispose();
        }

        return exitCode;
    }

    /// <summary>Rank 0's <paramref name="value"/> on every rank: decisions taken from a clock must be the same everywhere.</summary>
    public static TimeSpan FromRankZero(ICommunicator communicator, TimeSpan value)
    {
        double[] ticks = [value.Ticks];
        communicator.Broadcast(ticks, root: 0);
        return TimeSpan.FromTicks((long)ticks[0]);
    }
}
