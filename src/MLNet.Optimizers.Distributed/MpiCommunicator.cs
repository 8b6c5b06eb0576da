using MLNet.Optimizers.Internal;
using MLNet.Optimizers.Training;

namespace MLNet.Optimizers.Distributed;

/// <summary>
/// An <see cref="ICommunicator"/> over MPI's world communicator: the processes started by <c>mpirun -np N</c> are ranks
/// 0 … N−1, and <see cref="AllreduceSum"/> is <c>MPI_Allreduce(MPI_IN_PLACE, …, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD)</c>.
/// </summary>
/// <remarks>
/// <para>It binds to the system's MPI library at run time (Open MPI's <c>libmpi.so.40</c>, else MPICH's <c>libmpich.so.12</c> or
/// <c>libmpi.so.12</c>; or the file named by the environment variable <c>MLNET_OPTIMIZERS_MPI_LIBRARY</c>): no MPI package is
/// referenced, and the same build runs with either implementation.</para>
/// <para>MPI can be initialised once per process and must be finalised before the process exits, so create one communicator at
/// the start of <c>Main</c> with <c>using var mpi = MpiCommunicator.Initialize();</c>. Started without <c>mpirun</c>, the process
/// is a job of one rank. The thread level requested is <c>MPI_THREAD_SERIALIZED</c>: calls may come from any thread, one at a time.</para>
/// </remarks>
public sealed unsafe class MpiCommunicator : ICommunicator, IDisposable
{
    private static int s_initializations;
    private readonly MpiLibrary _mpi;
    private bool _disposed;

    private MpiCommunicator(MpiLibrary mpi)
    {
        _mpi = mpi;
        int initialized, provided, rank, size;
        mpi.Check(mpi.Initialized(&initialized), "MPI_Initialized");
        if (initialized != 0)
        {
            throw new InvalidOperationException("MPI is already initialised in this process; create one MpiCommunicator per process.");
        }

        mpi.Check(mpi.InitThread(null, null, MpiLibrary.ThreadSerialized, &provided), "MPI_Init_thread");
        if (provided < MpiLibrary.ThreadSerialized)
        {
            mpi.Finalize();
            throw new NotSupportedException(
                $"{mpi.Implementation} ({mpi.Name}) provides MPI thread level {provided}; MPI_THREAD_SERIALIZED ({MpiLibrary.ThreadSerialized}) " +
                "is needed because .NET may resume work on another thread. Use an MPI build with thread support.");
        }

        mpi.Check(mpi.CommRank(mpi.CommWorld, &rank), "MPI_Comm_rank");
        mpi.Check(mpi.CommSize(mpi.CommWorld, &size), "MPI_Comm_size");
        Rank = rank;
        Size = size;
        Library = $"{mpi.LibraryVersion()} ({mpi.Name})";
        EnsureLauncherAgrees(size);
    }

    /// <summary>
    /// The launchers tell each process the job size (Open MPI's mpirun: OMPI_COMM_WORLD_SIZE; MPICH's Hydra: PMI_SIZE). A library
    /// of the other implementation does not understand that launcher and starts each process as a job of one, which would
    /// silently train N separate models; stop with an explanation instead.
    /// </summary>
    private void EnsureLauncherAgrees(int size)
    {
        foreach (string variable in (string[])["OMPI_COMM_WORLD_SIZE", "PMI_SIZE"])
        {
            if (int.TryParse(Environment.GetEnvironmentVariable(variable), out int launched) && launched != size)
            {
                _mpi.Finalize();
                throw new InvalidOperationException(
                    $"The launcher started {launched} processes ({variable} = {launched}) but {Library} sees a job of {size}: the launcher " +
                    $"(mpirun/mpiexec) and the MPI library come from different implementations. Use the mpirun of the same MPI, or set " +
                    $"{MpiLibrary.LibraryVariable} to the library that matches the launcher (Open MPI: libmpi.so.40; MPICH: libmpich.so.12).");
            }
        }
    }

    /// <summary>
    /// Loads the system's MPI library and initialises MPI (<c>MPI_Init_thread</c>, <c>MPI_THREAD_SERIALIZED</c>); every rank of the
    /// job must call it. Dispose the communicator (<c>MPI_Finalize</c>) before the process exits.
    /// </summary>
    /// <returns>This process's communicator.</returns>
    /// <exception cref="DllNotFoundException">No MPI library was found; the message lists the names tried and the install line.</exception>
    /// <exception cref="InvalidOperationException">MPI was already initialised in this process (MPI allows it once).</exception>
    public static MpiCommunicator Initialize()
    {
        if (Interlocked.Increment(ref s_initializations) != 1)
        {
            throw new InvalidOperationException(
                "MpiCommunicator.Initialize may be called once per process: MPI cannot be initialised again, even after MPI_Finalize.");
        }

        return new MpiCommunicator(MpiLibrary.Load());
    }

