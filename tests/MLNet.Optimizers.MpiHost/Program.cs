using System.Globalization;
using MLNet.Optimizers.Distributed;
using MLNet.Optimizers.MpiHost;
using MLNet.Optimizers.Training;

// One rank of an integration test. Every rank prints its lines prefixed with "rank r:", so the test can tell them apart in
// mpirun's merged output; RunOrAbort prints a failure to stderr and ends the whole job with MPI_Abort, so no rank waits forever.
using var mpi = MpiCommunicator.Initialize();
mpi.RunOrAbort(() =>
{
    switch (args.FirstOrDefault())
    {
        case "collectives":
            Collectives(mpi);
            break;
        case "fit" when args.Length == 3:
            var (parameters, objective) = DistributedFits.Fit(args[1], args[2], mpi);
            WriteLine($"rank {mpi.Rank}: objective {objective.ToString("R", CultureInfo.InvariantCulture)} parameters {Format([.. parameters.Select(p => (double)p)])}");
            break;
        case "compare" when args.Length == 2:
            WriteLine($"rank {mpi.Rank}: {DistributedComparison.Leaderboard(args[1], mpi)}");
            break;
        case "fail" when args.Length == 3:
            FailOnOneRank(mpi, int.Parse(args[2], CultureInfo.InvariantCulture), onAnotherThread: args[1] == "thread");
            break;
        default:
            throw new ArgumentException($"Unknown command '{string.Join(' ', args)}'; expected: collectives, fit NAME CSV, compare CSV, or fail main|thread RANK.");
    }
}, exitCode: 3);

return 0;

// Allreduce of [r + 1, r/2, −r], a broadcast from the last rank, an all-gather and a barrier.
static void Collectives(MpiCommunicator mpi)
{
    int r = mpi.Rank;
    double[] sum = [r + 1, 0.5 * r, -r];
    mpi.AllreduceSum(sum);
    double[] broadcast = mpi.Rank == mpi.Size - 1 ? [Math.PI, r] : [0, 0];
    mpi.Broadcast(broadcast, root: mpi.Size - 1);
    double[] gathered = mpi.AllGather([r * 10.0]);
    mpi.Barrier();
    WriteLine($"rank {r}: size {mpi.Size} sum {Format(sum)} broadcast {Format(broadcast)} gather {Format(gathered)} library {mpi.Library}");
}

// One rank throws (on its main thread, or on a thread of its own while its main thread sleeps) while the others wait in an
// Allreduce that it never joins: without RunOrAbort the job would hang.
static void FailOnOneRank(MpiCommunicator mpi, int failing, bool onAnotherThread)
{
    if (mpi.Rank == failing)
    {
        string message = $"deliberate failure on rank {failing}";
        if (!onAnotherThread)
        {
            throw new InvalidOperationException(message);
        }

        new Thread(() => throw new InvalidOperationException(message)).Start();
        Thread.Sleep(Timeout.Infinite);
    }

    mpi.AllreduceSum(new double[1]);
    WriteLine($"rank {mpi.Rank}: not aborted");
}

// One write of the whole line: Console.WriteLine may split a line over several writes, and mpirun then interleaved another
// rank's line into the middle of it (seen under CPU load); a single write below the pipe's atomic size reaches mpirun whole.
static void WriteLine(string line)
{
    using var stdout = Console.OpenStandardOutput();
    stdout.Write(System.Text.Encoding.UTF8.GetBytes(line + "\n"));
    stdout.Flush();
}

static string Format(double[] values) => string.Join(',', values.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));
