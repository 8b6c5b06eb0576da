using System.Runtime.InteropServices;
using System.Text;

namespace MLNet.Optimizers.Distributed;

/// <summary>
/// The system's MPI library, found at run time, and the few of its functions and handles that <see cref="MpiCommunicator"/>
/// calls. Open MPI and MPICH share the C function signatures but not the handle representation: Open MPI's
/// <c>MPI_COMM_WORLD</c>, <c>MPI_DOUBLE</c> and <c>MPI_SUM</c> are the addresses of exported objects, MPICH's are int constants
/// from its <c>mpi.h</c>; and <c>MPI_IN_PLACE</c> is <c>(void*)1</c> in Open MPI but <c>(void*)-1</c> in MPICH.
/// </summary>
/// <remarks>
/// Handles are passed as <see cref="nint"/> for both: MPICH's are positive 32-bit values, and on the 64-bit ABIs .NET runs
/// on (x64 System V and Windows, Arm64) an int argument travels in its own register (or 8-byte stack slot) whose upper half the
/// callee ignores, so one set of function-pointer types serves both.
/// </remarks>
internal sealed unsafe class MpiLibrary
{
    /// <summary>An environment variable naming the MPI library to load (a file name or full path) instead of searching.</summary>
    internal const string LibraryVariable = "MLNET_OPTIMIZERS_MPI_LIBRARY";

    /// <summary>The library names searched, in order: Open MPI 3 to 5; MPICH 3 and 4 (and MPICH-ABI libraries such as Intel MPI's).</summary>
    internal static readonly string[] DefaultLibraryNames = ["libmpi.so.40", "libmpich.so.12", "libmpi.so.12"];

    /// <summary>The install line printed when no library is found.</summary>
    internal const string InstallHint =
        "Install Open MPI (Debian/Ubuntu: apt-get install -y openmpi-bin; Fedora: dnf install openmpi; macOS: brew install open-mpi) " +
        "or MPICH, or set " + LibraryVariable + " to the path of the MPI library.";

    // MPI_THREAD_SERIALIZED and MPI_SUCCESS have the same values in both implementations' mpi.h.
    internal const int ThreadSerialized = 2;
    private const int Success = 0;

    // MPICH's handles (mpi.h of MPICH 3 and 4; the MPICH ABI).
    private const int MpichCommWorld = 0x44000000;
    private const int MpichDouble = 0x4c00080b;
    private const int MpichSum = 0x58000003;

    private MpiLibrary(string name, nint library)
    {
        Name = name;
        InitThread = (delegate* unmanaged<int*, byte***, int, int*, int>)Function(library, "MPI_Init_thread");
        Initialized = (delegate* unmanaged<int*, int>)Function(library, "MPI_Initialized");
        Finalized = (delegate* unmanaged<int*, int>)Function(library, "MPI_Finalized");
        Finalize = (delegate* unmanaged<int>)Function(library, "MPI_Finalize");
        CommRank = (delegate* unmanaged<nint, int*, int>)Function(library, "MPI_Comm_rank");
        CommSize = (delegate* unmanaged<nint, int*, int>)Function(library, "MPI_Comm_size");
        Allreduce = (delegate* unmanaged<void*, void*, int, nint, nint, nint, int>)Function(library, "MPI_Allreduce");
        Bcast = (delegate* unmanaged<void*, int, nint, int, nint, int>)Function(library, "MPI_Bcast");
        Barrier = (delegate* unmanaged<nint, int>)Function(library, "MPI_Barrier");
        Abort = (delegate* unmanaged<nint, int, int>)Function(library, "MPI_Abort");
        _errorString = (delegate* unmanaged<int, byte*, int*, int>)Function(library, "MPI_Error_string");
        _libraryVersion = (delegate* unmanaged<byte*, int*, int>)Function(library, "MPI_Get_library_version");
        if (NativeLibrary.TryGetExport(library, "ompi_mpi_comm_world", out nint commWorld))
        {
            Implementation = "Open MPI";
            CommWorld = commWorld;
            Double = Function(library, "ompi_mpi_double");
            Sum = Function(library, "ompi_mpi_op_sum");
            InPlace = (void*)1;
        }
        else
        {
            Implementation = "MPICH";
            CommWorld = MpichCommWorld;
            Double = MpichDouble;
            Sum = MpichSum;
            InPlace = (void*)-1;
        }
    }

    /// <summary>The library name (or path) that was loaded.</summary>
    public string Name { get; }

    /// <summary>"Open MPI" or "MPICH", from the handle representation the library uses.</summary>
    public string Implementation { get; }

    /// <summary>MPI_COMM_WORLD.</summary>
    public nint CommWorld { get; }

    /// <summary>MPI_DOUBLE.</summary>
    public nint Double { get; }

    /// <summary>MPI_SUM.</summary>
    public nint Sum { get; }

    /// <summary>MPI_IN_PLACE.</summary>
    public void* InPlace { get; }