    /// <inheritdoc/>
    public int Rank { get; }

    /// <inheritdoc/>
    public int Size { get; }

    /// <summary>The MPI library in use: its version line and file, e.g. <c>Open MPI v4.1.4, … (libmpi.so.40)</c>.</summary>
    public string Library { get; }

    /// <inheritdoc/>
    public void AllreduceSum(Span<double> values)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        fixed (double* buffer = values)
        {
            _mpi.Check(_mpi.Allreduce(_mpi.InPlace, buffer, values.Length, _mpi.Double, _mpi.Sum, _mpi.CommWorld), "MPI_Allreduce");
        }
    }

    /// <inheritdoc/>
    public void Broadcast(Span<double> values, int root)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Check.Index(root, Size, nameof(root));
        fixed (double* buffer = values)
        {
            _mpi.Check(_mpi.Bcast(buffer, values.Length, _mpi.Double, root, _mpi.CommWorld), "MPI_Bcast");
        }
    }

    /// <inheritdoc/>
    public void Barrier()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _mpi.Check(_mpi.Barrier(_mpi.CommWorld), "MPI_Barrier");
    }

    /// <summary>
    /// Ends every rank of the job at once (<c>MPI_Abort</c>) with <paramref name="exitCode"/>: what a rank should do when it fails
    /// alone, since the others would otherwise wait for it in their next collective call. Does not return.
    /// </summary>
    /// <param name="exitCode">The exit code <c>mpirun</c> reports.</param>
    public void Abort(int exitCode)
    {
        _mpi.Abort(_mpi.CommWorld, exitCode);
        Environment.Exit(exitCode); // not reached: MPI_Abort ends the process
    }

    /// <summary>
    /// Runs <paramref name="body"/>, this rank's work; when it throws (or an exception goes unhandled on another thread while it
    /// runs), writes <c>rank r of n failed: Type: message</c> and the stack trace to standard error and ends every rank of the
    /// job with <c>MPI_Abort</c>(<paramref name="exitCode"/>). Without it, a rank that fails alone leaves the others waiting
    /// forever in their next collective call (disposing the communicator does not help: <c>MPI_Finalize</c> is collective too).
    /// </summary>
    /// <remarks>In a job of one rank nobody waits: the exception is written the same way, then rethrown.</remarks>
    /// <param name="body">This rank's work, e.g. the whole program between <see cref="Initialize"/> and <see cref="Dispose"/>.</param>
    /// <param name="exitCode">The exit code <c>mpirun</c> reports after a failure; not 0.</param>
    public void RunOrAbort(Action body, int exitCode = 1)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (exitCode == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(exitCode), "exitCode must not be 0: it is what mpirun reports after a failure.");
        }

        UnhandledExceptionEventHandler onOtherThread = (_, e) => Fail(e.ExceptionObject as Exception, exitCode);
        AppDomain.CurrentDomain.UnhandledException += onOtherThread;
        try
        {
            body();
        }
        catch (Exception e) when (Size > 1)
        {
            Fail(e, exitCode);
        }
        catch (Exception e)
        {
            Report(e);
            throw;
        }
        finally
        {
            AppDomain.CurrentDomain.UnhandledException -= onOtherThread;
        }
    }

    private void Fail(Exception? error, int exitCode)
    {
        Report(error);
        if (Size > 1)
        {
            Abort(exitCode);
        }
    }

    private void Report(Exception? error)
    {
        Console.Error.WriteLine($"rank {Rank} of {Size} failed: {error?.GetType().Name}: {error?.Message}{Environment.NewLine}{error?.StackTrace}");
        Console.Error.Flush();
    }

    /// <summary>Finalises MPI (<c>MPI_Finalize</c>, itself collective); the communicator cannot be used afterwards.</summary>
    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _mpi.Check(_mpi.Finalize(), "MPI_Finalize");
        }
    }

    /// <summary>E.g. <c>MpiCommunicator(rank 0 of 2, Open MPI v4.1.4 …)</c>.</summary>
    public override string ToString() => $"MpiCommunicator(rank {Rank} of {Size}, {Library})";
}
