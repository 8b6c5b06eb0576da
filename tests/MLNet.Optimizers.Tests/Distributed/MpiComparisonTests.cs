using MLNet.Optimizers.MpiHost;
using static MLNet.Optimizers.Tests.Trainers.TrainerTestData;

namespace MLNet.Optimizers.Tests.Distributed;

/// <summary>
/// The optimizer comparison under a real <c>mpirun -np 2</c>: the ranks share the trials, and both must end with the leaderboard
/// this process computes alone (the same code, tests/MLNet.Optimizers.MpiHost/DistributedComparison.cs, compiled into both).
/// </summary>
[Collection(MpiJobs.Name)]
public class MpiComparisonTests
{
    [MpiFact]
    public void Two_mpirun_ranks_give_the_single_process_leaderboard()
    {
        string[] lines = MpiRun.LinePerRank(MpiRun.Host(2, "compare", PathOf("breast_cancer")), 2);
        string expected = DistributedComparison.Leaderboard(PathOf("breast_cancer"), SingleProcessCommunicator.Instance);

        Assert.Contains("|Diverged|", expected, StringComparison.Ordinal);
        Assert.Equal(expected, lines[0]);
        Assert.Equal(expected, lines[1]);
    }
}
