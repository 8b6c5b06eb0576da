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

    private static string Format(double[] values) => string.Join(',', values.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));
}