    /// <summary>int MPI_Init_thread(int* argc, char*** argv, int required, int* provided).</summary>
    public delegate* unmanaged<int*, byte***, int, int*, int> InitThread { get; }

    /// <summary>int MPI_Initialized(int* flag).</summary>
    public delegate* unmanaged<int*, int> Initialized { get; }

    /// <summary>int MPI_Finalized(int* flag).</summary>
    public delegate* unmanaged<int*, int> Finalized { get; }

    /// <summary>int MPI_Finalize(void).</summary>
    public delegate* unmanaged<int> Finalize { get; }

    /// <summary>int MPI_Comm_rank(MPI_Comm comm, int* rank).</summary>
    public delegate* unmanaged<nint, int*, int> CommRank { get; }

    /// <summary>int MPI_Comm_size(MPI_Comm comm, int* size).</summary>
    public delegate* unmanaged<nint, int*, int> CommSize { get; }

    /// <summary>int MPI_Allreduce(const void* sendbuf, void* recvbuf, int count, MPI_Datatype, MPI_Op, MPI_Comm).</summary>
    public delegate* unmanaged<void*, void*, int, nint, nint, nint, int> Allreduce { get; }

    /// <summary>int MPI_Bcast(void* buffer, int count, MPI_Datatype, int root, MPI_Comm).</summary>
    public delegate* unmanaged<void*, int, nint, int, nint, int> Bcast { get; }

    /// <summary>int MPI_Barrier(MPI_Comm).</summary>
    public delegate* unmanaged<nint, int> Barrier { get; }

    /// <summary>int MPI_Abort(MPI_Comm, int errorcode).</summary>
    public delegate* unmanaged<nint, int, int> Abort { get; }

    private readonly delegate* unmanaged<int, byte*, int*, int> _errorString;
    private readonly delegate* unmanaged<byte*, int*, int> _libraryVersion;

    /// <summary>
    /// Loads the library named by <see cref="LibraryVariable"/> when it is set, otherwise the first of
    /// <see cref="DefaultLibraryNames"/> that the system's loader finds.
    /// </summary>
    /// <exception cref="DllNotFoundException">None was found; the message lists the names tried and how to install MPI.</exception>
    public static MpiLibrary Load() =>
        Load(Environment.GetEnvironmentVariable(LibraryVariable) is { Length: > 0 } path ? [path] : DefaultLibraryNames);

    /// <summary>Loads the first of <paramref name="names"/> that the system's loader finds.</summary>
    /// <param name="names">Library file names or paths, tried in order.</param>
    /// <exception cref="DllNotFoundException">None was found; the message lists them.</exception>
    internal static MpiLibrary Load(IReadOnlyList<string> names)
    {
        foreach (string name in names)
        {
            if (NativeLibrary.TryLoad(name, out nint library))
            {
                return new MpiLibrary(name, library);
            }
        }

        throw new DllNotFoundException(
            $"No MPI library was found; tried {string.Join(", ", names)} (the system's library search path, LD_LIBRARY_PATH included). {InstallHint}");
    }

    /// <summary>Throws unless an MPI call returned MPI_SUCCESS; the message names the call and gives MPI's own error text.</summary>
    /// <param name="code">The call's return value.</param>
    /// <param name="call">The MPI function, e.g. "MPI_Allreduce".</param>
    /// <exception cref="InvalidOperationException">The call failed.</exception>
    public void Check(int code, string call)
    {
        if (code != Success)
        {
            throw new InvalidOperationException($"{call} failed with MPI error {code}: {ErrorText(code)}");
        }
    }

    /// <summary>MPI_Get_library_version's text, e.g. "Open MPI v4.1.4, …": the first line, with runs of blanks as one space.</summary>
    public string LibraryVersion()
    {
        // MPI_MAX_LIBRARY_VERSION_STRING: 256 in Open MPI, 8192 in MPICH.
        var buffer = new byte[8192];
        int length;
        fixed (byte* text = buffer)
        {
            Check(_libraryVersion(text, &length), "MPI_Get_library_version");
        }

        string version = Encoding.UTF8.GetString(buffer, 0, Math.Clamp(length, 0, buffer.Length)).TrimEnd('\0');
        return string.Join(' ', version.Split('\n', 2)[0].Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries));
    }

    private string ErrorText(int code)
    {
        // MPI_MAX_ERROR_STRING: 256 in Open MPI, 512 in MPICH.
        var buffer = new byte[1024];
        int length;
        fixed (byte* text = buffer)
        {
            if (_errorString(code, text, &length) != Success)
            {
                return "(no description)";
            }
        }

        return Encoding.UTF8.GetString(buffer, 0, Math.Clamp(length, 0, buffer.Length)).TrimEnd('\0');
    }

    private nint Function(nint library, string name) =>
        NativeLibrary.TryGetExport(library, name, out nint address)
            ? address
            : throw new EntryPointNotFoundException($"The MPI library {Name} does not export {name}; it is not an MPI 3 library.");
}
