using System.Globalization;
using MLNet.Optimizers.Distributed;

namespace MLNet.Optimizers.Tests.Distributed;

/// <summary>The MPI binding: finding the library, and the collectives across real MPI processes.</summary>
[Collection(MpiJobs.Name)]
public class MpiCommunicatorTests
{
    [Fact]
    public void Missing_library_error_lists_every_name_tried_and_the_install_line()
    {
        var error = Assert.Throws<DllNotFoundException>(() => MpiLibrary.Load(["libno-such-mpi.so.40", "libno-such-mpich.so.12"]));

        Assert.Contains("libno-such-mpi.so.40, libno-such-mpich.so.12", error.Message);
        Assert.Contains("apt-get install -y openmpi-bin", error.Message);
        Assert.Contains(MpiLibrary.LibraryVariable, error.Message);
    }

    [MpiTheory]
    [InlineData(2)]
    [InlineData(3)]
    public void Collectives_across_mpirun_ranks_give_the_sums_broadcast_and_gather_of_every_rank(int ranks)
    {
        string[] lines = MpiRun.LinePerRank(MpiRun.Host(ranks, "collectives"), ranks);

        // Small multiples of 1/2 add exactly in any order, so MPI's reduction order cannot matter here.
        double[] sum = [0, 0, 0];
        for (int r = 0; r < ranks; r++)
        {
            sum[0] += r + 1;
            sum[1] += 0.5 * r;
            sum[2] += -r;
        }

        string expected = $"size {ranks} sum {Format(sum)} broadcast {Format([Math.PI, ranks - 1])} " +
            $"gather {Format(Enumerable.Range(0, ranks).Select(r => r * 10.0).ToArray())} library ";
        foreach (string line in lines)
        {
            Assert.StartsWith(expected, line);
        }
    }

    [MpiTheory]
    [InlineData("main")]
    [InlineData("thread")]
    public void A_rank_that_throws_under_RunOrAbort_ends_the_job_instead_of_leaving_the_others_waiting(string where)
    {
        // Rank 1 throws (on its main thread, or on a thread of its own) while rank 0 waits in an Allreduce that rank 1 never
        // joins. The host's five-minute timeout is only the safety net that fails the test if the job hangs.
        ProcessOutcome run = MpiRun.Host(2, "fail", where, "1");

        Assert.True(run.ExitCode == 3, $"mpirun exited with {run.ExitCode}, expected the abort code 3.\n{run.Output}\n{run.Error}");
        Assert.Contains("rank 1 of 2 failed: InvalidOperationException: deliberate failure on rank 1", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("not aborted", run.Output, StringComparison.Ordinal);
    }

    private static string Format(double[] values) => string.Join(',', values.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));
}
